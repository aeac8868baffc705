/* clfit predict MODEL IMAGE...: the top classes of each image. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "clfit/data.h"
#include "clfit/device.h"
#include "clfit/io.h"
#include "clfit/log.h"

#include "args.h"
#include "commands.h"
#include "text.h"

enum { PREDICT_BATCH = 16 };

typedef struct predict_opts {
    const char *model_path, *device;
    char **images;
    int n_images, top;
    bool verbose;
} predict_opts;

enum { OPT_DEVICE = 256, OPT_TOP, OPT_VERBOSE };

static const struct option predict_options[] = {
    {"device", required_argument, NULL, OPT_DEVICE},
    {"top", required_argument, NULL, OPT_TOP},
    {"verbose", no_argument, NULL, OPT_VERBOSE},
    {NULL, 0, NULL, 0},
};

static int parse_predict(int argc, char **argv, predict_opts *o)
{
    int c;
    long n;

    memset(o, 0, sizeof *o);
    o->top = 3;
    optind = 1;
    while ((c = next_option(argc, argv, predict_options)) != -1) {
        if (c == OPT_DEVICE && valid_device_spec("--device", optarg))
            o->device = optarg;
        else if (c == OPT_VERBOSE)
            o->verbose = true;
        else if (c == OPT_TOP && parse_int("--top", optarg, 1, 1000000, &n))
            o->top = (int)n;
        else
            return EXIT_USAGE;
    }
    if (argc - optind < 2)
        return usage_error("predict", "takes MODEL (a .safetensors file clfit saved) and one "
                                      "or more IMAGE files");
    o->model_path = argv[optind];
    o->images = argv + optind + 1;
    o->n_images = argc - optind - 1;
    /* a missing model is found before the device opens (seconds) */
    if (!readable_file("MODEL", o->model_path)) {
        checkpoint_hint(o->model_path); /* a checkpoint folder given as MODEL */
        return 1;
    }
    return 0;
}

/* Everything a prediction run holds. */
typedef struct predict_run {
    clf_backend *be;
    clf_model *model;
    clf_model_info info;
    uint8_t *pixels;             /* PREDICT_BATCH images */
    float *probs;                /* PREDICT_BATCH x classes */
    int *order;                  /* classes, for the top-k */
    const char *names[PREDICT_BATCH];
    int failed;
} predict_run;

static void release(predict_run *r)
{
    clf_model_free(r->model);
    clf_model_info_free(&r->info);
    clf_backend_close(r->be);
    free(r->pixels);
    free(r->probs);
    free(r->order);
}

static clf_status load(const predict_opts *o, predict_run *r)
{
    size_t per, k;
    clf_optimizer opt;
    clf_status st = clf_model_load(o->model_path, &r->model, &r->info);

    if (st == CLF_ERR_FORMAT)
        checkpoint_hint(o->model_path);
    if (st != CLF_OK)
        return st;
    clf_optimizer_default(&opt, CLF_OPT_ADAM); /* compile needs one; it never steps */
    st = clf_model_compile(r->model, r->be, &opt, r->info.preprocess, PREDICT_BATCH);
    if (st != CLF_OK)
        return st;
    per = (size_t)r->info.height * (size_t)r->info.width * 3;
    k = (size_t)r->info.classes;
    r->pixels = malloc(PREDICT_BATCH * per);
    r->probs = malloc(PREDICT_BATCH * k * sizeof *r->probs);
    r->order = malloc(k * sizeof *r->order);
    return r->pixels && r->probs && r->order ? CLF_OK : CLF_ERR_NOMEM;
}

/* One line: the image, then its top classes, most probable first (ties in
 * label order). */
static void print_top(const predict_run *r, const char *image, const float *p, int top)
{
    int k = r->info.classes;

    top = top < k ? top : k;
    for (int i = 0; i < k; i++)
        r->order[i] = i;
    for (int i = 0; i < top; i++)       /* partial selection sort: top is small */
        for (int j = i + 1; j < k; j++)
            if (p[r->order[j]] > p[r->order[i]]) {
                int t = r->order[i];

                r->order[i] = r->order[j];
                r->order[j] = t;
            }
    printf("%s:", image);
    for (int i = 0; i < top; i++) {
        printf("%s ", i ? "," : "");
        print_name(r->info.class_names[r->order[i]], 0);
        printf(" %.4f", (double)p[r->order[i]]);
    }
    printf("\n");
}

static clf_status flush(const predict_opts *o, predict_run *r, int n)
{
    clf_status st;

    if (n == 0)
        return CLF_OK;
    st = clf_model_predict_batch(r->model, r->pixels, n, r->probs);
    for (int i = 0; st == CLF_OK && i < n; i++)
        print_top(r, r->names[i], r->probs + (size_t)i * (size_t)r->info.classes, o->top);
    return st;
}

/* Decodes the images in groups; one that cannot be read is reported (by
 * the loader, on stderr) and counted, and the rest go on. */
static clf_status run(const predict_opts *o, predict_run *r)
{
    size_t per = (size_t)r->info.height * (size_t)r->info.width * 3;
    clf_status st = CLF_OK;
    int n = 0;

    for (int i = 0; st == CLF_OK && i < o->n_images; i++) {
        if (clf_image_load(o->images[i], r->info.height, r->info.width,
                           r->pixels + (size_t)n * per) != CLF_OK) {
            fprintf(stderr, "clfit: predict: %s skipped (see above)\n", o->images[i]);
            r->failed++;
            continue;
        }
        r->names[n++] = o->images[i];
        if (n == PREDICT_BATCH) {
            st = flush(o, r, n);
            n = 0;
        }
    }
    return st == CLF_OK ? flush(o, r, n) : st;
}

int cmd_predict(int argc, char **argv)
{
    predict_opts o;
    predict_run r;
    clf_status st;
    int rc = parse_predict(argc, argv, &o);

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
    release(&r);
    if (st != CLF_OK) {
        fprintf(stderr, "clfit: predict failed: %s\n", clf_status_message(st));
        return 1;
    }
    if (r.failed)
        fprintf(stderr, "clfit: predict: %d of %d image%s could not be read\n", r.failed,
                o.n_images, o.n_images == 1 ? "" : "s");
    return r.failed ? 1 : 0;
}
