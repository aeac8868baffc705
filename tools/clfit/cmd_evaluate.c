/* clfit evaluate MODEL DATA_DIR: loss, accuracy and a confusion matrix of
 * a saved model on a folder of class subfolders, or on one subset of it
 * split as clfit train splits it (--subset, --split, --seed). */
#include <math.h>
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
#include "interrupt.h"
#include "progress.h"
#include "text.h"

typedef struct eval_opts {
    const char *model_path, *data_dir, *device, *plot, *image_cache;
    int batch, threads;
    clf_bad_image_policy bad;
    bool verbose;
    int subset;                  /* SUBSET_ALL, or the split's part: 0 train .. 2 test */
    const char *split_text;      /* --split as given */
    double split[3];
    int n_split;
    uint64_t seed;
    bool split_set, seed_set;
} eval_opts;

enum { SUBSET_ALL = -1 };

enum {
    OPT_DEVICE = 256, OPT_BATCH, OPT_PLOT, OPT_THREADS, OPT_BAD_IMAGE, OPT_VERBOSE,
    OPT_SUBSET, OPT_SPLIT, OPT_SEED, OPT_IMAGE_CACHE
};

static const struct option eval_options[] = {
    {"device", required_argument, NULL, OPT_DEVICE},
    {"batch-size", required_argument, NULL, OPT_BATCH},
    {"plot", required_argument, NULL, OPT_PLOT},
    {"threads", required_argument, NULL, OPT_THREADS},
    {"on-bad-image", required_argument, NULL, OPT_BAD_IMAGE},
    {"verbose", no_argument, NULL, OPT_VERBOSE},
    {"subset", required_argument, NULL, OPT_SUBSET},
    {"split", required_argument, NULL, OPT_SPLIT},
    {"seed", required_argument, NULL, OPT_SEED},
    {"image-cache", required_argument, NULL, OPT_IMAGE_CACHE},
    {NULL, 0, NULL, 0},
};

static const char *const bad_image_names[] = {"skip", "fail", NULL};
/* --subset; after "all", the parts of --split in order */
static const char *const subset_names[] = {"all", "train", "val", "test", NULL};
static const char *const part_words[] = {"training", "validation", "test"};

static bool set_option(eval_opts *o, int c, const char *v)
{
    long n;
    int choice;

    switch (c) {
    case OPT_DEVICE: o->device = v; return valid_device_spec("--device", v);
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
    case OPT_SUBSET:
        if (!parse_choice("--subset", v, subset_names, &choice))
            return false;
        o->subset = choice - 1; /* "all" is SUBSET_ALL */
        return true;
    case OPT_SPLIT:
        o->split_set = true;
        o->split_text = v;
        return parse_split("--split", v, o->split, &o->n_split);
    case OPT_SEED: o->seed_set = true; return parse_u64("--seed", v, &o->seed);
    case OPT_IMAGE_CACHE: o->image_cache = v; return not_empty("--image-cache", v);
    default: return false;
    }
}

/* --split and --seed choose the subset: they mean nothing without one,
 * and the subset must be a part of the split that holds images. */
static int check_subset(const eval_opts *o)
{
    const char *name;

    if (o->subset == SUBSET_ALL && (o->split_set || o->seed_set))
        return usage_error(o->split_set ? "--split" : "--seed",
                           "chooses the images of --subset; add --subset train, val or test "
                           "(without it evaluate scores every image)");
    if (o->subset == SUBSET_ALL || !o->split_set)
        return 0; /* the model file's own split is checked when it is read */
    name = subset_names[o->subset + 1];
    if (o->subset >= o->n_split || o->split[o->subset] == 0)
        return usage_error("--subset", "the split %s has no %s part; --subset %s needs a "
                           "--split whose %s fraction is above 0, like 0.7,0.2,0.1",
                           o->split_text, part_words[o->subset], name, part_words[o->subset]);
    return 0;
}

