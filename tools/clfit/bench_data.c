/* clfit bench data DIR: images/s of the data pipeline on a folder.
 *   first epoch   scan, read, decode and resize every image on all cores
 *                 (clf_dataset_load), as the first epoch needs them;
 *   disk cache    a second process's load from the on-disk image cache;
 *   later epochs  batches from the in-memory uint8 cache, shuffled, each
 *                 uploaded and turned into the model's float input on the
 *                 device (what a training step starts with). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "clfit/data.h"
#include "clfit/log.h"
#include "clfit/model.h"
#include "model/model_internal.h"

#include "args.h"
#include "bench.h"
#include "commands.h"

typedef struct data_opts {
    const char *dir, *device;
    int height, width, threads, epochs, batch;
} data_opts;

enum { OPT_DEVICE = 256, OPT_SIZE, OPT_THREADS, OPT_EPOCHS, OPT_BATCH };

static const struct option data_options[] = {
    {"device", required_argument, NULL, OPT_DEVICE},
    {"image-size", required_argument, NULL, OPT_SIZE},
    {"threads", required_argument, NULL, OPT_THREADS},
    {"epochs", required_argument, NULL, OPT_EPOCHS},
    {"batch-size", required_argument, NULL, OPT_BATCH},
    {NULL, 0, NULL, 0},
};

static bool set_data_option(data_opts *o, int c, const char *v)
{
    long n;

    if (c == OPT_DEVICE) {
        o->device = v;
        return valid_device_spec("--device", v);
    }
    if (c == OPT_SIZE)
        return parse_image_size("--image-size", v, &o->height, &o->width);
    if (!parse_int(option_name(data_options, c), v, 1, 65536, &n))
        return false;
    if (c == OPT_THREADS)
        o->threads = (int)n;
    else if (c == OPT_EPOCHS)
        o->epochs = (int)n;
    else
        o->batch = (int)n;
    return true;
}

static int parse_data(int argc, char **argv, data_opts *o)
{
    int c;

    *o = (data_opts){NULL, NULL, 224, 224, 0, 3, 12};
    optind = 1;
    while ((c = next_option(argc, argv, data_options)) != -1)
        if (c == '?' || !set_data_option(o, c, optarg))
            return EXIT_USAGE;
    if (optind != argc - 1)
        return usage_error("bench data", "needs one DATA_DIR");
    o->dir = argv[optind];
    return 0;
}

/* One timed load; cache_dir may be NULL. */
static clf_status timed_load(const data_opts *o, const char *cache_dir, clf_dataset **ds,
                             double *seconds)
{
    clf_data_opts d;
    double t0 = bench_now();
    clf_status st;

    clf_data_opts_default(&d);
    d.height = o->height;
    d.width = o->width;
    d.threads = o->threads;
    d.cache_dir = cache_dir;
    st = clf_dataset_load(o->dir, &d, ds);
    *seconds = bench_now() - t0;
    return st;
}

/* Loads into a fresh cache folder (which writes it), then loads again
 * (which reads it), as a second run would; prints the second. */
static clf_status disk_cache(const data_opts *o)
{
    char dir[] = "/tmp/clfit-bench-cache-XXXXXX", cmd[64];
    clf_dataset *ds = NULL;
    double s = 0.0;
    clf_status st;

    if (!mkdtemp(dir))
        return CLF_ERR_IO;
    st = timed_load(o, dir, &ds, &s);
    clf_dataset_free(ds);
    ds = NULL;
    if (st == CLF_OK)
        st = timed_load(o, dir, &ds, &s);
    if (st == CLF_OK) {
        double ips = (double)clf_dataset_size(ds) / s;

        printf("data pipeline, second run from the on-disk image cache: %zu images at %.1f "
               "images/s\n", clf_dataset_size(ds), ips);
        bench_result("data_disk_cache_ips", ips, "img/s");
    }
    clf_dataset_free(ds);
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
    if (system(cmd) != 0)
        CLF_LOG_WARN("could not remove '%s'", dir);
    return st;
}

/* Every batch of one shuffled epoch, uploaded and converted on the device. */
static clf_status one_epoch(clf_model *m, clf_loader *ld, uint8_t *px, int32_t *labels)
{
    clf_status st = CLF_OK;

    for (size_t b = 0; st == CLF_OK && b < clf_loader_batches(ld); b++) {
        int count;

        st = clf_loader_batch(ld, b, px, labels, &count);
        if (st == CLF_OK)
            st = clf_model_load_images(m, px, count);
    }
    return st == CLF_OK ? m->be->ops->finish(m->be) : st;
}

static clf_status later_epochs(const data_opts *o, clf_backend *be, const clf_dataset *ds)
{
    size_t n = clf_dataset_size(ds), *idx = malloc(n * sizeof *idx);
    size_t bytes = (size_t)o->batch * (size_t)o->height * (size_t)o->width * 3;
    uint8_t *px = malloc(bytes);
    int32_t *labels = malloc((size_t)o->batch * sizeof *labels);
    double *rate = malloc((size_t)o->epochs * sizeof *rate);
    clf_model *m = NULL;
    clf_loader *ld = NULL;
    clf_optimizer opt;
    clf_status st = idx && px && labels && rate ? CLF_OK : CLF_ERR_NOMEM;

    for (size_t i = 0; idx && i < n; i++)
        idx[i] = i;
    clf_optimizer_default(&opt, CLF_OPT_ADAM);
    if (st == CLF_OK)
        st = clf_model_create("linear", o->height, o->width, clf_dataset_classes(ds), 20, &m);
    if (st == CLF_OK)
        st = clf_model_compile(m, be, &opt, CLF_PREPROCESS_UNIT, o->batch);
    if (st == CLF_OK)
        st = clf_loader_create(ds, idx, n, o->batch, true, 20, &ld);
    for (int e = 0; e < o->epochs && st == CLF_OK; e++) {
        double t0 = bench_now();

        st = clf_loader_set_epoch(ld, e + 1);
        if (st == CLF_OK)
            st = one_epoch(m, ld, px, labels);
        rate[e] = (double)n / (bench_now() - t0);
    }
    if (st == CLF_OK) {
        double med = bench_median(rate, (size_t)o->epochs);

        printf("data pipeline, later epochs (in-memory cache, upload and conversion on the "
               "device included): %.0f images/s (median of %d epochs)\n", med, o->epochs);
        bench_result("data_later_epoch_ips", med, "img/s");
    }
    clf_loader_free(ld);
    clf_model_free(m);
    free(idx);
    free(px);
    free(labels);
    free(rate);
    return st;
}

static clf_status run(const void *opts, clf_backend *be)
{
    const data_opts *o = opts;
    clf_dataset *ds = NULL;
    double s = 0.0;
    clf_status st = timed_load(o, NULL, &ds, &s);

    if (st == CLF_OK) {
        double ips = (double)clf_dataset_size(ds) / s;

        printf("data pipeline, first epoch (decode and resize to %dx%d on %d threads): %zu "
               "images at %.1f images/s\n", o->height, o->width,
               o->threads > 0 ? o->threads : (int)sysconf(_SC_NPROCESSORS_ONLN),
               clf_dataset_size(ds), ips);
        bench_result("data_first_epoch_ips", ips, "img/s");
        st = later_epochs(o, be, ds);
    }
    clf_dataset_free(ds);
    if (st == CLF_OK)
        st = disk_cache(o);
    return st;
}

int bench_data(int argc, char **argv)
{
    data_opts o;
    int rc = parse_data(argc, argv, &o);

    if (rc)
        return rc;
    return bench_on_device(o.device, "data", run, &o, NULL);
}
