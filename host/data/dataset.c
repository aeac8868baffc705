/* Datasets: an image folder (or memory) decoded into one compact block. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "clfit/data.h"
#include "clfit/log.h"
#include "core/alloc.h"
#include "data/dataset_impl.h"
#include "data/decode_pool.h"
#include "data/scan.h"

void clf_data_opts_default(clf_data_opts *o)
{
    memset(o, 0, sizeof *o);
    o->height = 224;
    o->width = 224;
    o->on_bad_image = CLF_BAD_IMAGE_SKIP;
    o->allow_empty_classes = false;
    o->threads = 0;
    o->cache_dir = NULL;
}

/* Target sizes the pipeline accepts: the same caps as decoded images. */
static bool size_ok(int h, int w, const char *what)
{
    size_t bytes;

    if (h <= 0 || w <= 0 || h > CLF_MAX_IMAGE_SIDE || w > CLF_MAX_IMAGE_SIDE ||
        !clf_mul4_size((size_t)h, (size_t)w, 3, 1, &bytes) || bytes > CLF_MAX_IMAGE_BYTES) {
        CLF_LOG_ERROR("%s: image size %d x %d is out of range (each side 1..%d)", what, h, w,
                      CLF_MAX_IMAGE_SIDE);
        return false;
    }
    return true;
}

void clf_dataset_free(clf_dataset *ds)
{
    if (!ds)
        return;
    for (int c = 0; c < ds->classes; c++)
        free(ds->class_names ? ds->class_names[c] : NULL);
    free(ds->class_names);
    if (ds->paths)
        for (size_t i = 0; i < ds->n; i++)
            free(ds->paths[i]);
    free(ds->paths);
    free(ds->labels);
    free(ds->pixels);
    free(ds);
}

/* An empty dataset with room for `classes` names. */
static clf_dataset *dataset_new(int h, int w, int classes)
{
    clf_dataset *ds = clf_calloc_array(1, sizeof *ds, "dataset");

    if (!ds)
        return NULL;
    ds->h = h;
    ds->w = w;
    ds->classes = classes;
    ds->class_names = clf_calloc_array((size_t)classes, sizeof *ds->class_names,
                                       "class names");
    if (!ds->class_names) {
        free(ds);
        return NULL;
    }
    return ds;
}

clf_status clf_dataset_from_memory(const uint8_t *pixels, const int32_t *labels, size_t n,
                                   int h, int w, int classes, clf_dataset **out)
{
    size_t bytes;
    clf_dataset *ds;

    *out = NULL;
    if (!size_ok(h, w, "in-memory dataset") || classes <= 0 || (n > 0 && (!pixels || !labels)))
        return CLF_ERR_ARG;
    for (size_t i = 0; i < n; i++)
        if (labels[i] < 0 || labels[i] >= classes) {
            CLF_LOG_ERROR("in-memory dataset: label %d of image %zu is outside [0, %d)",
                          (int)labels[i], i, classes);
            return CLF_ERR_ARG;
        }
    if (!clf_mul4_size(n, (size_t)h, (size_t)w, 3, &bytes)) {
        CLF_LOG_ERROR("in-memory dataset: %zu images of %d x %d overflow", n, h, w);
        return CLF_ERR_OVERFLOW;
    }

    ds = dataset_new(h, w, classes);
    if (!ds)
        return CLF_ERR_NOMEM;
    ds->n = n;
    ds->pixels = clf_malloc_array(bytes, 1, "dataset pixels");
    ds->labels = clf_malloc_array(n, sizeof *labels, "dataset labels");
    for (int c = 0; ds->pixels && ds->labels && c < classes; c++) {
        char name[16];

        snprintf(name, sizeof name, "%d", c);
        ds->class_names[c] = clf_strdup(name);
        if (!ds->class_names[c])
            break;
    }
    if (!ds->pixels || !ds->labels || !ds->class_names[classes - 1]) {
        clf_dataset_free(ds);
        return CLF_ERR_NOMEM;
    }
    if (n > 0) {
        memcpy(ds->pixels, pixels, bytes);
        memcpy(ds->labels, labels, n * sizeof *labels);
    }
    *out = ds;
    return CLF_OK;
}

clf_status clf_image_load(const char *path, int height, int width, uint8_t *out)
{
    char why[256] = "";
    clf_status st;

    if (!path || !out || !size_ok(height, width, path ? path : "image"))
        return CLF_ERR_ARG;
    st = clf_decode_one(path, height, width, out, why, sizeof why);
    if (st != CLF_OK)
        CLF_LOG_ERROR("cannot use image '%s': %s", path, why);
    return st;
}

/* ---- accessors ---------------------------------------------------------- */

size_t clf_dataset_size(const clf_dataset *ds)
{
    return ds->n;
}

size_t clf_dataset_skipped(const clf_dataset *ds)
{
    return ds->skipped;
}

int clf_dataset_classes(const clf_dataset *ds)
{
    return ds->classes;
}

const char *clf_dataset_class_name(const clf_dataset *ds, int label)
{
    return label >= 0 && label < ds->classes ? ds->class_names[label] : NULL;
}

int clf_dataset_height(const clf_dataset *ds)
{
    return ds->h;
}

int clf_dataset_width(const clf_dataset *ds)
{
    return ds->w;
}

const uint8_t *clf_dataset_image(const clf_dataset *ds, size_t i)
{
    if (i >= ds->n)
        return NULL;
    return ds->pixels + i * (size_t)ds->h * (size_t)ds->w * 3;
}

int32_t clf_dataset_label(const clf_dataset *ds, size_t i)
{
    return i < ds->n ? ds->labels[i] : -1;
}

const char *clf_dataset_path(const clf_dataset *ds, size_t i)
{
    return ds->paths && i < ds->n ? ds->paths[i] : "";
}
