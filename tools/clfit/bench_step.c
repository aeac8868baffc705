/* clfit bench step: the time of one training step of a built-in model
 * (the seed's Flatten -> Dense(classes, softmax) by default) on random
 * images, measured as fit() runs it: batch in, forward, loss, backward,
 * Adam update, metrics out. With --profile, the device time of every op. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "clfit/log.h"
#include "clfit/model.h"

#include "args.h"
#include "backend/opencl/ocl_profile.h"
#include "bench.h"
#include "commands.h"
#include "core/rng.h"

typedef struct step_opts {
    const char *device, *model;
    int classes, batch, height, width, steps, warmup;
    bool profile;
} step_opts;

enum { OPT_DEVICE = 256, OPT_MODEL, OPT_CLASSES, OPT_BATCH, OPT_SIZE, OPT_STEPS, OPT_WARMUP,
       OPT_PROFILE };

static const struct option step_options[] = {
    {"device", required_argument, NULL, OPT_DEVICE},
    {"model", required_argument, NULL, OPT_MODEL},
    {"classes", required_argument, NULL, OPT_CLASSES},
    {"batch-size", required_argument, NULL, OPT_BATCH},
    {"image-size", required_argument, NULL, OPT_SIZE},
    {"steps", required_argument, NULL, OPT_STEPS},
    {"warmup", required_argument, NULL, OPT_WARMUP},
    {"profile", no_argument, NULL, OPT_PROFILE},
    {NULL, 0, NULL, 0},
};

static bool set_step_option(step_opts *o, int c, const char *v)
{
    long n;

    switch (c) {
    case OPT_DEVICE: o->device = v; return valid_device_spec("--device", v);
    case OPT_MODEL: o->model = v; return parse_model_spec("--model", v, false);
    case OPT_SIZE: return parse_image_size("--image-size", v, &o->height, &o->width);
    case OPT_PROFILE: o->profile = true; return true;
    default: break;
    }
    if (!parse_int(option_name(step_options, c), v, c == OPT_WARMUP ? 0 : 1, 100000, &n))
        return false;
    if (c == OPT_CLASSES)
        o->classes = (int)n;
    else if (c == OPT_BATCH)
        o->batch = (int)n;
    else if (c == OPT_STEPS)
        o->steps = (int)n;
    else
        o->warmup = (int)n;
    return true;
}

static int parse_step(int argc, char **argv, step_opts *o)
{
    int c;

    *o = (step_opts){NULL, "linear", 10, 12, 224, 224, 30, 3, false};
    optind = 1;
    while ((c = next_option(argc, argv, step_options)) != -1)
        if (c == '?' || !set_step_option(o, c, optarg))
            return EXIT_USAGE;
    if (optind != argc)
        return usage_error("bench step", "takes no positional arguments");
    return 0;
}

/* One random batch: pixels and labels drawn from a fixed seed. */
static bool random_batch(const step_opts *o, uint8_t **px, int32_t **labels)
{
    size_t bytes = (size_t)o->batch * (size_t)o->height * (size_t)o->width * 3;
    clf_rng r;

    *px = malloc(bytes);
    *labels = malloc((size_t)o->batch * sizeof **labels);
    if (!*px || !*labels)
        return false;
    clf_rng_seed(&r, 7);
    for (size_t i = 0; i < bytes; i++)
        (*px)[i] = (uint8_t)(clf_rng_next(&r) >> 56);
    for (int i = 0; i < o->batch; i++)
        (*labels)[i] = (int32_t)(clf_rng_next(&r) % (uint64_t)o->classes);
    return true;
}

/* The step as fit() runs it, metrics read included. */
static clf_status one_step(clf_model *m, const uint8_t *px, const int32_t *labels, int n)
{
    clf_metrics mt;
    clf_status st = clf_model_train_batch(m, px, labels, n);

    return st == CLF_OK ? clf_model_metrics(m, &mt) : st;
}

