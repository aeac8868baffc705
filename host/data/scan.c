/* Image folder scan: classes from subfolders, files from a recursive walk. */
#include "data/scan.h"

#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>

#include "clfit/log.h"
#include "core/alloc.h"

static const char *const image_exts[] = {"jpg", "jpeg", "png", "bmp", "gif",
                                         "tga", "ppm", "pgm", "pnm", "pbm"};

bool clf_scan_is_image_name(const char *name)
{
    const char *dot = strrchr(name, '.');

    if (!dot)
        return false;
    for (size_t i = 0; i < sizeof image_exts / sizeof image_exts[0]; i++)
        if (strcasecmp(dot + 1, image_exts[i]) == 0)
            return true;
    return false;
}

/* ---- small helpers ---------------------------------------------------- */

static char *join(const char *dir, const char *name)
{
    size_t a = strlen(dir), b = strlen(name), n;
    bool slash = a > 0 && dir[a - 1] != '/';
    char *p;

    if (!clf_add_size(a + b, (size_t)slash + 1, &n))
        return NULL;
    p = clf_malloc_array(n, 1, "path");
    if (p)
        snprintf(p, n, "%s%s%s", dir, slash ? "/" : "", name);
    return p;
}

static int cmp_names(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

static void free_names(char **names, size_t n)
{
    for (size_t i = 0; i < n; i++)
        free(names[i]);
    free(names);
}

/* The sorted, non-hidden entry names of `path` (without "." and ".."). */
static clf_status list_dir(const char *path, char ***out, size_t *count, int *err)
{
    DIR *d = opendir(path);
    char **names = NULL;
    size_t n = 0, cap = 0;
    struct dirent *e;
    clf_status st = CLF_OK;

    *out = NULL;
    *count = 0;
    if (!d) {
        *err = errno;
        return CLF_ERR_IO;
    }
    while ((e = readdir(d)) != NULL) {
        if (e->d_name[0] == '.')
            continue; /* hidden, and "." and ".." */
        if (n == cap) {
            cap = cap ? 2 * cap : 16;
            st = clf_realloc_array((void **)&names, cap, sizeof *names, "folder listing");
            if (st != CLF_OK)
                break;
        }
        names[n] = clf_strdup(e->d_name);
        if (!names[n]) {
            st = CLF_ERR_NOMEM;
            break;
        }
        n++;
    }
    closedir(d);
    if (st != CLF_OK) {
        free_names(names, n);
        return st;
    }
    if (n > 1)
        qsort(names, n, sizeof *names, cmp_names);
    *out = names;
    *count = n;
    return CLF_OK;
}

/* ---- the recursive walk ----------------------------------------------- */

typedef struct dir_id {
    dev_t dev;
    ino_t ino;
} dir_id;

typedef struct walker {
    clf_scan *s;
    size_t cap;
    dir_id stack[CLF_SCAN_MAX_DEPTH + 2]; /* folders on the current path */
    int depth;
} walker;

static clf_status add_file(walker *w, char *path, int32_t label, size_t dir_len)
{
    clf_scan *s = w->s;
    clf_status st;

    if (s->n_files == w->cap) {
        size_t cap = w->cap ? 2 * w->cap : 256;

        st = clf_realloc_array((void **)&s->files, cap, sizeof *s->files, "file list");
        if (st != CLF_OK) {
            free(path);
            return st;
        }
        w->cap = cap;
    }
    s->files[s->n_files++] = (clf_scan_file){path, label, dir_len};
    return CLF_OK;
}

static void note_other(clf_scan *s, char *path)
{
    s->n_other++;
    if (!s->other_example)
        s->other_example = path;
    else
        free(path);
}

/* Index of the folder on the current path that `st` is, or -1. */
static int on_path(const walker *w, const struct stat *st)
{
    for (int i = 0; i < w->depth; i++)
        if (w->stack[i].dev == st->st_dev && w->stack[i].ino == st->st_ino)
            return i;
    return -1;
}

static clf_status walk_dir(walker *w, const char *path, int32_t label);

/* A subfolder: recurse unless it closes a loop or is too deep. */
static clf_status enter_dir(walker *w, const char *path, const struct stat *st, int32_t label)
{
    clf_status r;

    if (on_path(w, st) >= 0) {
        CLF_LOG_WARN("'%s' leads back to a folder already being walked (a symlink loop); "
                     "not following it",
                     path);
        return CLF_OK;
    }
    if (w->depth > CLF_SCAN_MAX_DEPTH) {
        CLF_LOG_WARN("'%s' is nested more than %d folders deep; not walking it", path,
                     CLF_SCAN_MAX_DEPTH);
        return CLF_OK;
    }
    w->stack[w->depth++] = (dir_id){st->st_dev, st->st_ino};
    r = walk_dir(w, path, label);
    w->depth--;
    return r;
}

/* One entry of a class folder: a subfolder, a candidate file or neither.
 * Takes ownership of `path`. */
static clf_status visit(walker *w, char *path, const char *name, size_t dir_len,
                        int32_t label)
{
    struct stat st;
    clf_status r;

    /* stat follows symlinks; a dangling link with an image name stays a
     * candidate so that reading it reports why it failed. */
    if (stat(path, &st) == 0 && S_ISDIR(st.st_mode)) {
        r = enter_dir(w, path, &st, label);
        free(path);
        return r;
    }
    if (clf_scan_is_image_name(name))
        return add_file(w, path, label, dir_len);
    note_other(w->s, path);
    return CLF_OK;
}

static clf_status walk_dir(walker *w, const char *path, int32_t label)
{
    char **names;
    size_t n;
    int err = 0;
    clf_status st = list_dir(path, &names, &n, &err);

    if (st == CLF_ERR_IO) {
        CLF_LOG_WARN("cannot read folder '%s': %s; its files are not used", path,
                     strerror(err));
        return CLF_OK;
    }
    for (size_t i = 0; i < n && st == CLF_OK; i++) {
        char *full = join(path, names[i]);

        st = full ? visit(w, full, names[i], strlen(path), label) : CLF_ERR_NOMEM;
    }
    free_names(names, n);
    return st;
}

/* ---- classes and the whole scan --------------------------------------- */

/* ImageFolder's order within a class: by folder path, then by name. */
static int cmp_files(const void *pa, const void *pb)
{
    const clf_scan_file *a = pa, *b = pb;
    size_t n = a->dir_len < b->dir_len ? a->dir_len : b->dir_len;
    int c;

    if (a->label != b->label)
        return a->label < b->label ? -1 : 1;
    c = memcmp(a->path, b->path, n);
    if (c == 0 && a->dir_len != b->dir_len)
        return a->dir_len < b->dir_len ? -1 : 1;
    if (c != 0)
        return c;
    return strcmp(a->path + a->dir_len + 1, b->path + b->dir_len + 1);
}

static bool is_dir(const char *path, struct stat *st)
{
    return stat(path, st) == 0 && S_ISDIR(st->st_mode);
}

/* path is a symlink whose target cannot be reached; *err says why. */
static bool dangling(const char *path, int *err)
{
    struct stat sb;

    if (lstat(path, &sb) != 0 || !S_ISLNK(sb.st_mode) || stat(path, &sb) == 0)
        return false;
    *err = errno;
    return true;
}

/* Keeps the subfolder names of `dir` in s->classes; counts loose images. */
static clf_status find_classes(const char *dir, clf_scan *s, size_t *loose)
{
    char **names;
    size_t n, kept = 0;
    int err = 0;
    clf_status st = list_dir(dir, &names, &n, &err);

    if (st == CLF_ERR_IO) {
        CLF_LOG_ERROR("cannot open the data folder '%s': %s", dir, strerror(err));
        return st;
    }
    if (st != CLF_OK)
        return st;
    *loose = 0;
    for (size_t i = 0; i < n; i++) {
        char *full = join(dir, names[i]);
        struct stat sb;

        if (full && is_dir(full, &sb))
            names[kept++] = names[i];
        else {
            /* a class folder behind a link that leads nowhere (an unmounted
             * disk?) would otherwise vanish without a word */
            if (full && !clf_scan_is_image_name(names[i]) && dangling(full, &err))
                CLF_LOG_WARN("'%s' is a link to nothing (%s) and is not used as a class "
                             "folder; fix or remove the link", full, strerror(err));
            *loose += clf_scan_is_image_name(names[i]);
            free(names[i]);
        }
        free(full);
    }
    if (kept > (size_t)INT32_MAX) {
        free_names(names, kept);
        return CLF_ERR_DATA;
    }
    s->classes = names;
    s->n_classes = (int)kept;
    return CLF_OK;
}

static void log_no_classes(const char *dir, size_t loose)
{
    if (loose)
        CLF_LOG_ERROR("'%s' has no class subfolders, only %zu image files directly in it; "
                      "put each class's images in its own subfolder (DIR/CLASS/IMAGE)",
                      dir, loose);
    else
        CLF_LOG_ERROR("'%s' has no class subfolders; expected one subfolder per class "
                      "holding its images (DIR/CLASS/IMAGE)",
                      dir);
}

static clf_status walk_classes(const char *dir, clf_scan *s)
{
    walker w = {.s = s};
    struct stat sb;
    clf_status st = CLF_OK;

    if (stat(dir, &sb) == 0)
        w.stack[w.depth++] = (dir_id){sb.st_dev, sb.st_ino};
    for (int c = 0; c < s->n_classes && st == CLF_OK; c++) {
        char *path = join(dir, s->classes[c]);

        if (!path)
            return CLF_ERR_NOMEM;
        if (is_dir(path, &sb))
            st = enter_dir(&w, path, &sb, c);
        free(path);
    }
    return st;
}

clf_status clf_scan_folder(const char *dir, clf_scan *out)
{
    size_t loose = 0;
    clf_status st;

    memset(out, 0, sizeof *out);
    st = find_classes(dir, out, &loose);
    if (st != CLF_OK)
        return st;
    if (out->n_classes == 0) {
        log_no_classes(dir, loose);
        return CLF_ERR_DATA;
    }
    if (loose)
        CLF_LOG_INFO("ignoring %zu image file%s directly in '%s' (images belong in class "
                     "subfolders)",
                     loose, loose == 1 ? "" : "s", dir);

    st = walk_classes(dir, out);
    if (st != CLF_OK)
        return st;
    if (out->n_files > 1)
        qsort(out->files, out->n_files, sizeof *out->files, cmp_files);
    if (out->n_other)
        CLF_LOG_INFO("ignoring %zu files without an image extension (jpg jpeg png bmp gif "
                     "tga ppm pgm pnm pbm), e.g. '%s'",
                     out->n_other, out->other_example);
    return CLF_OK;
}

void clf_scan_free(clf_scan *s)
{
    if (!s)
        return;
    free_names(s->classes, (size_t)s->n_classes);
    for (size_t i = 0; i < s->n_files; i++)
        free(s->files[i].path);
    free(s->files);
    free(s->other_example);
    memset(s, 0, sizeof *s);
}
