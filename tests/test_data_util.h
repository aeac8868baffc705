/* Helpers shared by the data tests: fixtures, temporary folders, captured
 * log lines. Static inline so each test takes only what it uses. */
#ifndef CLFIT_TEST_DATA_UTIL_H
#define CLFIT_TEST_DATA_UTIL_H

#include <errno.h>
#include <fcntl.h>
#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "clfit/log.h"

#define FIXTURES CLFIT_SOURCE_DIR "/tests/fixtures/images"

/* ---- captured log ------------------------------------------------------- */

typedef struct captured_log {
    char text[1 << 16]; /* every message, one per line */
    int warnings, errors, infos;
} captured_log;

static inline void capture_fn(clf_log_level level, const char *msg, void *user)
{
    captured_log *c = user;
    size_t used = strlen(c->text);

    snprintf(c->text + used, sizeof c->text - used, "%s\n", msg);
    c->warnings += level == CLF_LOG_WARN;
    c->errors += level == CLF_LOG_ERROR;
    c->infos += level == CLF_LOG_INFO;
}

static inline void capture_start(captured_log *c)
{
    memset(c, 0, sizeof *c);
    clf_log_set_level(CLF_LOG_INFO);
    clf_log_set_callback(capture_fn, c);
}

static inline void capture_stop(void)
{
    clf_log_set_callback(NULL, NULL);
}

/* Lines of c->text that contain `needle`. */
static inline int capture_count(const captured_log *c, const char *needle)
{
    int n = 0;

    for (const char *p = c->text; (p = strstr(p, needle)) != NULL; p += strlen(needle))
        n++;
    return n;
}

/* ---- files -------------------------------------------------------------- */

/* Reads a whole file; NULL if it cannot. */
static inline unsigned char *slurp(const char *path, size_t *len)
{
    FILE *f = fopen(path, "rb");
    unsigned char *buf = NULL;
    long n;

    if (!f)
        return NULL;
    if (fseek(f, 0, SEEK_END) == 0 && (n = ftell(f)) >= 0 && fseek(f, 0, SEEK_SET) == 0) {
        buf = malloc((size_t)n + 1);
        if (buf && fread(buf, 1, (size_t)n, f) != (size_t)n) {
            free(buf);
            buf = NULL;
        }
        *len = (size_t)n;
    }
    fclose(f);
    return buf;
}

static inline unsigned char *fixture(const char *name, size_t *len)
{
    char path[4096];

    snprintf(path, sizeof path, "%s/%s", FIXTURES, name);
    return slurp(path, len);
}

static inline int spit(const char *path, const void *data, size_t len)
{
    FILE *f = fopen(path, "wb");
    int ok;

    if (!f)
        return -1;
    ok = fwrite(data, 1, len, f) == len;
    return fclose(f) == 0 && ok ? 0 : -1;
}

/* Copies fixture `name` to dir/rel; 0 on success. */
static inline int put_fixture(const char *dir, const char *rel, const char *name)
{
    char path[4096];
    size_t len;
    unsigned char *d = fixture(name, &len);
    int r;

    if (!d)
        return -1;
    snprintf(path, sizeof path, "%s/%s", dir, rel);
    r = spit(path, d, len);
    free(d);
    return r;
}

static inline int put_bytes(const char *dir, const char *rel, const void *data, size_t len)
{
    char path[4096];

    snprintf(path, sizeof path, "%s/%s", dir, rel);
    return spit(path, data, len);
}

static inline int make_dir(const char *dir, const char *rel)
{
    char path[4096];

    snprintf(path, sizeof path, "%s/%s", dir, rel);
    return mkdir(path, 0755) == 0 || errno == EEXIST ? 0 : -1;
}

/* ---- temporary folders --------------------------------------------------- */

/* rm -r without following symlinks; folders made unreadable by a test
 * are opened up first. */
static inline void remove_tree(const char *path)
{
    struct stat st;
    DIR *d;
    struct dirent *e;

    if (lstat(path, &st) != 0)
        return;
    if (!S_ISDIR(st.st_mode)) {
        unlink(path);
        return;
    }
    chmod(path, 0755);
    d = opendir(path);
    while (d && (e = readdir(d)) != NULL) {
        char child[4096];

        if (strcmp(e->d_name, ".") == 0 || strcmp(e->d_name, "..") == 0)
            continue;
        snprintf(child, sizeof child, "%s/%s", path, e->d_name);
        remove_tree(child);
    }
    if (d)
        closedir(d);
    rmdir(path);
}

/* A fresh folder under $TMPDIR (or /tmp), written into buf. */
static inline char *temp_dir(char *buf, size_t size)
{
    const char *base = getenv("TMPDIR");

    snprintf(buf, size, "%s/clfit-test-XXXXXX", base && *base ? base : "/tmp");
    return mkdtemp(buf);
}

#endif