static clf_status time_steps(const step_opts *o, clf_model *m, const uint8_t *px,
                             const int32_t *labels)
{
    double *t = malloc((size_t)o->steps * sizeof *t);
    clf_status st = CLF_OK;
    double cpu;
    char name[64];

    if (!t)
        return CLF_ERR_NOMEM;
    for (int i = 0; i < o->warmup && st == CLF_OK; i++)
        st = one_step(m, px, labels, o->batch);
    cpu = bench_cpu_seconds();
    for (int i = 0; i < o->steps && st == CLF_OK; i++) {
        double t0 = bench_now();

        st = one_step(m, px, labels, o->batch);
        t[i] = (bench_now() - t0) * 1e3;
    }
    cpu = (bench_cpu_seconds() - cpu) * 1e3 / o->steps;
    if (st == CLF_OK) {
        double med = bench_median(t, (size_t)o->steps);

        printf("train step (%s, %d classes, batch %d, %dx%d): median %.2f ms/step, "
               "min %.2f, max %.2f over %d steps; %.2f ms of CPU time per step\n", o->model,
               o->classes, o->batch, o->height, o->width, med, t[0], t[o->steps - 1],
               o->steps, cpu);
        snprintf(name, sizeof name, "step_ms_%s_c%d", o->model, o->classes);
        bench_result(name, med, "ms");
    }
    free(t);
    return st;
}

/* Device time per op, per step, over `steps` steps. */
static clf_status profile_steps(const step_opts *o, clf_backend *be, clf_model *m,
                                const uint8_t *px, const int32_t *labels)
{
    clf_op_time ops[64];
    size_t n = 0;
    double total = 0.0, least = 0.0, t0;
    clf_status st = clf_opencl_profile_begin(be);

    t0 = bench_now();
    for (int i = 0; i < o->steps && st == CLF_OK; i++)
        st = one_step(m, px, labels, o->batch);
    t0 = (bench_now() - t0) * 1e3 / o->steps;
    if (st == CLF_OK)
        st = clf_opencl_profile_end(be, ops, 64, &n);
    if (st != CLF_OK)
        return st;
    printf("profile over %d steps: device time per step (mean) and per call (min)\n",
           o->steps);
    for (size_t i = 0; i < n; i++) {
        double calls = (double)ops[i].count / o->steps;

        printf("  %-20s %5.1f calls %8.3f ms  min %8.3f ms\n", ops[i].name, calls,
               ops[i].ms / o->steps, ops[i].min_ms);
        total += ops[i].ms / o->steps;
        least += ops[i].min_ms * calls;
    }
    printf("  %-20s %20.3f ms  min %8.3f ms (wall %.3f ms per step while profiling)\n",
           "sum", total, least, t0);
    return CLF_OK;
}

static clf_status run(const void *opts, clf_backend *be)
{
    const step_opts *o = opts;
    clf_model *m = NULL;
    clf_optimizer opt;
    uint8_t *px = NULL;
    int32_t *labels = NULL;
    clf_status st = clf_model_create(o->model, o->height, o->width, o->classes, 20, &m);

    clf_optimizer_default(&opt, CLF_OPT_ADAM);
    if (st == CLF_OK)
        st = clf_model_compile(m, be, &opt, CLF_PREPROCESS_UNIT, o->batch);
    if (st == CLF_OK && !random_batch(o, &px, &labels))
        st = CLF_ERR_NOMEM;
    if (st == CLF_OK)
        st = time_steps(o, m, px, labels);
    if (st == CLF_OK && o->profile && strcmp(clf_backend_kind(be), "opencl") != 0)
        printf("profile: per-op times come from OpenCL events; the cpu backend has none\n");
    else if (st == CLF_OK && o->profile)
        st = profile_steps(o, be, m, px, labels);
    free(px);
    free(labels);
    clf_model_free(m);
    return st;
}

int bench_step(int argc, char **argv)
{
    step_opts o;
    int rc = parse_step(argc, argv, &o);

    if (rc)
        return rc;
    return bench_on_device(o.device, "step", run, &o, NULL);
}
