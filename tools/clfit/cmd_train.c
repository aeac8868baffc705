/* clfit train DATA_DIR: load, split, build, compile, fit, test. */
#include <dirent.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "clfit/data.h"
#include "clfit/device.h"
#include "clfit/fit.h"
#include "clfit/log.h"
#include "clfit/model.h"

#include "core/excerpt.h"
#include "core/utf8.h"

#include "args.h"
#include "commands.h"
#include "interrupt.h"
#include "progress.h"
#include "train_persist.h"

typedef struct train_opts {
    const char *data_dir, *device, *model;
    const char *base, *base_layer; /* transfer learning: TF.js model, cut */
    const char *image_cache;       /* --image-cache: decoded images kept on disk */
    int height, width, epochs, batch, threads;
    clf_preprocess pre;
    clf_optimizer_kind opt_kind;
    double lr;
    bool lr_set, verbose;
    uint64_t seed;
    double split[3];
    int n_split;
    clf_bad_image_policy bad;
    persist_opts persist;        /* --save, --checkpoint-dir, --resume, --log, --plot */
} train_opts;

enum {
    OPT_DEVICE = 256, OPT_MODEL, OPT_PREPROCESS, OPT_IMAGE_SIZE, OPT_EPOCHS, OPT_BATCH,
    OPT_OPTIMIZER, OPT_LR, OPT_SEED, OPT_SPLIT, OPT_BAD_IMAGE, OPT_THREADS, OPT_VERBOSE,
    OPT_BASE, OPT_BASE_LAYER, OPT_IMAGE_CACHE
};

static const struct option train_options[] = {
    {"device", required_argument, NULL, OPT_DEVICE},
    {"model", required_argument, NULL, OPT_MODEL},
    {"preprocess", required_argument, NULL, OPT_PREPROCESS},
    {"image-size", required_argument, NULL, OPT_IMAGE_SIZE},
    {"epochs", required_argument, NULL, OPT_EPOCHS},
    {"batch-size", required_argument, NULL, OPT_BATCH},
    {"optimizer", required_argument, NULL, OPT_OPTIMIZER},
    {"learning-rate", required_argument, NULL, OPT_LR},
    {"seed", required_argument, NULL, OPT_SEED},
    {"split", required_argument, NULL, OPT_SPLIT},
    {"on-bad-image", required_argument, NULL, OPT_BAD_IMAGE},
    {"threads", required_argument, NULL, OPT_THREADS},
    {"verbose", no_argument, NULL, OPT_VERBOSE},
    {"base", required_argument, NULL, OPT_BASE},
    {"base-layer", required_argument, NULL, OPT_BASE_LAYER},
    {"image-cache", required_argument, NULL, OPT_IMAGE_CACHE},
    PERSIST_OPTIONS,
    {NULL, 0, NULL, 0},
};

static const char *const preprocess_names[] = {"unit", "symmetric", "none", NULL};
static const char *const optimizer_names[] = {"adam", "sgd", NULL};
static const char *const bad_image_names[] = {"skip", "fail", NULL};

static void defaults(train_opts *o)
{
    memset(o, 0, sizeof *o);
    o->model = "linear";
    o->height = o->width = 224;
    o->epochs = 5;
    o->batch = 12;
    o->pre = CLF_PREPROCESS_UNIT;
    o->opt_kind = CLF_OPT_ADAM;
    o->seed = 20;
    o->split[0] = 0.7, o->split[1] = 0.2, o->split[2] = 0.1;
    o->n_split = 3;
    o->bad = CLF_BAD_IMAGE_SKIP;
}

static bool is_json(const char *spec)
{
    size_t n = strlen(spec);

    return n > 5 && !strcmp(spec + n - 5, ".json");
}