/* Files and folders are looked at before the device opens (seconds)
 * and the images load (minutes): a runtime error, exit 1. */
static int check_paths(const eval_opts *o)
{
    if (!readable_file("MODEL", o->model_path)) {
        checkpoint_hint(o->model_path); /* a checkpoint folder given as MODEL */
        return 1;
    }
    if (!readable_dir("DATA_DIR", o->data_dir) || !image_cache_usable(o->image_cache, o->data_dir))
        return 1;
    if (o->plot && (!writable_place("--plot", o->plot, false) ||
                    !outside_data("--plot", o->plot, o->data_dir, false) ||
                    !spares_input("--plot", o->plot, "MODEL", o->model_path)))
        return 1;
    return 0;
}

static int parse_eval(int argc, char **argv, eval_opts *o)
{
    int c, rc;

    memset(o, 0, sizeof *o);
    o->batch = 32; /* Keras's evaluate() default */
    /* the subsets as clfit train makes them by default */
    o->subset = SUBSET_ALL;
    o->split_text = "0.7,0.2,0.1";
    o->split[0] = 0.7, o->split[1] = 0.2, o->split[2] = 0.1;
    o->n_split = 3;
    o->seed = 20;
    optind = 1;
    while ((c = next_option(argc, argv, eval_options)) != -1)
        if (c == '?' || !set_option(o, c, optarg))
            return EXIT_USAGE;
    if (argc - optind != 2)
        return usage_error("evaluate", "takes MODEL (a .safetensors file clfit saved) and "
                                       "DATA_DIR (a folder of class subfolders)");
    o->model_path = argv[optind];
    o->data_dir = argv[optind + 1];
    rc = check_subset(o);
    return rc ? rc : check_paths(o);
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
    progress bar;
    /* the split --subset picks from: --split/--seed, else the model's record */
    double split[3];
    int n_split;
    uint64_t seed;
    char split_text[96];
    const char *split_origin;
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

/* After a folder the model does not know: what it does know, and what to do. */
static void list_model_classes(const eval_run *r)
{
    fprintf(stderr, "clfit: the model's classes (names match exactly, case included):");
    for (int k = 0; k < r->info.classes; k++)
        fprintf(stderr, "%s '%s'", k ? "," : "", r->info.class_names[k]);
    fprintf(stderr, "\nclfit: rename each other class folder to one of these, or move it out "
                    "of the data folder\n");
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
    if (missing)
        list_model_classes(r);
    return missing ? CLF_ERR_DATA : CLF_OK;
}

static bool same_split(const clf_split_record *rec, const double *split, int n)
{
    if (rec->n != n)
        return false;
    for (int i = 0; i < n; i++)
        if (fabs(rec->fractions[i] - split[i]) > 1e-9)
            return false;
    return true;
}

static void split_text(const double *split, int n, char *buf, size_t size)
{
    size_t at = 0;

    buf[0] = '\0';
    for (int i = 0; i < n && at < size; i++)
        at += (size_t)snprintf(buf + at, size - at, "%s%g", i ? "," : "", split[i]);
}

/* The split --subset uses: what the user gave, else what clfit train
 * recorded in the model file, else train's defaults; a given one that
 * differs from the record is warned about (it picks other images). */
static clf_status choose_split(const eval_opts *o, eval_run *r)
{
    const clf_split_record *rec = r->info.has_split ? &r->info.split : NULL;
    int part = o->subset;

    memcpy(r->split, o->split, sizeof r->split);
    r->n_split = o->n_split;
    r->seed = o->seed;
    r->split_origin = o->split_set || o->seed_set ? "as given" : "clfit train's defaults; the "
                                                   "model file records no split";
    if (rec && !o->split_set) {
        memcpy(r->split, rec->fractions, sizeof r->split);
        r->n_split = rec->n;
    }
    if (rec && !o->seed_set)
        r->seed = rec->seed;
    if (rec && !o->split_set && !o->seed_set)
        r->split_origin = "as recorded in the model file";
    split_text(r->split, r->n_split, r->split_text, sizeof r->split_text);
    if (rec && (!same_split(rec, r->split, r->n_split) || rec->seed != r->seed)) {
        char recorded[96];

        split_text(rec->fractions, rec->n, recorded, sizeof recorded);
        CLF_LOG_WARN("the model was trained with --split %s --seed %llu; --subset %s with "
                     "--split %s --seed %llu picks other images, some of which it may have "
                     "trained on (leave out --split and --seed to use the model's)", recorded,
                     (unsigned long long)rec->seed, subset_names[part + 1], r->split_text,
                     (unsigned long long)r->seed);
    }
    if (part >= r->n_split || r->split[part] == 0) {
        CLF_LOG_ERROR("--subset %s: the split %s has no %s part (it was recorded in the "
                      "model file); use --subset with a part that holds images",
                      subset_names[part + 1], r->split_text, part_words[part]);
        return CLF_ERR_ARG;
    }
    return CLF_OK;
}

static clf_status load(const eval_opts *o, eval_run *r)
{
    clf_data_opts d;
    clf_optimizer opt;
    clf_status st = clf_model_load(o->model_path, &r->model, &r->info);

    if (st == CLF_ERR_FORMAT)
        checkpoint_hint(o->model_path);
    if (st != CLF_OK)
        return st;
    printf("Model: %s (%d classes, %dx%d images, preprocess %s)\n", o->model_path,
           r->info.classes, r->info.height, r->info.width,
           clf_preprocess_name(r->info.preprocess));
    /* a --subset the model's split lacks is found before the images load */
    if (o->subset != SUBSET_ALL && (st = choose_split(o, r)) != CLF_OK)
        return st;
    clf_optimizer_default(&opt, CLF_OPT_ADAM); /* compile needs one; it never steps */
    st = clf_model_compile(r->model, r->be, &opt, r->info.preprocess, o->batch);
    if (st != CLF_OK)
        return st;

    clf_data_opts_default(&d);
    d.height = r->info.height;
    d.width = r->info.width;
    d.on_bad_image = o->bad;
    d.threads = o->threads;
    d.cache_dir = o->image_cache;
    st = clf_dataset_load(o->data_dir, &d, &r->ds); /* it logs what it found */
    return st == CLF_OK ? map_classes(r) : st;
}

/* The images to score, r->all[*first ..] on: every one, or one part of
 * the split made as clfit train's make_loaders makes it (same fractions,
 * seed and folder: the same images, in the same order). */
static clf_status choose_images(const eval_opts *o, eval_run *r, size_t *first, size_t *count)
{
    size_t n = clf_dataset_size(r->ds), sizes[3] = {0};
    clf_status st;

    r->all = malloc((n ? n : 1) * sizeof *r->all);
    if (!r->all)
        return CLF_ERR_NOMEM;
    *first = 0;
    *count = n;
    if (o->subset == SUBSET_ALL) {
        for (size_t i = 0; i < n; i++)
            r->all[i] = i;
        printf("Evaluating all %zu images in %s (--subset test scores only the test split "
               "of clfit train).\n", n, o->data_dir);
        return CLF_OK;
    }
    st = clf_split(n, r->split, r->n_split, r->seed, r->all, sizes);
    if (st != CLF_OK)
        return st;
    if (r->info.has_split && r->info.split.images != n)
        CLF_LOG_WARN("the model was trained on a split of %zu images; %s has %zu usable "
                     "images now, so --subset %s picks other images (some may have been "
                     "trained on)", r->info.split.images, o->data_dir, n,
                     subset_names[o->subset + 1]);
    for (int s = 0; s < o->subset; s++)
        *first += sizes[s];
    *count = sizes[o->subset];
    printf("Evaluating the %s subset: %zu of %zu images in %s (split %s, seed %llu, %s).\n",
           subset_names[o->subset + 1], *count, n, o->data_dir, r->split_text,
           (unsigned long long)r->seed, r->split_origin);
    return CLF_OK;
}

static void metrics_text(const clf_metrics *mt, char *text, size_t size)
{
    snprintf(text, size, "loss: %.4f - accuracy: %.4f", clf_metrics_loss(mt),
             clf_metrics_accuracy(mt));
}

/* Keras's evaluate() bar: redrawn on a terminal, its last line kept. */
static void on_batch(void *user, size_t done, size_t batches, const clf_metrics *running)
{
    eval_run *r = user;
    char text[96];
    double seconds = progress_seconds(&r->bar);

    metrics_text(running, text, sizeof text);
    if (done == batches)
        progress_finish(&r->bar, done, seconds, text);
    else
        progress_update(&r->bar, done, seconds, text);
}

static clf_status evaluate_batches(eval_run *r)
{
    clf_eval_callbacks cb = {.user = r, .on_batch = on_batch, .stop = &interrupt_requested};
    clf_status st;

    progress_start(&r->bar, clf_loader_batches(r->ld));
    interrupt_install();
    st = clf_evaluate_confusion(r->model, r->ld, r->map, clf_dataset_classes(r->ds), &r->mt,
                                r->confusion, &cb);
    if (st != CLF_OK && r->bar.live)
        putchar('\n'); /* below the bar that was being redrawn */
    return st;
}

static clf_status run(const eval_opts *o, eval_run *r)
{
    size_t k = (size_t)r->info.classes, first, count;
    clf_status st = choose_images(o, r, &first, &count);

    if (st != CLF_OK)
        return st;
    r->confusion = calloc(k * k, sizeof *r->confusion);
    if (!r->confusion)
        return CLF_ERR_NOMEM;
    st = clf_loader_create(r->ds, r->all + first, count, o->batch, false, 0, &r->ld);
    if (st == CLF_OK)
        st = evaluate_batches(r);
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

        printf("%4d ", i);
        print_name(r->info.class_names[i], 22);
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

/* The last part of path, resolved first ("." names its folder): the
 * plot's title has room for names, not for paths. */
static void last_part(const char *path, char *buf, size_t size)
{
    char *real = realpath(path, NULL);
    const char *p = real ? real : path;
    size_t end = strlen(p), start;

    while (end > 1 && p[end - 1] == '/')
        end--;
    for (start = end; start > 0 && p[start - 1] != '/'; start--)
        ;
    if (start == end) /* "/" */
        start = 0;
    snprintf(buf, size, "%.*s", (int)(end - start), p + start);
    free(real);
}

static clf_status report(const eval_opts *o, const eval_run *r)
{
    char title[512], model[128], data[128], subset[32] = "";

    printf("%zu images: loss: %.4f - accuracy: %.4f\n", r->mt.count,
           clf_metrics_loss(&r->mt), clf_metrics_accuracy(&r->mt));
    print_confusion(r);
    if (!o->plot)
        return CLF_OK;
    last_part(o->model_path, model, sizeof model);
    last_part(o->data_dir, data, sizeof data);
    if (o->subset != SUBSET_ALL)
        snprintf(subset, sizeof subset, " (%s subset)", subset_names[o->subset + 1]);
    /* the accuracy first: a title too long for the page loses its end */
    snprintf(title, sizeof title, "Accuracy %.4f: %s on %s%s", clf_metrics_accuracy(&r->mt),
             model, data, subset);
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
    if (st == CLF_ERR_INTERRUPTED) {
        fprintf(stderr, "clfit: evaluation interrupted; nothing was written\n");
        return EXIT_INTERRUPTED;
    }
    if (st != CLF_OK)
        fprintf(stderr, "clfit: evaluate failed: %s\n", clf_status_message(st));
    return st == CLF_OK ? 0 : 1;
}
