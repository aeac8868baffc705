/* The feature cache of fit(): a frozen base's output per image, in host
 * memory, so that after the first pass over the data only the head runs.
 *
 * Rows are found by the image's content: two independent 64-bit hashes of
 * its bytes (one picks the table slot, the other confirms the match), so
 * the cache needs no image ids, serves the train, validation and test
 * subsets alike, and cannot hand out features of another image unless
 * both hashes collide. Features depend only on the image and the frozen
 * weights; the model bumps static_version whenever those change, and the
 * cache then starts over.
 *
 * Memory: one row of clf_model_feature_size() floats per distinct image,
 * in blocks, up to m->cache_limit bytes (by default 40% of the physical
 * RAM). When the images of the first pass would not fit, caching is off
 * for the model (one notice); when the cap is reached later, images not
 * yet cached run through the base each time (one notice).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "clfit/fit.h"
#include "clfit/log.h"
#include "core/alloc.h"
#include "model/model_internal.h"

enum { BLOCK_ROWS = 64 };

struct clf_feature_cache {
    size_t f;              /* floats per row */
    size_t rows, max_rows; /* stored, allowed */
    float **blocks;        /* BLOCK_ROWS rows each */
    size_t n_blocks;
    uint64_t *keys;        /* table: first hash (0 = empty slot) */
    uint64_t *checks;      /* per row: second hash */
    uint32_t *vals;        /* table: row index */
    size_t slots;          /* table size, a power of two */
    uint64_t version;      /* m->static_version of the stored rows */
    bool off, full_noted;

    /* one batch: its features, and the images that missed */
    float *batch, *miss_feats;
    uint8_t *miss_images;
    int *miss;
};

/* ---- hashing ---- */

static uint64_t mix64(uint64_t x)
{
    x ^= x >> 30;
    x *= 0xbf58476d1ce4e5b9ULL;
    x ^= x >> 27;
    x *= 0x94d049bb133111ebULL;
    return x ^ (x >> 31);
}

/* Two hashes of `bytes` bytes in one pass, 8 bytes at a time. */
static void hash_image(const uint8_t *p, size_t bytes, uint64_t *h1, uint64_t *h2)
{
    uint64_t a = 0x243f6a8885a308d3ULL ^ bytes, b = 0x13198a2e03707344ULL + bytes;
    size_t i = 0;

    for (; i + 8 <= bytes; i += 8) {
        uint64_t w;

        memcpy(&w, p + i, 8);
        a = (a ^ w) * 0x9e3779b97f4a7c15ULL;
        a ^= a >> 32;
        b = (b + w) * 0xc2b2ae3d27d4eb4fULL;
        b = (b << 29) | (b >> 35);
    }
    for (; i < bytes; i++) {
        a = (a ^ p[i]) * 0x100000001b3ULL;
        b = (b + p[i]) * 0xff51afd7ed558ccdULL;
    }
    *h1 = mix64(a) | 1; /* never 0, the empty slot */
    *h2 = mix64(b ^ 0x5851f42d4c957f2dULL);
}

/* ---- the table ---- */

static float *row_at(const clf_feature_cache *c, size_t r)
{
    return c->blocks[r / BLOCK_ROWS] + (r % BLOCK_ROWS) * c->f;
}

/* Row of (h1, h2), or -1. */
static long lookup(const clf_feature_cache *c, uint64_t h1, uint64_t h2)
{
    if (c->slots == 0)
        return -1;
    for (size_t s = h1 & (c->slots - 1); c->keys[s]; s = (s + 1) & (c->slots - 1))
        if (c->keys[s] == h1)
            return c->checks[c->vals[s]] == h2 ? (long)c->vals[s] : -1;
    return -1;
}

static void put_key(clf_feature_cache *c, uint64_t h1, uint32_t row)
{
    size_t s = h1 & (c->slots - 1);

    while (c->keys[s])
        s = (s + 1) & (c->slots - 1);
    c->keys[s] = h1;
    c->vals[s] = row;
}

/* Doubles the table (kept at most half full); unchanged on failure. */
static clf_status grow_table(clf_feature_cache *c)
{
    size_t old = c->slots, slots = old ? old * 2 : 1024;
    uint64_t *keys = c->keys;
    uint32_t *vals = c->vals;
    uint64_t *checks = realloc(c->checks, slots / 2 * sizeof *checks);

    if (!checks)
        return CLF_ERR_NOMEM;
    c->checks = checks;
    c->keys = clf_calloc_array(slots, sizeof *c->keys, "feature cache table");
    c->vals = clf_calloc_array(slots, sizeof *c->vals, "feature cache table");
    if (!c->keys || !c->vals) {
        free(c->keys);
        free(c->vals);
        c->keys = keys, c->vals = vals;
        return CLF_ERR_NOMEM;
    }
    c->slots = slots;
    for (size_t s = 0; s < old; s++)
        if (keys[s])
            put_key(c, keys[s], vals[s]);
    free(keys);
    free(vals);
    return CLF_OK;
}