/* One option's value into *o; false after a usage error. */
static bool set_option(train_opts *o, int c, const char *v)
{
    long n;
    int choice;

    switch (c) {
    case OPT_DEVICE: o->device = v; return valid_device_spec("--device", v);
    case OPT_MODEL: o->model = v; return parse_model_spec("--model", v, true);
    case OPT_PREPROCESS:
        if (!parse_choice("--preprocess", v, preprocess_names, &choice))
            return false;
        o->pre = (clf_preprocess)choice;
        return true;
    case OPT_IMAGE_SIZE: return parse_image_size("--image-size", v, &o->height, &o->width);
    case OPT_EPOCHS:
        if (!parse_int("--epochs", v, 1, 1000000, &n))
            return false;
        o->epochs = (int)n;
        return true;
    case OPT_BATCH:
        if (!parse_int("--batch-size", v, 1, 65536, &n))
            return false;
        o->batch = (int)n;
        return true;
    case OPT_OPTIMIZER:
        if (!parse_choice("--optimizer", v, optimizer_names, &choice))
            return false;
        o->opt_kind = choice == 0 ? CLF_OPT_ADAM : CLF_OPT_SGD;
        return true;
    case OPT_LR:
        o->lr_set = true;
        return parse_float("--learning-rate", v, 1e-12, 1e3, &o->lr);
    case OPT_SEED: return parse_u64("--seed", v, &o->seed);
    case OPT_SPLIT: return parse_split("--split", v, o->split, &o->n_split);
    case OPT_BAD_IMAGE:
        if (!parse_choice("--on-bad-image", v, bad_image_names, &choice))
            return false;
        o->bad = (clf_bad_image_policy)choice;
        return true;
    case OPT_THREADS:
        if (!parse_int("--threads", v, 1, 1024, &n))
            return false;
        o->threads = (int)n;
        return true;
    case OPT_VERBOSE: o->verbose = true; return true;
    case OPT_BASE: o->base = v; return not_empty("--base", v);
    case OPT_BASE_LAYER: o->base_layer = v; return not_empty("--base-layer", v);
    case OPT_IMAGE_CACHE: o->image_cache = v; return not_empty("--image-cache", v);
    default: return persist_set_option(&o->persist, c, v);
    }
}

static int parse_train(int argc, char **argv, train_opts *o)
{
    int c;

    defaults(o);
    optind = 1;
    while ((c = next_option(argc, argv, train_options)) != -1)
        if (c == '?' || !set_option(o, c, optarg))
            return EXIT_USAGE;
    if (optind != argc - 1)
        return usage_error("train", optind >= argc ? "needs DATA_DIR, a folder of class "
                                                     "subfolders"
                                                   : "takes one DATA_DIR, got more");
    o->data_dir = argv[optind];
    if (o->base_layer && !o->base)
        return usage_error("--base-layer", "cuts the model given with --base; add --base");
    if (is_json(o->model) && !o->base)
        return usage_error("--model", "a .json model is a head for a base; add --base "
                                      "MODEL.json");
    /* missing files are found now, not after the device opened (seconds)
     * and the images loaded (minutes) */
    if (!readable_dir("DATA_DIR", o->data_dir) || (o->base && !readable_file("--base", o->base)) ||
        (is_json(o->model) && !readable_file("--model", o->model)) ||
        !image_cache_usable(o->image_cache, o->data_dir))
        return 1;
    return persist_check(&o->persist, o->data_dir, o->base, is_json(o->model) ? o->model : NULL);
}

/* Everything a run holds, released in one place. */
typedef struct train_run {
    clf_backend *be;
    clf_dataset *ds;
    clf_model *model;
    clf_loader *train, *val, *test;
    size_t *perm;
    progress bar;
    persist persist;             /* files that outlive the run */
} train_run;

static void release(train_run *r)
{
    clf_loader_free(r->train);
    clf_loader_free(r->val);
    clf_loader_free(r->test);
    clf_model_free(r->model);
    clf_dataset_free(r->ds);
    clf_backend_close(r->be);
    free(r->perm);
    persist_release(&r->persist);
}

static clf_status load_data(const train_opts *o, train_run *r)
{
    clf_data_opts d;

    clf_data_opts_default(&d);
    d.height = o->height;
    d.width = o->width;
    d.on_bad_image = o->bad;
    d.threads = o->threads;
    d.cache_dir = o->image_cache;
    /* the library logs what it found and skipped */
    return clf_dataset_load(o->data_dir, &d, &r->ds);
}

/* Keras runs one batch of every image when --batch-size is larger than
 * a subset; buffers are sized for the batch, so it is lowered to fit. */
