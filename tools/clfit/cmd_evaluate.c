/* clfit evaluate MODEL DATA_DIR: loss, accuracy and a confusion matrix of
 * a saved model on a folder of class subfolders. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "clfit/data.h"
#include "clfit/device.h"
#include "clfit/fit.h"
#include "clfit/io.h"
#include "clfit/log.h"
#include "clfit/plot.h"

#include "args.h"
#include "commands.h"

typedef struct eval_opts {
    const char *model_path, *data_dir, *device, *plot;
    int batch, threads;
    clf_bad_image_policy bad;
    bool verbose;
} eval_opts;

enum { OPT_DEVICE = 256, OPT_BATCH, OPT_PLOT, OPT_THREADS, OPT_BAD_IMAGE, OPT_VERBOSE };

static const struct option eval_options[] = {
    {"device", required_argument, NULL, OPT_DEVICE},
    {"batch-size", required_argument, NULL, OPT_BATCH},
    {"plot", required_argument, NULL, OPT_PLOT},
    {"threads", required_argument, NULL, OPT_THREADS},
    {"on-bad-image", required_argument, NULL, OPT_BAD_IMAGE},
    {"verbose", no_argument, NULL, OPT_VERBOSE},
    {NULL, 0, NULL, 0},
};

static const char *const bad_image_names[] = {"skip", "fail", NULL};

static bool set_option(eval_opts *o, int c, const char *v)
{
    long n;
    int choice;

    switch (c) {
    case OPT_DEVICE: o->device = v; return true;
    case OPT_PLOT:
        o->plot = v;
        if (!*v)
            usage_error("--plot", "needs a file name");
        return *v != '\0';
    case OPT_BATCH:
        if (!parse_int("--batch-size", v, 1, 65536, &n))
            return false;
        o->batch = (int)n;
        return true;
    case OPT_THREADS:
        if (!parse_int("--threads", v, 1, 1024, &n))
            return false;
        o->threads = (int)n;
        return true;
    case OPT_BAD_IMAGE:
        if (!parse_choice("--on-bad-image", v, bad_image_names, &choice))
            return false;
        o->bad = (clf_bad_image_policy)choice;
        return true;
    case OPT_VERBOSE: o->verbose = true; return true;
    default: return false;
    }
}

static int parse_eval(int argc, char **argv, eval_opts *o)
{
    int c;

    memset(o, 0, sizeof *o);
    o->batch = 32; /* Keras's evaluate() default */
    optind = 1;
    while ((c = next_option(argc, argv, eval_options)) != -1)
        if (c == '?' || !set_option(o, c, optarg))
            return EXIT_USAGE;
    if (argc - optind != 2)
        return usage_error("evaluate", "takes MODEL (a .safetensors file clfit saved) and "
                                       "DATA_DIR (a folder of class subfolders)");
    o->model_path = argv[optind];
    o->data_dir = argv[optind + 1];
    return 0;
}

/* Everything an evaluation holds, released in one place. */
typedef struct eval_run {
    clf_backend *be;
    clf_model *model;
    clf_model_info info;
    clf_dataset *ds;
    clf_loader *ld;
    size_t *all;
    int32_t *map;                /* dataset label -> model label */
    uint64_t *confusion;
    clf_metrics mt;
} eval_run;

static void release(eval_run *r)
{
    clf_loader_free(r->ld);
    clf_dataset_free(r->ds);
    clf_model_free(r->model);
    clf_model_info_free(&r->info);
    clf_backend_close(r->be);
    free(r->all);
    free(r->map);
    free(r->confusion);
}

/* Each class folder must be one of the model's classes (by name). */
static clf_status map_classes(eval_run *r)
{
    int n = clf_dataset_classes(r->ds), missing = 0;

    r->map = malloc((size_t)n * sizeof *r->map);
    if (!r->map)
        return CLF_ERR_NOMEM;
    for (int i = 0; i < n; i++) {
        const char *name = clf_dataset_class_name(r->ds, i);

        r->map[i] = -1;
        for (int k = 0; k < r->info.classes; k++)
            if (strcmp(name, r->info.class_names[k]) == 0)
                r->map[i] = k;
        if (r->map[i] < 0) {
            CLF_LOG_ERROR("class folder '%s' is not one of the model's %d classes", name,
                          r->info.classes);
            missing++;
        }
    }
    return missing ? CLF_ERR_DATA : CLF_OK;
}