/* Stores one row; false (nothing stored) when the cache is full. */
static clf_status store(clf_feature_cache *c, uint64_t h1, uint64_t h2, const float *v,
                        bool *stored)
{
    size_t r = c->rows;

    *stored = false;
    if (r >= c->max_rows || lookup(c, h1, h2) >= 0)
        return CLF_OK;
    if ((r + 1) * 2 > c->slots)
        TRY(grow_table(c));
    if (r / BLOCK_ROWS >= c->n_blocks) {
        TRY(clf_realloc_array((void **)&c->blocks, c->n_blocks + 1, sizeof *c->blocks,
                              "feature cache"));
        c->blocks[c->n_blocks] = clf_malloc_array((size_t)BLOCK_ROWS * c->f, sizeof(float),
                                                  "feature cache rows");
        if (!c->blocks[c->n_blocks])
            return CLF_ERR_NOMEM;
        c->n_blocks++;
    }
    memcpy(row_at(c, r), v, c->f * sizeof *v);
    c->checks[r] = h2;
    put_key(c, h1, (uint32_t)r);
    c->rows++;
    *stored = true;
    return CLF_OK;
}

static void clear_rows(clf_feature_cache *c)
{
    if (c->keys)
        memset(c->keys, 0, c->slots * sizeof *c->keys);
    c->rows = 0;
}

void clf_feature_cache_free(clf_feature_cache *c)
{
    if (!c)
        return;
    for (size_t b = 0; b < c->n_blocks; b++)
        free(c->blocks[b]);
    free(c->blocks);
    free(c->keys);
    free(c->checks);
    free(c->vals);
    free(c->batch);
    free(c->miss_feats);
    free(c->miss_images);
    free(c->miss);
    free(c);
}

size_t clf_feature_cache_rows(const clf_model *m)
{
    return m->cache ? m->cache->rows : 0;
}

/* ---- planning ---- */

void clf_fit_set_cache_limit(clf_model *m, size_t bytes)
{
    m->cache_limit = bytes;
}

/* 40% of the physical memory, or 1 GiB when it cannot be told. */
static size_t default_limit(void)
{
    long pages = sysconf(_SC_PHYS_PAGES), page = sysconf(_SC_PAGESIZE);

    if (pages <= 0 || page <= 0)
        return (size_t)1 << 30;
    return (size_t)((double)pages * (double)page * 0.4);
}

/* "752 MB", "288 bytes" */
static const char *size_text(double bytes, char *buf, size_t size)
{
    static const char *const units[] = {"bytes", "KB", "MB", "GB", "TB"};
    int u = 0;

    while (u < 4 && bytes >= 1000.0) {
        bytes /= 1000.0;
        u++;
    }
    snprintf(buf, size, u ? "%.1f %s" : "%.0f %s", bytes, units[u]);
    return buf;
}

static clf_status cache_new(clf_model *m, size_t f, size_t limit, clf_feature_cache **out)
{
    size_t b = (size_t)m->max_batch, px = (size_t)m->in_h * (size_t)m->in_w * 3;
    clf_feature_cache *c = clf_calloc_array(1, sizeof *c, "feature cache");

    *out = NULL;
    if (!c)
        return CLF_ERR_NOMEM;
    c->f = f;
    c->max_rows = limit / (f * sizeof(float) + 32);
    c->max_rows = c->max_rows < UINT32_MAX ? c->max_rows : UINT32_MAX;
    c->version = m->static_version;
    c->batch = clf_malloc_array(b * f, sizeof(float), "feature batch");
    c->miss_feats = clf_malloc_array(b * f, sizeof(float), "feature batch");
    c->miss_images = clf_malloc_array(b, px, "feature batch images");
    c->miss = clf_malloc_array(b, sizeof *c->miss, "feature batch");
    if (!c->batch || !c->miss_feats || !c->miss_images || !c->miss) {
        clf_feature_cache_free(c);
        return CLF_ERR_NOMEM;
    }
    *out = c;
    return CLF_OK;
}