static void fit_batch(train_opts *o, const size_t sizes[3])
{
    size_t most = sizes[0] > sizes[1] ? sizes[0] : sizes[1];

    most = most > sizes[2] ? most : sizes[2];
    if (most == 0 || (size_t)o->batch <= most)
        return;
    printf("Note: --batch-size %d is more than the largest subset (%zu images); using "
           "batches of %zu.\n", o->batch, most, most);
    o->batch = (int)most;
}

/* A classifier needs two classes at least; one folder would train to a
 * loss of 0 and learn nothing. */
static clf_status check_classes(const train_opts *o, const train_run *r)
{
    if (clf_dataset_classes(r->ds) >= 2)
        return CLF_OK;
    fprintf(stderr, "clfit: %s has one class folder ('%s'); a classifier needs at least two: "
                    "add a folder of images for each other class\n", o->data_dir,
            clf_dataset_class_name(r->ds, 0));
    return CLF_ERR_DATA;
}

/* Splits the dataset and makes one loader per non-empty subset. */
static clf_status make_loaders(train_opts *o, train_run *r)
{
    size_t n = clf_dataset_size(r->ds), sizes[3] = {0}, off = 0;
    clf_loader **slots[3] = {&r->train, &r->val, &r->test};
    clf_status st;

    r->perm = malloc(n * sizeof *r->perm);
    if (!r->perm)
        return CLF_ERR_NOMEM;
    st = clf_split(n, o->split, o->n_split, o->seed, r->perm, sizes);
    if (st != CLF_OK)
        return st;
    printf("Split (seed %llu): %zu train, %zu validation, %zu test.\n",
           (unsigned long long)o->seed, sizes[0], sizes[1], sizes[2]);
    fit_batch(o, sizes);

    for (int s = 0; s < o->n_split && st == CLF_OK; s++) {
        if (sizes[s])
            st = clf_loader_create(r->ds, r->perm + off, sizes[s], o->batch, s == 0,
                                   o->seed, slots[s]);
        off += sizes[s];
    }
    return st;
}

static void train_optimizer(const train_opts *o, clf_optimizer *opt)
{
    clf_optimizer_default(opt, o->opt_kind);
    if (o->lr_set)
        opt->learning_rate = (float)o->lr;
}

/* --base-layer, out_relu by default (MobileNetV2's include_top=False) */
static const char *base_layer(const train_opts *o)
{
    return o->base_layer ? o->base_layer : "out_relu";
}

static bool is_utf8(const char *s)
{
    size_t n = strlen(s);

    return clf_utf8_check((const unsigned char *)s, n) == n;
}

/* The class folders of DATA_DIR as the loader will count them (hidden
 * names skipped, links followed), at least 2; an empty one is refused
 * later, when the images are loaded. *bad_names (may be NULL) counts the
 * names that are not UTF-8, each named on stderr. */
static int scan_class_folders(const char *data_dir, int *bad_names)
{
    DIR *d = opendir(data_dir);
    struct dirent *e;
    char path[PATH_MAX], shown[256];
    struct stat sb;
    int n = 0;

    while (d && (e = readdir(d)) != NULL) {
        if (e->d_name[0] == '.')
            continue;
        if (snprintf(path, sizeof path, "%s/%s", data_dir, e->d_name) >= (int)sizeof path ||
            stat(path, &sb) != 0 || !S_ISDIR(sb.st_mode) || n == INT_MAX)
            continue;
        n++;
        if (bad_names && !is_utf8(e->d_name)) {
            clf_excerpt(e->d_name, strlen(e->d_name), 80, shown, sizeof shown);
            fprintf(stderr, "clfit: class folder \"%s\" in %s: its name is not UTF-8 text, "
                            "and model files and checkpoints store class names as UTF-8; "
                            "rename it (for Latin-1 names: convmv -f latin1 -t utf8)\n",
                    shown, data_dir);
            ++*bad_names;
        }
    }
    if (d)
        closedir(d);
    return n < 2 ? 2 : n;
}

static int class_folders(const char *data_dir)
{
    return scan_class_folders(data_dir, NULL);
}

/* What a model file or checkpoint will store must be UTF-8 (the format's
 * rule): the class folder names, DATA_DIR's real path, --base. Checked
 * when there is something to store, before hours of training. */
