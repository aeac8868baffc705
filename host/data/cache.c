/* The on-disk cache of decoded images: naming, reading, checking, writing. */
#include "data/cache.h"

#include <errno.h>
#include <fcntl.h>
#include <dirent.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <zlib.h>

#include "clfit/log.h"
#include "core/alloc.h"
#include "io/atomic_file.h"

#define HEADER_BYTES 40
#define ENTRY_BYTES 28
#define MAX_NAME 4096

typedef struct entry {
    const char *name; /* NUL-terminated, inside names */
    clf_file_stamp stamp;
    uint32_t crc; /* of the image's pixels */
    size_t index; /* image number in the file */
} entry;

struct clf_cache {
    char *path;
    int fd;
    size_t image_bytes;
    off_t pixels_at;
    size_t n;
    entry *entries; /* sorted by name */
    char *names;
};

void clf_file_stamp_get(const char *path, clf_file_stamp *st)
{
    struct stat sb;

    memset(st, 0, sizeof *st);
    if (stat(path, &sb) != 0)
        return;
    st->size = (uint64_t)sb.st_size;
    st->sec = (int64_t)sb.st_mtim.tv_sec;
    st->nsec = (uint32_t)sb.st_mtim.tv_nsec;
    st->valid = true;
}

/* ---- little-endian fields ------------------------------------------------ */

static uint64_t get_le(const uint8_t *p, int bytes)
{
    uint64_t v = 0;

    for (int i = bytes - 1; i >= 0; i--)
        v = v << 8 | p[i];
    return v;
}

static void put_le(uint8_t *p, uint64_t v, int bytes)
{
    for (int i = 0; i < bytes; i++)
        p[i] = (uint8_t)(v >> (8 * i));
}

/* ---- the file name ------------------------------------------------------- */

/* FNV-1a, 64 bits: a stable name for a folder, not a security measure. */
static uint64_t fnv1a(const char *s)
{
    uint64_t h = 0xcbf29ce484222325ULL;

    for (; *s; s++)
        h = (h ^ (uint8_t)*s) * 0x100000001b3ULL;
    return h;
}

static char *cache_path(const char *cache_dir, const char *data_dir, int h, int w)
{
    char *real = realpath(data_dir, NULL);
    uint64_t key = fnv1a(real ? real : data_dir);
    size_t n = strlen(cache_dir) + 64;
    char *p = clf_malloc_array(n, 1, "cache path");

    free(real);
    if (p)
        snprintf(p, n, "%s/clfit-%016llx-%dx%d.cache", cache_dir, (unsigned long long)key, h,
                 w);
    return p;
}

/* CRC-32 of the header (its CRC field taken as zero) and the rest of the
 * index. */
static uint32_t index_crc(const uint8_t *header, const uint8_t *rest, size_t rest_len)
{
    uint8_t hd[HEADER_BYTES];
    uLong crc = crc32(0L, Z_NULL, 0);

    memcpy(hd, header, HEADER_BYTES);
    put_le(hd + 20, 0, 4);
    crc = crc32(crc, hd, HEADER_BYTES);
    for (size_t at = 0; at < rest_len; at += 1u << 30) {
        size_t part = rest_len - at < (1u << 30) ? rest_len - at : 1u << 30;

        crc = crc32(crc, rest + at, (uInt)part);
    }
    return (uint32_t)crc;
}

static uint32_t pixels_crc(const uint8_t *px, size_t len)
{
    return (uint32_t)crc32(crc32(0L, Z_NULL, 0), px, (uInt)len);
}

/* ---- reading ------------------------------------------------------------- */

static bool read_at(int fd, void *buf, size_t len, off_t at)
{
    size_t got = 0;

    while (got < len) {
        ssize_t r = pread(fd, (uint8_t *)buf + got, len - got, at + (off_t)got);

        if (r < 0 && errno == EINTR)
            continue;
        if (r <= 0)
            return false;
        got += (size_t)r;
    }
    return true;
}

