/* Reading and checking safetensors files. */
#include "io/safetensors.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <zlib.h>

#include "clfit/log.h"
#include "core/alloc.h"
#include "core/utf8.h"
#include "io/file_read.h"

static const struct {
    const char *name;
    size_t bytes;
} dtypes[CLF_ST_DTYPE_COUNT_] = {
    {"BOOL", 1}, {"U8", 1},   {"I8", 1},   {"F8_E5M2", 1}, {"F8_E4M3", 1},
    {"I16", 2},  {"U16", 2},  {"F16", 2},  {"BF16", 2},    {"I32", 4},
    {"U32", 4},  {"F32", 4},  {"F64", 8},  {"I64", 8},     {"U64", 8},
};

const char *clf_st_dtype_name(clf_st_dtype d)
{
    return (unsigned)d < CLF_ST_DTYPE_COUNT_ ? dtypes[d].name : "?";
}

static uint64_t load_le64(const unsigned char *p)
{
    uint64_t v = 0;

    for (int i = 7; i >= 0; i--)
        v = v << 8 | p[i];
    return v;
}

static float load_le_f32(const unsigned char *p)
{
    uint32_t u = (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 |
                 (uint32_t)p[3] << 24;
    float f;

    memcpy(&f, &u, sizeof f);
    return f;
}

/* ---- the header ---- */

/* A file that starts (after blanks) with '{' and is no safetensors file
 * is JSON: most likely a TF.js/Keras model.json given where a clfit model
 * file belongs. (A safetensors file can start with '{' too: its header
 * length's low byte can be 0x7b.) */
static bool is_json_text(const unsigned char *b, size_t len)
{
    size_t i = 0;

    while (i < len && (b[i] == ' ' || b[i] == '\t' || b[i] == '\r' || b[i] == '\n'))
        i++;
    return i < len && b[i] == '{';
}

static clf_status json_not_model(const char *what)
{
    CLF_LOG_ERROR("%s: not a safetensors file: it is JSON, like a TF.js/Keras model.json "
                  "(a model description, used with 'train --base', or as a head with "
                  "'train --model'), not a clfit model file (the .safetensors file that "
                  "'train --save' writes)", what);
    return CLF_ERR_FORMAT;
}

/* Length field, '{', UTF-8 and JSON; sets f->header and f->data. */
static clf_status parse_header(const unsigned char *b, size_t len, clf_st_file *f)
{
    const char *w = f->what, *end = NULL;
    uint64_t n;
    size_t bad;

    if (is_json_text(b, len) && (len < 9 || load_le64(b) > len - 8 || b[8] != '{'))
        return json_not_model(w);
    if (len < 8) {
        CLF_LOG_ERROR("%s: %zu bytes is too short for a safetensors file, which starts "
                      "with an 8-byte header length (is the file empty or cut off?)", w, len);
        return CLF_ERR_FORMAT;
    }
    n = load_le64(b);
    if (n > len - 8) {
        CLF_LOG_ERROR("%s: not a safetensors file, or cut off: its first 8 bytes give a "
                      "header length of %llu bytes, but only %zu bytes follow them", w,
                      (unsigned long long)n, len - 8);
        return CLF_ERR_FORMAT;
    }
    if (n > CLF_ST_MAX_HEADER) {
        CLF_LOG_ERROR("%s: header of %llu bytes is larger than the format's limit of %zu",
                      w, (unsigned long long)n, CLF_ST_MAX_HEADER);
        return CLF_ERR_FORMAT;
    }
    if (n < 2 || b[8] != '{') {
        CLF_LOG_ERROR("%s: not a safetensors file: the header (%llu bytes after the length) "
                      "must be a JSON object starting with '{'", w, (unsigned long long)n);
        return CLF_ERR_FORMAT;
    }
    f->header_len = (size_t)n;
    f->data = b + 8 + n;
    f->data_len = len - 8 - (size_t)n;

    bad = clf_utf8_check(b + 8, (size_t)n);
    if (bad < n) {
        CLF_LOG_ERROR("%s: the header is not valid UTF-8 at byte %zu of the file", w, 8 + bad);
        return CLF_ERR_FORMAT;
    }
    f->header = cJSON_ParseWithLengthOpts((const char *)b + 8, (size_t)n, &end, 0);
    if (f->header && end)
        while (end < (const char *)f->data && *end && strchr(" \t\r\n", *end))
            end++;
    if (!f->header || !cJSON_IsObject(f->header) || end != (const char *)f->data) {
        size_t at = end ? (size_t)(end - (const char *)b) : 8;

        CLF_LOG_ERROR("%s: the header is not one valid JSON object (error near byte %zu of "
                      "the file)", w, at);
        return CLF_ERR_FORMAT;
    }
    return CLF_OK;
}

/* A JSON number that is a whole number in [0, 2^53]. */
static bool get_size(const cJSON *v, size_t *out)
{
    double d;

    if (!cJSON_IsNumber(v))
        return false;
    d = v->valuedouble;
    if (!(d >= 0.0 && d <= 9007199254740992.0) || d != floor(d))
        return false;
    *out = (size_t)d;
    return true;
}

static bool find_dtype(const cJSON *v, clf_st_dtype *out)
{
    if (!cJSON_IsString(v))
        return false;
    for (int d = 0; d < CLF_ST_DTYPE_COUNT_; d++)
        if (strcmp(v->valuestring, dtypes[d].name) == 0) {
            *out = (clf_st_dtype)d;
            return true;
        }
    return false;
}

static clf_status bad_tensor(const clf_st_file *f, const char *name, const char *expected)
{
    CLF_LOG_ERROR("%s: tensor '%s': %s", f->what, name, expected);
    return CLF_ERR_FORMAT;
}

/* "shape": rank <= CLF_ST_MAX_RANK whole numbers; count and bytes must
 * not overflow. */
static clf_status parse_shape(const clf_st_file *f, const cJSON *shape, clf_st_tensor *t)
{
    const cJSON *d;

    if (!cJSON_IsArray(shape) || cJSON_GetArraySize(shape) > CLF_ST_MAX_RANK)
        return bad_tensor(f, t->name, "\"shape\" must be an array of at most 8 dimensions");
    t->rank = 0;
    t->count = 1;
    cJSON_ArrayForEach(d, shape) {
        size_t v;

        if (!get_size(d, &v))
            return bad_tensor(f, t->name, "each dimension of \"shape\" must be a whole "
                                          "number >= 0");
        if (!clf_mul_size(t->count, v, &t->count))
            return bad_tensor(f, t->name, "the product of \"shape\" overflows");
        t->shape[t->rank++] = v;
    }
    return CLF_OK;
}

/* One tensor entry: dtype, shape, data_offsets matching the size. */
static clf_status parse_tensor(const clf_st_file *f, const cJSON *e, clf_st_tensor *t)
{
    const cJSON *off = cJSON_GetObjectItemCaseSensitive(e, "data_offsets");
    size_t bytes;
    clf_status st;

    t->name = e->string;
    if (!cJSON_IsObject(e))
        return bad_tensor(f, t->name, "must be an object with dtype, shape and "
                                      "data_offsets");
    if (!find_dtype(cJSON_GetObjectItemCaseSensitive(e, "dtype"), &t->dtype))
        return bad_tensor(f, t->name, "\"dtype\" must be one of BOOL, U8, I8, F8_E5M2, "
                                      "F8_E4M3, I16, U16, F16, BF16, I32, U32, F32, F64, "
                                      "I64, U64");
    st = parse_shape(f, cJSON_GetObjectItemCaseSensitive(e, "shape"), t);
    if (st != CLF_OK)
        return st;
    if (!clf_mul_size(t->count, dtypes[t->dtype].bytes, &bytes))
        return bad_tensor(f, t->name, "its size in bytes overflows");
    if (!cJSON_IsArray(off) || cJSON_GetArraySize(off) != 2 ||
        !get_size(cJSON_GetArrayItem(off, 0), &t->begin) ||
        !get_size(cJSON_GetArrayItem(off, 1), &t->end))
        return bad_tensor(f, t->name, "\"data_offsets\" must be [begin, end], two whole "
                                      "numbers");
    if (t->end < t->begin || t->end - t->begin != bytes) {
        CLF_LOG_ERROR("%s: tensor '%s': data_offsets [%zu, %zu] span %s bytes, but a %s "
                      "tensor of %zu values takes %zu", f->what, t->name, t->begin, t->end,
                      t->end < t->begin ? "a negative number of" : "a different number of",
                      dtypes[t->dtype].name, t->count, bytes);
        return CLF_ERR_FORMAT;
    }
    return CLF_OK;
}

static clf_status parse_meta(clf_st_file *f, const cJSON *m)
{
    const cJSON *v;

    if (!cJSON_IsObject(m)) {
        CLF_LOG_ERROR("%s: \"__metadata__\" must be an object of strings", f->what);
        return CLF_ERR_FORMAT;
    }
    cJSON_ArrayForEach(v, m) {
        if (!cJSON_IsString(v)) {
            CLF_LOG_ERROR("%s: metadata entry '%s' is not a string; the format allows "
                          "only string values", f->what, v->string);
            return CLF_ERR_FORMAT;
        }
    }
    f->meta = m;
    return CLF_OK;
}

/* Every top-level entry: the metadata once, then tensors. */
static clf_status parse_entries(clf_st_file *f)
{
    const cJSON *e;
    int n = cJSON_GetArraySize(f->header);
    clf_status st = CLF_OK;

    if (n > CLF_ST_MAX_TENSORS + 1) {
        CLF_LOG_ERROR("%s: %d header entries; clfit reads at most %d tensors", f->what, n,
                      CLF_ST_MAX_TENSORS);
        return CLF_ERR_FORMAT;
    }
    f->tensors = clf_calloc_array((size_t)n + 1, sizeof *f->tensors, "tensor list");
    if (!f->tensors)
        return CLF_ERR_NOMEM;
    cJSON_ArrayForEach(e, f->header) {
        if (strcmp(e->string, "__metadata__") == 0) {
            if (f->meta) {
                CLF_LOG_ERROR("%s: \"__metadata__\" appears twice", f->what);
                return CLF_ERR_FORMAT;
            }
            st = parse_meta(f, e);
        } else {
            st = parse_tensor(f, e, &f->tensors[f->n]);
            f->n += st == CLF_OK;
        }
        if (st != CLF_OK)
            return st;
    }
    return CLF_OK;
}

/* ---- the data layout ---- */

static int by_offset(const void *a, const void *b)
{
    const clf_st_tensor *x = *(clf_st_tensor *const *)a, *y = *(clf_st_tensor *const *)b;

    if (x->begin != y->begin)
        return x->begin < y->begin ? -1 : 1;
    return x->end < y->end ? -1 : x->end > y->end;
}

static int by_name(const void *a, const void *b)
{
    return strcmp((*(clf_st_tensor *const *)a)->name, (*(clf_st_tensor *const *)b)->name);
}

/* Tensors end to end from offset 0 to the end of the data; names unique.
 * `order` is scratch space for n pointers. */
static clf_status check_layout(const clf_st_file *f, const clf_st_tensor **order)
{
    size_t at = 0;

    for (int i = 0; i < f->n; i++)
        order[i] = &f->tensors[i];
    qsort(order, (size_t)f->n, sizeof *order, by_name);
    for (int i = 1; i < f->n; i++)
        if (strcmp(order[i - 1]->name, order[i]->name) == 0)
            return bad_tensor(f, order[i]->name, "the name appears twice in the header");

    qsort(order, (size_t)f->n, sizeof *order, by_offset);
    for (int i = 0; i < f->n; i++) {
        if (order[i]->begin != at) {
            CLF_LOG_ERROR("%s: tensor '%s' starts at data offset %zu, but the tensors "
                          "before it end at %zu; tensors must lie end to end without gaps "
                          "or overlap", f->what, order[i]->name, order[i]->begin, at);
            return CLF_ERR_FORMAT;
        }
        at = order[i]->end;
    }
    if (at != f->data_len) {
        CLF_LOG_ERROR("%s: the tensors take %zu bytes of data, but the file holds %zu after "
                      "the header (%s)", f->what, at, f->data_len,
                      at > f->data_len ? "cut off?" : "extra bytes at the end");
        return CLF_ERR_FORMAT;
    }
    return CLF_OK;
}

/* clfit's files hold weights and optimizer state: finite numbers only. */
static clf_status check_finite(const clf_st_file *f)
{
    for (int i = 0; i < f->n; i++) {
        const clf_st_tensor *t = &f->tensors[i];

        if (t->dtype != CLF_ST_F32)
            continue;
        for (size_t k = 0; k < t->count; k++) {
            float v = load_le_f32(f->data + t->begin + 4 * k);

            if (!isfinite(v)) {
                CLF_LOG_ERROR("%s: tensor '%s': value %zu is %s; clfit files hold finite "
                              "numbers only (was the model saved after its loss became "
                              "NaN?)", f->what, t->name, k, isnan(v) ? "NaN" : "infinite");
                return CLF_ERR_FORMAT;
            }
        }
    }
    return CLF_OK;
}

clf_status clf_st_parse(const void *bytes, size_t len, const char *what, clf_st_file *out)
{
    const clf_st_tensor **order = NULL;
    clf_status st;

    memset(out, 0, sizeof *out);
    out->what = clf_strdup(what ? what : "safetensors data");
    if (!out->what)
        return CLF_ERR_NOMEM;
    st = parse_header(bytes, len, out);
    if (st == CLF_OK)
        st = parse_entries(out);
    if (st == CLF_OK) {
        order = clf_malloc_array((size_t)out->n + 1, sizeof *order, "tensor order");
        st = order ? check_layout(out, order) : CLF_ERR_NOMEM;
    }
    if (st == CLF_OK)
        st = check_finite(out);
    free(order);
    if (st != CLF_OK)
        clf_st_free(out);
    return st;
}

clf_status clf_st_read(const char *path, clf_st_file *out)
{
    char *buf;
    size_t len;
    clf_status st;

    memset(out, 0, sizeof *out);
    st = clf_file_read_all(path, CLF_ST_MAX_FILE, &buf, &len);
    if (st != CLF_OK)
        return st;
    st = clf_st_parse(buf, len, path, out);
    if (st != CLF_OK) {
        free(buf);
        return st;
    }
    out->owned = (unsigned char *)buf;
    return CLF_OK;
}

void clf_st_free(clf_st_file *f)
{
    cJSON_Delete(f->header);
    free(f->tensors);
    free(f->owned);
    free(f->what);
    memset(f, 0, sizeof *f);
}

const char *clf_st_meta(const clf_st_file *f, const char *key)
{
    const cJSON *v = f->meta ? cJSON_GetObjectItemCaseSensitive(f->meta, key) : NULL;

    return cJSON_IsString(v) ? v->valuestring : NULL;
}

const clf_st_tensor *clf_st_find(const clf_st_file *f, const char *name)
{
    for (int i = 0; i < f->n; i++)
        if (strcmp(f->tensors[i].name, name) == 0)
            return &f->tensors[i];
    return NULL;
}

clf_status clf_st_get_f32(const clf_st_file *f, const clf_st_tensor *t, float *dst,
                          size_t count)
{
    if (!t) {
        CLF_LOG_ERROR("%s: a tensor that was looked for is not in the file", f->what);
        return CLF_ERR_FORMAT;
    }
    if (t->dtype != CLF_ST_F32 || t->count != count) {
        CLF_LOG_ERROR("%s: tensor '%s' is %s with %zu values; expected F32 with %zu", f->what,
                      t->name, dtypes[t->dtype].name, t->count, count);
        return CLF_ERR_FORMAT;
    }
    for (size_t k = 0; k < count; k++)
        dst[k] = load_le_f32(f->data + t->begin + 4 * k);
    return CLF_OK;
}

/* ---- the CRC (shared with the writer) ---- */

static int by_key(const void *a, const void *b)
{
    return strcmp((*(const cJSON *const *)a)->string, (*(const cJSON *const *)b)->string);
}

clf_status clf_st_crc_meta(const cJSON *meta, uint32_t *crc)
{
    int n = meta ? cJSON_GetArraySize(meta) : 0, k = 0;
    const cJSON **items, *v;
    uLong c = crc32(0L, Z_NULL, 0);

    items = clf_malloc_array((size_t)n + 1, sizeof *items, "metadata keys");
    if (!items)
        return CLF_ERR_NOMEM;
    if (meta) {
        cJSON_ArrayForEach(v, meta) {
            if (strcmp(v->string, CLF_ST_CRC_KEY) != 0 && cJSON_IsString(v))
                items[k++] = v;
        }
    }
    qsort(items, (size_t)k, sizeof *items, by_key);
    for (int i = 0; i < k; i++) {
        c = crc32_z(c, (const Bytef *)items[i]->string, strlen(items[i]->string) + 1);
        c = crc32_z(c, (const Bytef *)items[i]->valuestring,
                    strlen(items[i]->valuestring) + 1);
    }
    free(items);
    *crc = (uint32_t)c;
    return CLF_OK;
}

clf_status clf_st_check_crc(const clf_st_file *f)
{
    const char *text = clf_st_meta(f, CLF_ST_CRC_KEY);
    uint32_t crc;
    char want[16];
    clf_status st;

    if (!text) {
        CLF_LOG_ERROR("%s: no \"%s\" metadata entry; files clfit writes carry one (was the "
                      "file written by another program or edited?)", f->what, CLF_ST_CRC_KEY);
        return CLF_ERR_FORMAT;
    }
    st = clf_st_crc_meta(f->meta, &crc);
    if (st != CLF_OK)
        return st;
    crc = (uint32_t)crc32_z(crc, f->data, f->data_len);
    snprintf(want, sizeof want, "%08x", (unsigned)crc);
    if (strcmp(text, want) != 0) {
        CLF_LOG_ERROR("%s: checksum mismatch: the file says %s=%s but its metadata and data "
                      "give %s; the file is damaged or was changed after clfit wrote it",
                      f->what, CLF_ST_CRC_KEY, text, want);
        return CLF_ERR_FORMAT;
    }
    return CLF_OK;
}