static clf_status names_storable(const train_opts *o)
{
    char *real;
    int bad = 0;
    bool ok;

    if (!o->persist.save && !o->persist.checkpoint_dir)
        return CLF_OK;
    real = realpath(o->data_dir, NULL);
    scan_class_folders(o->data_dir, &bad);
    ok = !bad && (!real || is_utf8(real)) && (!o->base || is_utf8(o->base));
    if (bad == 0 && !ok)
        fprintf(stderr, "clfit: the path of DATA_DIR or --base is not UTF-8 text, and model "
                        "files and checkpoints record it as UTF-8; rename it or use a link "
                        "with a UTF-8 name\n");
    free(real);
    return ok ? CLF_OK : CLF_ERR_DATA;
}

/* A model that cannot be built (a --base that cannot be read or cut, an
 * image size a Flatten cannot take) is found before the images are decoded
 * (minutes), by building it once for the folder's classes (a head from a
 * JSON file must end in that many); a base is read twice, a fraction of a
 * second. */
static clf_status check_model(const train_opts *o)
{
    clf_model *m = NULL;
    clf_status st;

    if (o->base)
        st = clf_model_create_with_base(o->base, base_layer(o), o->model, o->height, o->width,
                                        class_folders(o->data_dir), o->seed, &m);
    else
        st = clf_model_create(o->model, o->height, o->width, class_folders(o->data_dir),
                              o->seed, &m);
    clf_model_free(m);
    if (st == CLF_ERR_NOMEM)
        fprintf(stderr, "clfit: the model's weights do not fit in memory: use a smaller "
                        "mlp:N or --image-size\n");
    return st;
}

static clf_status build_model(const train_opts *o, train_run *r)
{
    clf_optimizer opt;
    char *summary = NULL;
    clf_status st;

    if (o->base)
        st = clf_model_create_with_base(o->base, base_layer(o), o->model, o->height, o->width,
                                        clf_dataset_classes(r->ds), o->seed, &r->model);
    else
        st = clf_model_create(o->model, o->height, o->width, clf_dataset_classes(r->ds),
                              o->seed, &r->model);
    if (st == CLF_OK)
        st = clf_model_summary(r->model, &summary);
    if (st != CLF_OK)
        return st;
    fputs(summary, stdout);
    free(summary);

    train_optimizer(o, &opt);
    return clf_model_compile(r->model, r->be, &opt, o->pre, o->batch);
}

/* The settings a checkpoint records, but those the images give. */
static void fill_settings(const train_opts *o, clf_run_settings *rs)
{
    rs->data_dir = o->data_dir;
    rs->model_spec = o->model;
    /* compared on --resume; the base's path is recorded in --save's file */
    rs->base = o->base;
    rs->base_layer = o->base ? base_layer(o) : NULL;
    rs->height = o->height;
    rs->width = o->width;
    rs->batch_size = o->batch;
    memcpy(rs->split, o->split, sizeof rs->split);
    rs->n_split = o->n_split;
    train_optimizer(o, &rs->optimizer);
    rs->preprocess = o->pre;
    rs->seed = o->seed;
}

/* --resume with other settings is refused before the images load (the
 * batch size, which a small folder lowers, the image count and the class
 * names are compared once they have). */
static clf_status check_resume(const train_opts *o)
{
    clf_run_settings rs = {0};

    fill_settings(o, &rs);
    return persist_check_resume(&o->persist, &rs);
}

/* The settings a checkpoint records, then --resume / --log start. */
static clf_status start_persist(const train_opts *o, train_run *r)
{
    fill_settings(o, &r->persist.rs);
    if (persist_data(&r->persist, r->ds) != CLF_OK)
        return CLF_ERR_NOMEM;
    return persist_begin(&r->persist, &o->persist, r->model, o->epochs,
                         clf_loader_batches(r->train));
}

static void metrics_text(char *buf, size_t size, const clf_metrics *mt, const char *prefix)
{
    snprintf(buf, size, "%sloss: %.4f - %saccuracy: %.4f", prefix, clf_metrics_loss(mt),
             prefix, clf_metrics_accuracy(mt));
}

static void on_step(void *user, int epoch, size_t step, size_t steps,
                    const clf_metrics *running, double seconds)
{
    train_run *r = user;
    char text[128];

    (void)epoch;
    (void)steps;
    metrics_text(text, sizeof text, running, "");
    progress_update(&r->bar, step, seconds, text);
}