static int cmp_entries(const void *a, const void *b)
{
    return strcmp(((const entry *)a)->name, ((const entry *)b)->name);
}

/* Checks the header against the file's size; fills n, name bytes and the
 * image size. Returns a reason, or NULL when it checks out. */
static const char *check_header(const uint8_t *hd, uint64_t file_size, int h, int w,
                                clf_cache *c, size_t *name_bytes)
{
    uint64_t n = get_le(hd + 24, 8), nb = get_le(hd + 32, 8);
    size_t head, pixels, total;

    if (memcmp(hd, "CLFCACHE", 8) != 0)
        return "not a clfit cache file";
    if (get_le(hd + 8, 4) != CLF_CACHE_VERSION)
        return "written by another clfit version";
    if (get_le(hd + 12, 4) != (uint64_t)h || get_le(hd + 16, 4) != (uint64_t)w)
        return "holds another image size";
    if (n > file_size / ENTRY_BYTES || nb > file_size || nb > n * MAX_NAME)
        return "counts larger than the file";
    c->image_bytes = (size_t)h * (size_t)w * 3;
    if (!clf_mul_size((size_t)n, ENTRY_BYTES, &head) ||
        !clf_add_size(head + HEADER_BYTES, (size_t)nb, &head) ||
        !clf_mul_size((size_t)n, c->image_bytes, &pixels) ||
        !clf_add_size(head, pixels, &total) || total != file_size)
        return "size does not match its header (truncated?)";
    c->n = (size_t)n;
    c->pixels_at = (off_t)head;
    *name_bytes = (size_t)nb;
    return NULL;
}

/* Reads the entry table and the names, checked against the header's
 * CRC; returns a reason or NULL. */
static const char *read_entries(clf_cache *c, const uint8_t *hd, size_t name_bytes)
{
    size_t table = c->n * ENTRY_BYTES, used = 0;
    uint8_t *raw = clf_malloc_array(table + name_bytes, 1, "cache index");

    c->entries = clf_calloc_array(c->n, sizeof *c->entries, "cache index");
    c->names = clf_malloc_array(name_bytes + c->n, 1, "cache names");
    if (!raw || !c->entries || !c->names) {
        free(raw);
        return "out of memory";
    }
    if (!read_at(c->fd, raw, table + name_bytes, HEADER_BYTES)) {
        free(raw);
        return "read failed";
    }
    if (index_crc(hd, raw, table + name_bytes) != (uint32_t)get_le(hd + 20, 4)) {
        free(raw);
        return "its index is damaged (checksum mismatch)";
    }
    for (size_t i = 0; i < c->n; i++) {
        const uint8_t *e = raw + i * ENTRY_BYTES;
        size_t len = (size_t)get_le(e + 20, 4);
        char *name = c->names + used + i;

        if (len == 0 || len > MAX_NAME || len > name_bytes - used ||
            memchr(raw + table + used, '\0', len)) {
            free(raw);
            return "a name is malformed";
        }
        memcpy(name, raw + table + used, len);
        name[len] = '\0';
        c->entries[i] = (entry){name, {get_le(e, 8), (int64_t)get_le(e + 8, 8),
                                       (uint32_t)get_le(e + 16, 4), true},
                                (uint32_t)get_le(e + 24, 4), i};
        used += len;
    }
    free(raw);
    if (used != name_bytes)
        return "names do not add up";
    qsort(c->entries, c->n, sizeof *c->entries, cmp_entries);
    return NULL;
}

void clf_cache_close(clf_cache *c)
{
    if (!c)
        return;
    if (c->fd >= 0)
        close(c->fd);
    free(c->entries);
    free(c->names);
    free(c->path);
    free(c);
}

