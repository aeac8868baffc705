/* clf_dataset_load: scan, decode on all cores, compact, check classes. */
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "clfit/data.h"
#include "clfit/log.h"
#include "core/alloc.h"
#include "data/cache.h"
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

/* One slot per candidate file; compaction later gives back skipped ones. */
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

/* Names an empty class folder, saying when it is one clfit may not read
 * (the scan warned about it; "empty" would send the user looking for
 * missing images). */
static void log_empty(const char *dir, const char *name)
{
    size_t len = strlen(dir) + strlen(name) + 2;
    char *path = malloc(len);
    bool unreadable = false;

    if (path) {
        snprintf(path, len, "%s/%s", dir, name);
        unreadable = access(path, R_OK | X_OK) != 0;
        free(path);
    }
    if (unreadable)
        CLF_LOG_ERROR("  class folder '%s' cannot be read (permissions): let clfit read it "
                      "(chmod) or remove it", name);
    else
        CLF_LOG_ERROR("  empty class folder: '%s'", name);
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
        CLF_LOG_ERROR("%zu of %d class folders in '%s' %s no usable image; add images to "
                      "%s or remove %s:", empty, ds->classes, dir, empty == 1 ? "has" : "have",
                      empty == 1 ? "it" : "them", empty == 1 ? "it" : "them");
    for (int c = 0; c < ds->classes; c++) {
        if (count[c] != 0)
            continue;
        if (allow)
            CLF_LOG_WARN("class folder '%s' in '%s' has no usable image (label %d has no "
                         "examples)",
                         ds->class_names[c], dir, c);
        else
            log_empty(dir, ds->class_names[c]);
    }
    free(count);
    return empty && !allow ? CLF_ERR_DATA : CLF_OK;
}

/* What one load carries between its steps. */
typedef struct loading {
    const char *dir;
    const clf_data_opts *o;
    clf_scan scan;
    clf_dataset *ds;
    bool *ok;                /* per candidate file: usable */
    clf_file_stamp *stamps;  /* per candidate file, with a cache only */
    clf_cache *cache;
    size_t hits, fresh;      /* images from the cache; newly decoded ones */
} loading;

/* A scan path relative to the data folder (scan paths start with it). */
static const char *rel_path(const char *dir, const char *path)
{
    path += strlen(dir);
    return *path == '/' ? path + 1 : path;
}

/* Takes what the cache has for unchanged files; lists the rest in
 * todo (file indices). Returns how many are left to decode. */
static size_t use_cache(loading *L, size_t *todo)
{
    size_t slot = (size_t)L->ds->h * (size_t)L->ds->w * 3, m = 0;

    if (L->stamps)
        L->cache = clf_cache_open(L->o->cache_dir, L->dir, L->ds->h, L->ds->w);
    for (size_t i = 0; i < L->scan.n_files; i++) {
        const char *path = L->scan.files[i].path;

        if (L->stamps) {
            clf_file_stamp_get(path, &L->stamps[i]);
            if (clf_cache_get(L->cache, rel_path(L->dir, path), &L->stamps[i],
                              L->ds->pixels + i * slot)) {
                L->ok[i] = true;
                L->hits++;
                continue;
            }
        }
        todo[m++] = i;
    }
    if (L->hits)
        CLF_LOG_INFO("%zu of %zu images came from the image cache in '%s'", L->hits,
                     L->scan.n_files, L->o->cache_dir);
    return m;
}

static clf_status decode(loading *L)
{
    size_t n = L->scan.n_files, m;
    size_t *todo = clf_malloc_array(n, sizeof *todo, "decode list");
    const char **paths = clf_malloc_array(n, sizeof *paths, "decode list");
    bool *ok = clf_calloc_array(n, sizeof *ok, "decode flags");
    clf_decode_req req = {
        .height = L->ds->h,
        .width = L->ds->w,
        .threads = L->o->threads,
        .on_bad_image = L->o->on_bad_image,
        .progress = L->o->progress,
        .progress_user = L->o->progress_user,
    };
    clf_status st = CLF_ERR_NOMEM;

    if (todo && paths && ok) {
        m = use_cache(L, todo);
        for (size_t j = 0; j < m; j++)
            paths[j] = L->scan.files[todo[j]].path;
        req.paths = paths;
        req.slots = todo;
        req.n = m;
        st = m ? clf_decode_files(&req, L->ds->pixels, ok) : CLF_OK;
        for (size_t j = 0; j < m; j++) {
            L->ok[todo[j]] = ok[j];
            L->fresh += ok[j];
        }
    }
    free(todo);
    free(paths);
    free(ok);
    return st;
}

/* Rewrites the cache when this load decoded something new or the cache
 * held images that are gone. Failures are warnings only. */
static void save_cache(loading *L)
{
    const clf_dataset *ds = L->ds;
    const char **rel;
    clf_file_stamp *stamps;
    size_t k = 0;

    if (!L->stamps || (L->fresh == 0 && L->hits == clf_cache_entries(L->cache)))
        return;
    rel = clf_malloc_array(ds->n, sizeof *rel, "cache list");
    stamps = clf_malloc_array(ds->n, sizeof *stamps, "cache list");
    for (size_t i = 0; rel && stamps && i < L->scan.n_files; i++)
        if (L->ok[i]) {
            rel[k] = rel_path(L->dir, ds->paths[k]);
            stamps[k++] = L->stamps[i];
        }
    if (rel && stamps)
        clf_cache_save(L->o->cache_dir, L->dir, ds->h, ds->w, ds->n, ds->pixels, rel,
                       stamps);
    free(rel);
    free(stamps);
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
    loading L = {.dir = dir, .o = o};
    clf_status st = check_opts(dir, o, out);

    if (st != CLF_OK)
        return st;
    *out = NULL;
    st = start(dir, o, &L.scan, &L.ds);
    if (st != CLF_OK)
        goto done;

    L.ok = clf_calloc_array(L.scan.n_files, sizeof *L.ok, "decode flags");
    if (o->cache_dir)
        L.stamps = clf_calloc_array(L.scan.n_files, sizeof *L.stamps, "file stamps");
    L.ds->pixels = alloc_block(L.scan.n_files, L.ds->h, L.ds->w);
    st = L.ok && L.ds->pixels && (L.stamps || !o->cache_dir) ? decode(&L) : CLF_ERR_NOMEM;
    if (st == CLF_OK)
        st = compact(L.ds, &L.scan, L.ok);
    if (st == CLF_OK && L.ds->n == 0) {
        CLF_LOG_ERROR("no usable image in '%s': all %zu image files were skipped", dir,
                      L.ds->skipped);
        st = CLF_ERR_DATA;
    }
    if (st == CLF_OK)
        st = check_classes(L.ds, dir, o->allow_empty_classes);
    if (st == CLF_OK)
        save_cache(&L);
    if (st == CLF_OK)
        CLF_LOG_INFO("found %zu image%s in %d class%s in '%s' (%zu skipped)", L.ds->n,
                     L.ds->n == 1 ? "" : "s", L.ds->classes, L.ds->classes == 1 ? "" : "es",
                     dir, L.ds->skipped);
done:
    free(L.ok);
    free(L.stamps);
    clf_cache_close(L.cache);
    clf_scan_free(&L.scan);
    if (st != CLF_OK)
        clf_dataset_free(L.ds);
    else
        *out = L.ds;
    return st;
}