static clf_status on_epoch_end(void *user, const clf_epoch_logs *lg)
{
    train_run *r = user;
    char text[256];
    int len;

    len = snprintf(text, sizeof text, "loss: %.4f - accuracy: %.4f", lg->loss, lg->accuracy);
    if (lg->has_val)
        snprintf(text + len, sizeof text - (size_t)len,
                 " - val_loss: %.4f - val_accuracy: %.4f", lg->val_loss, lg->val_accuracy);
    progress_finish(&r->bar, lg->steps, lg->seconds, text);
    return persist_epoch_end(&r->persist, lg);
}

static clf_status train_and_test(const train_opts *o, train_run *r)
{
    clf_fit_position *pos = &r->persist.ts.pos; /* 0, or where --resume left off */
    clf_fit_callbacks cb = {.user = r, .on_step = on_step, .on_epoch_end = on_epoch_end,
                            .stop = &interrupt_requested};
    clf_status st = CLF_OK, test_st;
    clf_metrics test;
    char text[128];

    while (st == CLF_OK && pos->epoch < o->epochs) {
        printf("Epoch %d/%d\n", pos->epoch + 1, o->epochs);
        progress_start(&r->bar, clf_loader_batches(r->train));
        st = clf_fit(r->model, r->train, r->val, pos->epoch + 1, pos, &cb);
    }
    if (st == CLF_ERR_INTERRUPTED) {
        if (r->bar.live)
            putchar('\n'); /* below the bar that was being redrawn */
        persist_interrupted(&r->persist, o->epochs, clf_loader_batches(r->train));
    }
    if (st == CLF_ERR_NUMERIC) {
        if (r->bar.live)
            putchar('\n');
        /* the library named the epoch and step; no checkpoint follows a bad loss */
        if (o->persist.checkpoint_dir && r->persist.ts.n_history > 0)
            fprintf(stderr, "clfit: %s keeps the checkpoint of epoch %d, the last one that "
                            "finished; nothing was written after the loss went bad\n",
                    o->persist.checkpoint_dir, r->persist.ts.n_history);
    }
    if (st != CLF_OK)
        return st;

    /* a failed --save still leaves the test figures on screen */
    st = persist_finish(&r->persist);
    if (!r->test) {
        printf("No test images: --split");
        for (int i = 0; i < o->n_split; i++)
            printf("%c%g", i ? ',' : ' ', o->split[i]);
        printf(" has no test part, so nothing was tested.\n");
        return st;
    }
    test_st = clf_evaluate(r->model, r->test, &test);
    if (test_st == CLF_OK) {
        metrics_text(text, sizeof text, &test, "test_");
        printf("%s\n", text);
    }
    return st != CLF_OK ? st : test_st;
}

int cmd_train(int argc, char **argv)
{
    train_opts o;
    train_run r = {0};
    clf_status st;
    int rc = parse_train(argc, argv, &o);

    if (rc)
        return rc;
    if (o.verbose)
        clf_log_set_level(CLF_LOG_DEBUG);
    r.be = open_device(o.device);
    if (!r.be)
        return 1;

    /* Ctrl-C ends loading at once (nothing to save yet); from the first
     * step on it finishes the step and checkpoints. */
    st = check_model(&o);
    if (st == CLF_OK)
        st = names_storable(&o);
    if (st == CLF_OK)
        st = check_resume(&o);
    if (st == CLF_OK)
        st = load_data(&o, &r);
    if (st == CLF_OK)
        st = check_classes(&o, &r);
    if (st == CLF_OK)
        st = make_loaders(&o, &r);
    if (st == CLF_OK)
        st = build_model(&o, &r);
    if (st == CLF_OK)
        st = start_persist(&o, &r);
    if (st == CLF_OK) {
        interrupt_install();
        st = train_and_test(&o, &r);
    }
    release(&r);

    if (st == CLF_ERR_INTERRUPTED) {
        fprintf(stderr, "clfit: interrupted\n");
        return EXIT_INTERRUPTED;
    }
    if (st != CLF_OK)
        fprintf(stderr, "clfit: train failed: %s\n", clf_status_message(st));
    return st == CLF_OK ? 0 : 1;
}