clf_cache *clf_cache_open(const char *cache_dir, const char *data_dir, int h, int w)
{
    clf_cache *c = clf_calloc_array(1, sizeof *c, "cache");
    uint8_t hd[HEADER_BYTES];
    const char *bad = NULL;
    size_t name_bytes = 0;
    struct stat sb;

    if (!c)
        return NULL;
    c->fd = -1;
    c->path = cache_path(cache_dir, data_dir, h, w);
    /* O_NONBLOCK: a FIFO planted under the cache's name must not block */
    if (c->path)
        c->fd = open(c->path, O_RDONLY | O_CLOEXEC | O_NONBLOCK);
    if (c->fd < 0) { /* no cache yet: nothing to say */
        clf_cache_close(c);
        return NULL;
    }
    if (fstat(c->fd, &sb) != 0 || !S_ISREG(sb.st_mode) || sb.st_size < HEADER_BYTES ||
        !read_at(c->fd, hd, HEADER_BYTES, 0))
        bad = "unreadable or too short";
    if (!bad)
        bad = check_header(hd, (uint64_t)sb.st_size, h, w, c, &name_bytes);
    if (!bad)
        bad = read_entries(c, hd, name_bytes);
    if (bad) {
        CLF_LOG_WARN("ignoring the image cache '%s': %s; it will be rewritten", c->path, bad);
        clf_cache_close(c);
        return NULL;
    }
    return c;
}

size_t clf_cache_entries(const clf_cache *c)
{
    return c ? c->n : 0;
}

bool clf_cache_get(clf_cache *c, const char *rel, const clf_file_stamp *st, uint8_t *dst)
{
    entry key = {.name = rel};
    const entry *e;

    if (!c || !st->valid)
        return false;
    e = bsearch(&key, c->entries, c->n, sizeof *c->entries, cmp_entries);
    if (!e || e->stamp.size != st->size || e->stamp.sec != st->sec ||
        e->stamp.nsec != st->nsec)
        return false;
    if (!read_at(c->fd, dst, c->image_bytes,
                 c->pixels_at + (off_t)(e->index * c->image_bytes))) {
        CLF_LOG_WARN("image cache '%s': reading '%s' failed; decoding it instead", c->path,
                     rel);
        return false;
    }
    if (pixels_crc(dst, c->image_bytes) != e->crc) {
        CLF_LOG_WARN("image cache '%s': the pixels of '%s' are damaged (checksum mismatch); "
                     "decoding it instead", c->path, rel);
        return false;
    }
    return true;
}

/* ---- writing ------------------------------------------------------------- */

static bool write_all(int fd, const void *buf, size_t len)
{
    size_t done = 0;

    while (done < len) {
        ssize_t r = write(fd, (const uint8_t *)buf + done, len - done);

        if (r < 0 && errno == EINTR)
            continue;
        if (r <= 0)
            return false;
        done += (size_t)r;
    }
    return true;
}

/* Header, entry table and names in one block, with their CRC and each
 * image's. */
static uint8_t *index_block(int h, int w, size_t n, const char *const *rel,
                            const clf_file_stamp *stamps, const uint8_t *pixels, size_t *len)
{
    size_t image_bytes = (size_t)h * (size_t)w * 3;
    size_t names = 0, at;
    uint8_t *b;

    for (size_t i = 0; i < n; i++)
        names += strlen(rel[i]);
    *len = HEADER_BYTES + n * ENTRY_BYTES + names;
    b = clf_malloc_array(*len, 1, "cache index");
    if (!b)
        return NULL;
    memcpy(b, "CLFCACHE", 8);
    put_le(b + 8, CLF_CACHE_VERSION, 4);
    put_le(b + 12, (uint64_t)h, 4);
    put_le(b + 16, (uint64_t)w, 4);
    put_le(b + 20, 0, 4);
    put_le(b + 24, n, 8);
    put_le(b + 32, names, 8);
    at = HEADER_BYTES + n * ENTRY_BYTES;
    for (size_t i = 0; i < n; i++) {
        uint8_t *e = b + HEADER_BYTES + i * ENTRY_BYTES;
        size_t len_i = strlen(rel[i]);

        put_le(e, stamps[i].size, 8);
        put_le(e + 8, (uint64_t)stamps[i].sec, 8);
        put_le(e + 16, stamps[i].nsec, 4);
        put_le(e + 20, len_i, 4);
        put_le(e + 24, pixels_crc(pixels + i * image_bytes, image_bytes), 4);
        memcpy(b + at, rel[i], len_i);
        at += len_i;
    }
    put_le(b + 20, index_crc(b, b + HEADER_BYTES, *len - HEADER_BYTES), 4);
    return b;
}

