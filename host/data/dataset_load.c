/* clf_dataset_load: scan, decode on all cores, compact, check classes. */
#include <stdlib.h>
#include <string.h>

#include "clfit/data.h"
#include "clfit/log.h"
#include "core/alloc.h"
#include "data/dataset_impl.h"
#include "data/decode_pool.h"
#include "data/scan.h"

static clf_status check_opts(const char *dir, const clf_data_opts *o, clf_dataset **out)
{
    size_t bytes;

    if (!dir || !o || !out) {
        CLF_LOG_ERROR("clf_dataset_load: folder, options and result must not be NULL");
        return CLF_ERR_ARG;
    }
    if (o->height <= 0 || o->width <= 0 || o->height > CLF_MAX_IMAGE_SIDE ||
        o->width > CLF_MAX_IMAGE_SIDE ||
        !clf_mul4_size((size_t)o->height, (size_t)o->width, 3, 1, &bytes) ||
        bytes > CLF_MAX_IMAGE_BYTES) {
        CLF_LOG_ERROR("image size %d x %d is out of range (each side 1..%d)", o->height,
                      o->width, CLF_MAX_IMAGE_SIDE);
        return CLF_ERR_ARG;
    }
    if (o->on_bad_image != CLF_BAD_IMAGE_SKIP && o->on_bad_image != CLF_BAD_IMAGE_FAIL) {
        CLF_LOG_ERROR("unknown bad-image policy %d", (int)o->on_bad_image);
        return CLF_ERR_ARG;
    }
    return CLF_OK;
}

/* One slot per candidate file; the whole block is kept after compaction. */
static uint8_t *alloc_block(size_t n, int h, int w)
{
    size_t bytes;
    uint8_t *p;

    if (!clf_mul4_size(n, (size_t)h, (size_t)w, 3, &bytes)) {
        CLF_LOG_ERROR("%zu images of %d x %d x 3 bytes overflow the address space", n, h, w);
        return NULL;
    }
    p = malloc(bytes ? bytes : 1);
    if (!p)
        CLF_LOG_ERROR("out of memory: %zu images of %d x %d x 3 bytes need %.1f MiB; "
                      "use a smaller image size or fewer images",
                      n, h, w, (double)bytes / (1024.0 * 1024.0));
    return p;
}

/* Moves the usable images to the front, in file order, and takes their
 * labels and paths from the scan. */
static clf_status compact(clf_dataset *ds, clf_scan *scan, const bool *ok)
{
    size_t slot = (size_t)ds->h * (size_t)ds->w * 3, k = 0;

    ds->labels = clf_malloc_array(scan->n_files, sizeof *ds->labels, "dataset labels");
    ds->paths = clf_calloc_array(scan->n_files, sizeof *ds->paths, "dataset paths");
    if (!ds->labels || !ds->paths)
        return CLF_ERR_NOMEM;
    for (size_t i = 0; i < scan->n_files; i++) {
        if (!ok[i])
            continue;
        if (k != i)
            memmove(ds->pixels + k * slot, ds->pixels + i * slot, slot);
        ds->labels[k] = scan->files[i].label;
        ds->paths[k] = scan->files[i].path;
        scan->files[i].path = NULL;
        k++;
    }
    ds->n = k;
    ds->skipped = scan->n_files - k;
    if (k < scan->n_files && k > 0) {
        /* Give back the slots of skipped files; keeping them is harmless. */
        void *p = ds->pixels;

        if (clf_realloc_array(&p, k, slot, "dataset pixels") == CLF_OK)
            ds->pixels = p;
    }
    return CLF_OK;
}

static size_t *count_per_class(const clf_dataset *ds)
{
    size_t *count = clf_calloc_array((size_t)ds->classes, sizeof *count, "class counts");

    if (count)
        for (size_t i = 0; i < ds->n; i++)
            count[ds->labels[i]]++;
    return count;
}

