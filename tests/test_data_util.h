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

#include <zlib.h>

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

static inline void be32(unsigned char *p, unsigned long v)
{
    for (int i = 0; i < 4; i++)
        p[i] = (unsigned char)(v >> (24 - 8 * i));
}

/* Length, tag, data, CRC; returns the chunk's size. */
static inline size_t png_put_chunk(unsigned char *out, const char *tag,
                                   const unsigned char *data, size_t len)
{
    be32(out, len);
    memcpy(out + 4, tag, 4);
    if (len)
        memcpy(out + 8, data, len);
    be32(out + 8 + len, crc32(0, out + 4, (uInt)(4 + len)));
    return 12 + len;
}

/* Writes dir/rel as a w x h PNG of one colour (8-bit RGB, no filter). */
static inline int put_solid_png(const char *dir, const char *rel, int w, int h, int r, int g,
                                int b)
{
    size_t row = 1 + 3 * (size_t)w, raw_len = row * (size_t)h, n = 8;
    uLongf zlen = compressBound((uLong)raw_len);
    unsigned char *raw = calloc(raw_len, 1), *z = malloc(zlen), *png = malloc(zlen + 64);
    unsigned char ihdr[13] = {0, 0, 0, 0, 0, 0, 0, 0, 8, 2, 0, 0, 0};
    int rc = -1;

    for (int y = 0; raw && y < h; y++)
        for (int x = 0; x < w; x++) {
            unsigned char *p = raw + (size_t)y * row + 1 + 3 * (size_t)x;

            p[0] = (unsigned char)r;
            p[1] = (unsigned char)g;
            p[2] = (unsigned char)b;
        }
    if (raw && z && png && compress(z, &zlen, raw, (uLong)raw_len) == Z_OK) {
        memcpy(png, "\x89PNG\r\n\x1a\n", 8);
        be32(ihdr, (unsigned long)w);
        be32(ihdr + 4, (unsigned long)h);
        n += png_put_chunk(png + n, "IHDR", ihdr, 13);
        n += png_put_chunk(png + n, "IDAT", z, zlen);
        n += png_put_chunk(png + n, "IEND", NULL, 0);
        rc = put_bytes(dir, rel, png, n);
    }
    free(raw);
    free(z);
    free(png);
    return rc;
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
        size_t a = strlen(path), b = strlen(e->d_name);

        if (strcmp(e->d_name, ".") == 0 || strcmp(e->d_name, "..") == 0)
            continue;
        if (a + b + 2 > sizeof child)
            continue;
        memcpy(child, path, a);
        child[a] = '/';
        memcpy(child + a + 1, e->d_name, b + 1);
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
