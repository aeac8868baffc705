/* clfit bench mobilenet: images/s of MobileNetV2's frozen base (cut at
 * out_relu, as the transfer model uses it) in inference, batch 12 of
 * 224x224 random images: what the first epoch of a transfer run spends
 * per image. --profile adds the device time per op. */
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

typedef struct mb_opts {
    const char *device, *base, *layer;
    int batch, size, batches;
    bool profile;
} mb_opts;

static int parse_mb(int argc, char **argv, mb_opts *o)
{
    static const struct option opts[] = {
        {"device", required_argument, NULL, 'd'},
        {"base", required_argument, NULL, 'b'},
        {"base-layer", required_argument, NULL, 'l'},
        {"batches", required_argument, NULL, 'n'},
        {"profile", no_argument, NULL, 'p'},
        {NULL, 0, NULL, 0},
    };
    long n;
    int c;

    *o = (mb_opts){NULL, "models/mobilenet_v2/model.json", "out_relu", 12, 224, 5, false};
    optind = 1;
    while ((c = next_option(argc, argv, opts)) != -1) {
        if (c == '?')
            return EXIT_USAGE;
        if ((c == 'd' && !valid_device_spec("--device", optarg)) ||
            (c == 'b' && !not_empty("--base", optarg)) ||
            (c == 'l' && !not_empty("--base-layer", optarg)))
            return EXIT_USAGE;
        if (c == 'd')
            o->device = optarg;
        else if (c == 'b')
            o->base = optarg;
        else if (c == 'l')
            o->layer = optarg;
        else if (c == 'p')
            o->profile = true;
        else if (!parse_int("--batches", optarg, 1, 1000, &n))
            return EXIT_USAGE;
        else
            o->batches = (int)n;
    }
    if (optind != argc)
        return usage_error("bench mobilenet", "takes no positional arguments");
    /* before the device opens; the default is relative to the current folder */
    if (!readable_file("--base", o->base)) {
        fprintf(stderr, "clfit: bench mobilenet: run it from the source tree (the default "
                        "--base is models/mobilenet_v2/model.json, from "
                        "tools/fetch_mobilenet.sh) or give --base\n");
        return 1;
    }
    return 0;
}

static void print_profile(clf_backend *be, int batches)
{
    clf_op_time ops[64];
    size_t n = 0;
    double total = 0.0;

    if (clf_opencl_profile_end(be, ops, 64, &n) != CLF_OK)
        return;
    printf("profile: device time per batch\n");
    for (size_t i = 0; i < n; i++) {
        printf("  %-26s %6.1f calls %9.3f ms\n", ops[i].name,
               (double)ops[i].count / batches, ops[i].ms / batches);
        total += ops[i].ms / batches;
    }
    printf("  %-26s %23.3f ms\n", "sum", total);
}

static clf_status run(const void *opts, clf_backend *be)
{
    const mb_opts *o = opts;
    size_t px = (size_t)o->batch * o->size * o->size * 3;
    uint8_t *img = malloc(px);
    float *feat = NULL;
    double *t = malloc((size_t)o->batches * sizeof *t);
    clf_model *m = NULL;
    clf_optimizer opt;
    clf_rng r;
    clf_status st = img && t ? CLF_OK : CLF_ERR_NOMEM;

    clf_rng_seed(&r, 3);
    for (size_t i = 0; img && i < px; i++)
        img[i] = (uint8_t)(clf_rng_next(&r) >> 56);
    clf_optimizer_default(&opt, CLF_OPT_ADAM);
    if (st == CLF_OK)
        st = clf_model_create_with_base(o->base, o->layer, "linear", o->size, o->size, 4, 20,
                                        &m);
    if (st == CLF_OK)
        st = clf_model_compile(m, be, &opt, CLF_PREPROCESS_UNIT, o->batch);
    if (st == CLF_OK && !(feat = malloc((size_t)o->batch * clf_model_feature_size(m) * 4)))
        st = CLF_ERR_NOMEM;
    if (st == CLF_OK) /* untimed: builds what is built lazily */
        st = clf_model_extract_features(m, img, o->batch, feat);
    if (st == CLF_OK && o->profile)
        st = clf_opencl_profile_begin(be);
    for (int i = 0; i < o->batches && st == CLF_OK; i++) {
        double t0 = bench_now();

        st = clf_model_extract_features(m, img, o->batch, feat);
        t[i] = bench_now() - t0;
    }
    if (st == CLF_OK) {
        double ips = o->batch / bench_median(t, (size_t)o->batches);

        printf("MobileNetV2 base (batch %d, %dx%d, inference): %.1f images/s (median of %d "
               "batches)\n", o->batch, o->size, o->size, ips, o->batches);
        bench_result("mobilenet_base_ips", ips, "img/s");
        if (o->profile)
            print_profile(be, o->batches);
    }
    clf_model_free(m);
    free(img);
    free(feat);
    free(t);
    return st;
}

int bench_mobilenet(int argc, char **argv)
{
    mb_opts o;
    int rc = parse_mb(argc, argv, &o);

    if (rc)
        return rc;
    return bench_on_device(o.device, "mobilenet", run, &o,
                           "(the base comes from tools/fetch_mobilenet.sh)");
}