/* Every class needs an image, unless allowed; all empty ones are named. */
static clf_status check_classes(const clf_dataset *ds, const char *dir, bool allow)
{
    size_t *count = count_per_class(ds), empty = 0;

    if (!count)
        return CLF_ERR_NOMEM;
    for (int c = 0; c < ds->classes; c++)
        empty += count[c] == 0;
    if (empty && !allow)
        CLF_LOG_ERROR("%zu of %d class folders in '%s' have no usable image; add images, "
                      "remove the folders or allow empty classes:",
                      empty, ds->classes, dir);
    for (int c = 0; c < ds->classes; c++) {
        if (count[c] != 0)
            continue;
        if (allow)
            CLF_LOG_WARN("class folder '%s' in '%s' has no usable image (label %d has no "
                         "examples)",
                         ds->class_names[c], dir, c);
        else
            CLF_LOG_ERROR("  empty class folder: '%s'", ds->class_names[c]);
    }
    free(count);
    return empty && !allow ? CLF_ERR_DATA : CLF_OK;
}

static clf_status decode(const clf_data_opts *o, clf_scan *scan, clf_dataset *ds, bool *ok)
{
    const char **paths = clf_malloc_array(scan->n_files, sizeof *paths, "path list");
    clf_decode_req req = {
        .n = scan->n_files,
        .height = ds->h,
        .width = ds->w,
        .threads = o->threads,
        .on_bad_image = o->on_bad_image,
        .progress = o->progress,
        .progress_user = o->progress_user,
    };
    clf_status st;

    if (!paths)
        return CLF_ERR_NOMEM;
    for (size_t i = 0; i < scan->n_files; i++)
        paths[i] = scan->files[i].path;
    req.paths = paths;
    st = clf_decode_files(&req, ds->pixels, ok);
    free(paths);
    return st;
}

/* Scans `dir` and creates the dataset with the scan's class names. */
static clf_status start(const char *dir, const clf_data_opts *o, clf_scan *scan,
                        clf_dataset **out)
{
    clf_dataset *ds;
    clf_status st = clf_scan_folder(dir, scan);

    if (st != CLF_OK)
        return st;
    if (scan->n_files == 0) {
        CLF_LOG_ERROR("no image files in the %d class folders of '%s' (looked for .jpg .jpeg "
                      ".png .bmp .gif .tga .ppm .pgm .pnm .pbm)",
                      scan->n_classes, dir);
        return CLF_ERR_DATA;
    }
    ds = clf_calloc_array(1, sizeof *ds, "dataset");
    if (!ds)
        return CLF_ERR_NOMEM;
    ds->h = o->height;
    ds->w = o->width;
    ds->classes = scan->n_classes;
    ds->class_names = scan->classes; /* the dataset owns them from here */
    scan->classes = NULL;
    scan->n_classes = 0;
    *out = ds;
    return CLF_OK;
}

clf_status clf_dataset_load(const char *dir, const clf_data_opts *o, clf_dataset **out)
{
    clf_scan scan = {0};
    clf_dataset *ds = NULL;
    bool *ok = NULL;
    clf_status st = check_opts(dir, o, out);

    if (st != CLF_OK)
        return st;
    *out = NULL;
    st = start(dir, o, &scan, &ds);
    if (st != CLF_OK)
        goto done;

    ok = clf_calloc_array(scan.n_files, sizeof *ok, "decode flags");
    ds->pixels = alloc_block(scan.n_files, ds->h, ds->w);
    st = ok && ds->pixels ? decode(o, &scan, ds, ok) : CLF_ERR_NOMEM;
    if (st == CLF_OK)
        st = compact(ds, &scan, ok);
    if (st == CLF_OK && ds->n == 0) {
        CLF_LOG_ERROR("no usable image in '%s': all %zu image files were skipped", dir,
                      ds->skipped);
        st = CLF_ERR_DATA;
    }
    if (st == CLF_OK)
        st = check_classes(ds, dir, o->allow_empty_classes);
    if (st == CLF_OK)
        CLF_LOG_INFO("found %zu images in %d classes in '%s' (%zu skipped)", ds->n,
                     ds->classes, dir, ds->skipped);
done:
    free(ok);
    clf_scan_free(&scan);
    if (st != CLF_OK)
        clf_dataset_free(ds);
    else
        *out = ds;
    return st;
}