static clf_status load(const eval_opts *o, eval_run *r)
{
    clf_data_opts d;
    clf_optimizer opt;
    clf_status st = clf_model_load(o->model_path, &r->model, &r->info);

    if (st != CLF_OK)
        return st;
    printf("Model: %s (%d classes, %dx%d images, preprocess %s)\n", o->model_path,
           r->info.classes, r->info.height, r->info.width,
           clf_preprocess_name(r->info.preprocess));
    clf_optimizer_default(&opt, CLF_OPT_ADAM); /* compile needs one; it never steps */
    st = clf_model_compile(r->model, r->be, &opt, r->info.preprocess, o->batch);
    if (st != CLF_OK)
        return st;

    clf_data_opts_default(&d);
    d.height = r->info.height;
    d.width = r->info.width;
    d.on_bad_image = o->bad;
    d.threads = o->threads;
    st = clf_dataset_load(o->data_dir, &d, &r->ds); /* it logs what it found */
    return st == CLF_OK ? map_classes(r) : st;
}

static clf_status run(const eval_opts *o, eval_run *r)
{
    size_t n = clf_dataset_size(r->ds), k = (size_t)r->info.classes;
    clf_status st;

    r->all = malloc(n * sizeof *r->all);
    r->confusion = calloc(k * k, sizeof *r->confusion);
    if (!r->all || !r->confusion)
        return CLF_ERR_NOMEM;
    for (size_t i = 0; i < n; i++)
        r->all[i] = i;
    st = clf_loader_create(r->ds, r->all, n, o->batch, false, 0, &r->ld);
    if (st == CLF_OK)
        st = clf_evaluate_confusion(r->model, r->ld, r->map, clf_dataset_classes(r->ds),
                                    &r->mt, r->confusion);
    return st;
}

/* Rows: true class; columns: predicted class, numbered; last, recall. */
static void print_confusion(const eval_run *r)
{
    int k = r->info.classes, width = 5;

    for (int i = 0; i < k; i++)
        for (int j = 0; j < k; j++) {
            int digits = snprintf(NULL, 0, "%llu",
                                  (unsigned long long)r->confusion[i * k + j]);

            width = digits + 1 > width ? digits + 1 : width;
        }
    printf("Confusion matrix (rows: true class, columns: predicted class):\n%27s", "");
    for (int j = 0; j < k; j++)
        printf("%*d", width, j);
    printf("  recall\n");
    for (int i = 0; i < k; i++) {
        uint64_t total = 0;

        printf("%4d %-22.22s", i, r->info.class_names[i]);
        for (int j = 0; j < k; j++) {
            printf("%*llu", width, (unsigned long long)r->confusion[i * k + j]);
            total += r->confusion[i * k + j];
        }
        if (total)
            printf("  %.4f\n", (double)r->confusion[i * k + i] / (double)total);
        else
            printf("  -\n");
    }
}

static clf_status report(const eval_opts *o, const eval_run *r)
{
    char title[512];

    printf("%zu images: loss: %.4f - accuracy: %.4f\n", r->mt.count,
           clf_metrics_loss(&r->mt), clf_metrics_accuracy(&r->mt));
    print_confusion(r);
    if (!o->plot)
        return CLF_OK;
    snprintf(title, sizeof title, "%s on %s: accuracy %.4f", o->model_path, o->data_dir,
             clf_metrics_accuracy(&r->mt));
    if (clf_plot_confusion(o->plot, r->confusion, r->info.classes,
                           (const char *const *)r->info.class_names, title) != CLF_OK)
        return CLF_ERR_IO;
    printf("Confusion matrix plotted to %s.\n", o->plot);
    return CLF_OK;
}

int cmd_evaluate(int argc, char **argv)
{
    eval_opts o;
    eval_run r;
    clf_status st;
    int rc = parse_eval(argc, argv, &o);

    if (rc)
        return rc;
    if (o.verbose)
        clf_log_set_level(CLF_LOG_DEBUG);
    memset(&r, 0, sizeof r);
    r.be = open_device(o.device);
    if (!r.be)
        return 1;
    st = load(&o, &r);
    if (st == CLF_OK)
        st = run(&o, &r);
    if (st == CLF_OK)
        st = report(&o, &r);
    release(&r);
    if (st != CLF_OK)
        fprintf(stderr, "clfit: evaluate failed: %s\n", clf_status_message(st));
    return st == CLF_OK ? 0 : 1;
}