clf_status clf_feature_cache_plan(clf_model *m, size_t images)
{
    size_t f = clf_model_feature_size(m), limit, bytes;
    char a[32], b[32];

    if (f == 0 || !m->image_input || m->cache)
        return CLF_OK;
    limit = m->cache_limit == SIZE_MAX ? default_limit() : m->cache_limit;
    if (!clf_mul4_size(images, f, sizeof(float), 1, &bytes))
        bytes = SIZE_MAX;
    TRY(cache_new(m, f, limit, &m->cache));
    if (limit == 0) {
        m->cache->off = true;
    } else if (bytes > limit) {
        CLF_LOG_INFO("not caching the frozen base's output: %zu images x %zu floats would "
                     "take %s, more than the %s allowed; the base runs on every batch",
                     images, f, size_text((double)bytes, a, sizeof a),
                     size_text((double)limit, b, sizeof b));
        m->cache->off = true;
    } else {
        CLF_LOG_INFO("caching the frozen base's output: %zu floats per image, %s of host "
                     "memory for %zu images; later epochs run only the head", f,
                     size_text((double)bytes, a, sizeof a), images);
    }
    return CLF_OK;
}

/* ---- a batch through the cache ---- */

/* Features of the batch's images that were not cached: computed in one
 * pass, copied into the batch and stored. */
static clf_status fill_misses(clf_model *m, clf_feature_cache *c, const uint8_t *images,
                              int n, int n_miss, const uint64_t *h)
{
    size_t px = (size_t)m->in_h * (size_t)m->in_w * 3;
    const uint8_t *in = images;
    float *out = n_miss == n ? c->batch : c->miss_feats;

    if (n_miss < n) {
        in = c->miss_images;
        for (int k = 0; k < n_miss; k++)
            memcpy(c->miss_images + (size_t)k * px, images + (size_t)c->miss[k] * px, px);
    }
    TRY(clf_model_extract_features(m, in, n_miss, out));
    for (int k = 0; k < n_miss; k++) {
        int r = c->miss[k];
        bool stored;

        if (out != c->batch)
            memcpy(c->batch + (size_t)r * c->f, out + (size_t)k * c->f, c->f * sizeof *out);
        TRY(store(c, h[2 * r], h[2 * r + 1], c->batch + (size_t)r * c->f, &stored));
        if (!stored && c->rows >= c->max_rows && !c->full_noted) {
            char text[32];

            CLF_LOG_INFO("feature cache full at %zu images (%s); images beyond them run "
                         "through the base each time", c->rows,
                         size_text((double)c->rows * (double)c->f * 4.0, text, sizeof text));
            c->full_noted = true;
        }
    }
    return CLF_OK;
}

/* Features of all n images into c->batch. */
static clf_status gather(clf_model *m, clf_feature_cache *c, const uint8_t *images, int n)
{
    size_t px = (size_t)m->in_h * (size_t)m->in_w * 3;
    uint64_t h[2 * 64];
    uint64_t *hs = n <= 64 ? h : clf_malloc_array((size_t)n, 2 * sizeof *hs, "hashes");
    int n_miss = 0;
    clf_status st;

    if (!hs)
        return CLF_ERR_NOMEM;
    if (c->version != m->static_version) {
        clear_rows(c); /* the base's weights changed */
        c->version = m->static_version;
    }
    for (int r = 0; r < n; r++) {
        long row;

        hash_image(images + (size_t)r * px, px, &hs[2 * r], &hs[2 * r + 1]);
        row = lookup(c, hs[2 * r], hs[2 * r + 1]);
        if (row < 0)
            c->miss[n_miss++] = r;
        else
            memcpy(c->batch + (size_t)r * c->f, row_at(c, (size_t)row), c->f * sizeof(float));
    }
    st = n_miss ? fill_misses(m, c, images, n, n_miss, hs) : CLF_OK;
    if (hs != h)
        free(hs);
    return st;
}

static bool use_cache(const clf_model *m)
{
    return m->cache && !m->cache->off && clf_model_feature_size(m) == m->cache->f;
}

clf_status clf_feature_cache_train(clf_model *m, const uint8_t *images,
                                   const int32_t *labels, int n)
{
    if (!use_cache(m) || !images)
        return clf_model_train_batch(m, images, labels, n);
    TRY(clf_model_check_batch(m, labels, n));
    TRY(gather(m, m->cache, images, n));
    return clf_model_train_features(m, m->cache->batch, labels, n);
}

clf_status clf_feature_cache_test(clf_model *m, const uint8_t *images,
                                  const int32_t *labels, int n)
{
    if (!use_cache(m) || !images)
        return clf_model_test_batch(m, images, labels, n);
    TRY(clf_model_check_batch(m, labels, n));
    TRY(gather(m, m->cache, images, n));
    return clf_model_test_features(m, m->cache->batch, labels, n);
}
