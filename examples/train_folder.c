/* Train an image classifier on a folder of images with libclfit.
 *
 * The whole workflow of `clfit train`, through the public headers only:
 * open a device, load a folder with one subfolder per class, split it,
 * build a model, compile it with Adam, fit a few epochs, evaluate, save.
 *
 * Usage: train_folder DATA_DIR [DEVICE] [MODEL] [OUT]
 *   DEVICE  "cpu", "opencl", "opencl:P:D", ... (see clfit/device.h);
 *           default: $CLFIT_DEVICE, else OpenCL when present, else cpu
 *   MODEL   "linear" (default) or "mlp:N" (N hidden units)
 *   OUT     model file to write (default model.safetensors)
 *
 * Build against an installed clfit:
 *   cc train_folder.c -o train_folder $(pkg-config --static --cflags --libs clfit)
 */
#include <stdio.h>
#include <stdlib.h>

#include "clfit/data.h"
#include "clfit/device.h"
#include "clfit/fit.h"
#include "clfit/io.h"
#include "clfit/model.h"
#include "clfit/status.h"

enum { IMAGE_SIZE = 32, BATCH = 16, EPOCHS = 5 };
static const uint64_t SEED = 42;
static const double FRACTIONS[2] = {0.8, 0.2}; /* training, validation */

/* Everything the program holds, freed in one place (see release). */
typedef struct run {
    clf_backend *be;
    clf_dataset *ds;
    size_t *perm;              /* shuffled image indices, cut into subsets */
    clf_loader *train, *val;
    clf_model *model;
    const char **class_names;
} run;

/* Called by clf_fit after every epoch: one line of figures. */
static clf_status print_epoch(void *user, const clf_epoch_logs *lg)
{
    (void)user;
    printf("epoch %d: loss %.4f, accuracy %.4f", lg->epoch + 1, lg->loss, lg->accuracy);
    if (lg->has_val)
        printf(", val_loss %.4f, val_accuracy %.4f", lg->val_loss, lg->val_accuracy);
    printf(" (%.2f s)\n", lg->seconds);
    return CLF_OK; /* anything else would stop training */
}

/* Decodes every image once, resized to IMAGE_SIZE x IMAGE_SIZE, and
 * splits the images 80% / 20% into training and validation loaders. */
static clf_status load_data(run *r, const char *dir)
{
    size_t n, sizes[2];
    clf_data_opts opts;
    clf_status st;

    clf_data_opts_default(&opts);
    opts.height = opts.width = IMAGE_SIZE;
    st = clf_dataset_load(dir, &opts, &r->ds);
    if (st != CLF_OK)
        return st;

    n = clf_dataset_size(r->ds);
    r->perm = malloc(n * sizeof *r->perm);
    if (!r->perm)
        return CLF_ERR_NOMEM;
    st = clf_split(n, FRACTIONS, 2, SEED, r->perm, sizes);
    if (st != CLF_OK)
        return st;

    /* training batches are reshuffled every epoch; validation's are not */
    st = clf_loader_create(r->ds, r->perm, sizes[0], BATCH, true, SEED, &r->train);
    if (st != CLF_OK)
        return st;
    return clf_loader_create(r->ds, r->perm + sizes[0], sizes[1], BATCH, false, SEED,
                             &r->val);
}

/* Builds the model for the folder's classes and compiles it on the
 * backend: weights, gradients and Adam's state now live on the device. */
static clf_status build_model(run *r, const char *spec)
{
    clf_optimizer adam;
    clf_status st;

    st = clf_model_create(spec, IMAGE_SIZE, IMAGE_SIZE, clf_dataset_classes(r->ds), SEED,
                          &r->model);
    if (st != CLF_OK)
        return st;
    clf_optimizer_default(&adam, CLF_OPT_ADAM); /* lr 1e-3, as Keras */
    return clf_model_compile(r->model, r->be, &adam, CLF_PREPROCESS_UNIT, BATCH);
}

/* Trains EPOCHS epochs, then measures the model on the validation set. */
static clf_status train_and_evaluate(run *r)
{
    clf_fit_position pos = {0}; /* start at epoch 0, step 0 */
    clf_fit_callbacks cb = {.on_epoch_end = print_epoch};
    clf_metrics val;
    clf_status st;

    st = clf_fit(r->model, r->train, r->val, EPOCHS, &pos, &cb);
    if (st != CLF_OK)
        return st;
    st = clf_evaluate(r->model, r->val, &val);
    if (st != CLF_OK)
        return st;
    printf("validation: %zu images, loss %.4f, accuracy %.4f\n", val.count,
           clf_metrics_loss(&val), clf_metrics_accuracy(&val));
    return CLF_OK;
}

/* Writes the model with its class names, so that `clfit predict` or
 * clf_model_load can use it later. */
static clf_status save_model(run *r, const char *path)
{
    int classes = clf_dataset_classes(r->ds);
    clf_split_record split = {.fractions = {FRACTIONS[0], FRACTIONS[1]}, .n = 2,
                              .seed = SEED};
    clf_status st;

    r->class_names = malloc((size_t)classes * sizeof *r->class_names);
    if (!r->class_names)
        return CLF_ERR_NOMEM;
    for (int c = 0; c < classes; c++)
        r->class_names[c] = clf_dataset_class_name(r->ds, c);
    /* the split goes into the file: clfit evaluate --subset val remakes it */
    split.images = clf_dataset_size(r->ds);
    st = clf_model_save_split(r->model, path, r->class_names, CLF_PREPROCESS_UNIT, NULL,
                              &split);
    if (st == CLF_OK)
        printf("saved %s\n", path);
    return st;
}

/* Loaders before their dataset; the model before its backend. */
static void release(run *r)
{
    free(r->class_names);
    clf_model_free(r->model);
    clf_loader_free(r->train);
    clf_loader_free(r->val);
    free(r->perm);
    clf_dataset_free(r->ds);
    clf_backend_close(r->be);
}

int main(int argc, char **argv)
{
    const char *device = argc > 2 ? argv[2] : NULL;
    const char *spec = argc > 3 ? argv[3] : "linear";
    const char *out = argc > 4 ? argv[4] : "model.safetensors";
    run r = {0};
    clf_status st;

    if (argc < 2 || argc > 5) {
        fprintf(stderr, "usage: %s DATA_DIR [DEVICE] [linear|mlp:N] [OUT]\n", argv[0]);
        return 2;
    }

    /* Each step logs the details of a failure (file, layer, OpenCL call)
     * to stderr itself; the status says only what kind it was. */
    st = clf_backend_open(device, &r.be);
    if (st == CLF_OK) {
        printf("device: %s (%s)\n", clf_backend_device(r.be)->name, clf_backend_kind(r.be));
        st = load_data(&r, argv[1]);
    }
    if (st == CLF_OK)
        st = build_model(&r, spec);
    if (st == CLF_OK)
        st = train_and_evaluate(&r);
    if (st == CLF_OK)
        st = save_model(&r, out);
    release(&r);

    if (st != CLF_OK) {
        fprintf(stderr, "train_folder: %s (%s)\n", clf_status_message(st),
                clf_status_name(st));
        return 1;
    }
    return 0;
}