/* Written as every clfit file is: a new temporary file (never through a
 * link someone put there), synced, renamed over the old one. */
static clf_status write_file(const char *path, const uint8_t *index, size_t index_len,
                             const uint8_t *pixels, size_t pixel_bytes)
{
    clf_atomic_file af;
    clf_status st = clf_atomic_open(path, &af);

    if (st != CLF_OK)
        return st;
    if (!write_all(fileno(af.f), index, index_len) ||
        !write_all(fileno(af.f), pixels, pixel_bytes)) {
        CLF_LOG_WARN("cannot write the image cache '%s': %s", path, strerror(errno));
        clf_atomic_abort(&af);
        return CLF_ERR_IO;
    }
    return clf_atomic_commit(&af);
}

/* Temporary files of writers that died (a load stopped with Ctrl-C is
 * killed mid-write): "<name>.tmp-<pid>-<n>" whose process is gone. */
static void remove_stale(const char *cache_dir, const char *path)
{
    const char *base = strrchr(path, '/') ? strrchr(path, '/') + 1 : path;
    size_t len = strlen(base);
    DIR *d = opendir(cache_dir);
    struct dirent *e;
    char full[PATH_MAX];

    while (d && (e = readdir(d)) != NULL) {
        long pid;

        if (strncmp(e->d_name, base, len) != 0 || strncmp(e->d_name + len, ".tmp-", 5) != 0)
            continue;
        pid = strtol(e->d_name + len + 5, NULL, 10);
        if (pid > 0 && kill((pid_t)pid, 0) != 0 && errno == ESRCH &&
            snprintf(full, sizeof full, "%s/%s", cache_dir, e->d_name) < (int)sizeof full &&
            unlink(full) == 0)
            CLF_LOG_DEBUG("removed '%s', left by an interrupted run", full);
    }
    if (d)
        closedir(d);
}

clf_status clf_cache_save(const char *cache_dir, const char *data_dir, int h, int w, size_t n,
                          const uint8_t *pixels, const char *const *rel,
                          const clf_file_stamp *stamps)
{
    char *path = cache_path(cache_dir, data_dir, h, w);
    size_t index_len = 0;
    uint8_t *index = NULL;
    clf_status st = CLF_ERR_NOMEM;
    struct stat sb;

    if (mkdir(cache_dir, 0755) != 0 && errno != EEXIST) {
        CLF_LOG_WARN("cannot create the image cache folder '%s': %s", cache_dir,
                     strerror(errno));
        free(path);
        return CLF_ERR_IO;
    }
    if (stat(cache_dir, &sb) != 0 || !S_ISDIR(sb.st_mode)) {
        CLF_LOG_WARN("cannot create the image cache folder '%s': something else has that "
                     "name",
                     cache_dir);
        free(path);
        return CLF_ERR_IO;
    }
    /* cache trouble is a warning: found here, before the writer would log an error */
    if (access(cache_dir, W_OK) != 0) {
        CLF_LOG_WARN("cannot write the image cache in '%s': %s", cache_dir, strerror(errno));
        free(path);
        return CLF_ERR_IO;
    }
    if (path) {
        remove_stale(cache_dir, path);
        index = index_block(h, w, n, rel, stamps, pixels, &index_len);
    }
    if (index)
        st = write_file(path, index, index_len, pixels, n * (size_t)h * (size_t)w * 3);
    if (st == CLF_OK)
        CLF_LOG_DEBUG("wrote the image cache '%s' (%zu images)", path, n);
    free(index);
    free(path);
    return st;
}
