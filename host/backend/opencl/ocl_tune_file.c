/* The tuning file: defaults, path, reading with checks, writing. */
#include "backend/opencl/ocl_tune.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "clfit/log.h"
#include "core/alloc.h"
#include "core/cache_dir.h"
#include "core/file.h"
#include "io/atomic_file.h"
#include "io/file_read.h"

#define MAX_FILE 65536

void clf_tune_default(clf_tune *t)
{
    memset(t, 0, sizeof *t);
    t->gemm_r = 6;
    t->gemm_v = 4;
    t->k_slice = 1024;
}

char *clf_tune_path(const clf_device_desc *d)
{
    char *dir = clf_cache_dir("tune"), name[40], *path;
    uint64_t h = CLF_FNV_START;

    if (!dir)
        return NULL;
    h = clf_fnv1a(h, d->name, strlen(d->name) + 1);
    h = clf_fnv1a(h, d->platform_name, strlen(d->platform_name) + 1);
    h = clf_fnv1a(h, d->driver, strlen(d->driver) + 1);
    snprintf(name, sizeof name, "%016llx.tune", (unsigned long long)h);
    path = clf_path_join(dir, name);
    free(dir);
    return path;
}

static bool tile_ok(int r, int v)
{
    return r >= 1 && r <= 16 && v >= 1 && v <= 4 && r * v <= 32;
}

/* "KERNEL NAME=VALUE ..." into p; false on a malformed or long line. */
static bool parse_clblast(char *rest, clf_clblast_params *p)
{
    char *tok = strtok(rest, " \t");

    memset(p, 0, sizeof *p);
    if (!tok || strlen(tok) >= sizeof p->kernel)
        return false;
    strcpy(p->kernel, tok);
    while ((tok = strtok(NULL, " \t")) != NULL) {
        char *eq = strchr(tok, '='), *end;
        unsigned long v;

        if (!eq || p->n == CLF_TUNE_MAX_PARAMS || (size_t)(eq - tok) >= sizeof p->names[0])
            return false;
        v = strtoul(eq + 1, &end, 10);
        if (*end || end == eq + 1 || v > 4096)
            return false;
        memcpy(p->names[p->n], tok, (size_t)(eq - tok));
        p->values[p->n++] = v;
    }
    return p->n > 0;
}

/* One line into *t; returns NULL or what is wrong with it. */
static const char *parse_line(char *line, const clf_device_desc *d, clf_tune *t)
{
    char *key = line, *rest = strchr(line, ' ');
    int a, b, used = 0;

    if (!rest)
        return "a key without a value";
    *rest++ = '\0';
    if (!strcmp(key, "device"))
        return strcmp(rest, d->name) ? "made for another device" : NULL;
    if (!strcmp(key, "driver"))
        return strcmp(rest, d->driver) ? "made for another driver version" : NULL;
    if (!strcmp(key, "gemm_tile")) {
        if (sscanf(rest, "%d %d%n", &a, &b, &used) != 2 || rest[used] || !tile_ok(a, b))
            return "gemm_tile needs R V with 1 <= R <= 16, 1 <= V <= 4, R * V <= 32";
        t->gemm_r = a;
        t->gemm_v = b;
        return NULL;
    }
    if (!strcmp(key, "k_slice")) {
        if (sscanf(rest, "%d%n", &a, &used) != 1 || rest[used] || a < 64 || a > 65536 ||
            a % 16)
            return "k_slice needs a multiple of 16 in 64..65536";
        t->k_slice = a;
        return NULL;
    }
    if (!strcmp(key, "clblast")) {
        if (t->n_clblast == CLF_TUNE_MAX_KERNELS ||
            !parse_clblast(rest, &t->clblast[t->n_clblast]))
            return "clblast needs KERNEL NAME=VALUE ... (at most 16 values, 8 kernels)";
        t->n_clblast++;
        return NULL;
    }
    return "unknown key";
}

/* Parses the whole text; on failure *t is untouched and *line names the
 * offending line. */
static const char *parse_text(char *text, const clf_device_desc *d, clf_tune *t, int *line)
{
    clf_tune got;
    char *save = NULL, *l = strtok_r(text, "\n", &save);

    clf_tune_default(&got);
    *line = 1;
    if (!l || strcmp(l, "clfit-tune 1") != 0)
        return "the first line is not \"clfit-tune 1\"";
    while ((l = strtok_r(NULL, "\n", &save)) != NULL) {
        const char *why;

        (*line)++;
        if (l[0] == '#' || l[0] == '\0')
            continue;
        why = parse_line(l, d, &got);
        if (why)
            return why;
    }
    *t = got;
    return NULL;
}

clf_status clf_tune_load(const clf_device_desc *d, clf_tune *t, bool *from_file)
{
    char *path = clf_tune_path(d);
    uint8_t *data = NULL;
    size_t len = 0;
    const char *why;
    int line = 0;

    clf_tune_default(t);
    *from_file = false;
    if (!path || clf_read_file(path, MAX_FILE, &data, &len, NULL, 0) != CLF_OK) {
        free(path);
        return CLF_OK;
    }
    if (memchr(data, '\0', len))
        why = "it is not text";
    else
        why = parse_text((char *)data, d, t, &line);
    if (why)
        CLF_LOG_WARN("ignoring the tuning file '%s' (line %d: %s); using the defaults. Run "
                     "'clfit tune' again to replace it", path, line, why);
    else
        CLF_LOG_DEBUG("GEMM parameters from '%s'", path);
    *from_file = why == NULL;
    free(data);
    free(path);
    return CLF_OK;
}

static void append(char *buf, size_t cap, size_t *at, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

static void append(char *buf, size_t cap, size_t *at, const char *fmt, ...)
{
    va_list ap;
    int n;

    if (*at >= cap)
        return;
    va_start(ap, fmt);
    n = vsnprintf(buf + *at, cap - *at, fmt, ap);
    va_end(ap);
    *at += n > 0 ? (size_t)n : 0;
}

clf_status clf_tune_save(const clf_device_desc *d, const clf_tune *t)
{
    char *path = clf_tune_path(d), *buf = malloc(MAX_FILE);
    size_t at = 0;
    clf_status st = CLF_ERR_IO;

    if (path && buf) {
        append(buf, MAX_FILE, &at, "clfit-tune 1\ndevice %s\ndriver %s\n", d->name, d->driver);
        append(buf, MAX_FILE, &at, "gemm_tile %d %d\nk_slice %d\n", t->gemm_r, t->gemm_v,
               t->k_slice);
        for (int i = 0; i < t->n_clblast; i++) {
            append(buf, MAX_FILE, &at, "clblast %s", t->clblast[i].kernel);
            for (int j = 0; j < t->clblast[i].n; j++)
                append(buf, MAX_FILE, &at, " %s=%zu", t->clblast[i].names[j],
                       t->clblast[i].values[j]);
            append(buf, MAX_FILE, &at, "\n");
        }
        st = at < MAX_FILE ? clf_atomic_write(path, buf, at) : CLF_ERR_IO;
    } else if (!path) {
        CLF_LOG_ERROR("no cache folder to keep the tuning file in (set CLFIT_CACHE_DIR, "
                      "XDG_CACHE_HOME or HOME)");
    }
    if (st == CLF_OK)
        CLF_LOG_INFO("wrote the tuning file '%s'", path);
    free(path);
    free(buf);
    return st;
}
