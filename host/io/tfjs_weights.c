/* TF.js weights manifest + shards -> named float32 tensors. */
#include "io/tfjs_weights.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "clfit/log.h"
#include "core/alloc.h"
#include "io/file_read.h"
#include "io/keras_json.h"

typedef enum stored { STORED_F32, STORED_F16, STORED_U8, STORED_U16 } stored;

static const size_t stored_bytes[] = {4, 2, 1, 2};
static const char *const stored_names[] = {"float32", "float16", "uint8", "uint16"};

/* One manifest entry, checked, with its place in the group's data. */
typedef struct wspec {
    const char *name;            /* borrowed from the manifest */
    int rank;
    int shape[CLF_TENSOR_MAX_RANK];
    size_t count, offset, bytes;
    stored st;
    double min, scale;
} wspec;

/* Shared by the steps of reading one manifest. */
typedef struct reader {
    const char *what;            /* model.json's name, for messages */
    const char *dir;             /* shard paths are relative to it */
    int group;                   /* 1-based, for messages */
} reader;

float clf_half_to_float(uint16_t h)
{
    int sign = h >> 15, exp = (h >> 10) & 0x1f, frac = h & 0x3ff;
    float v;

    if (exp == 0)
        v = ldexpf((float)frac, -24);                 /* zero, subnormal */
    else if (exp == 31)
        v = frac ? NAN : INFINITY;
    else
        v = ldexpf((float)(frac | 0x400), exp - 25);  /* 1.frac * 2^(exp-15) */
    return sign ? -v : v;
}

/* ---- The manifest ---- */

static const cJSON *get(const cJSON *obj, const char *key)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(obj, key);

    return cJSON_IsNull(v) ? NULL : v;
}

static bool is_str(const cJSON *v, const char *s)
{
    return cJSON_IsString(v) && strcmp(v->valuestring, s) == 0;
}

static clf_status parse_shape(const reader *r, const cJSON *shape, wspec *s)
{
    const cJSON *d;

    s->rank = 0;
    s->count = 1;
    if (!cJSON_IsArray(shape) || cJSON_GetArraySize(shape) > CLF_TENSOR_MAX_RANK)
        goto bad;
    cJSON_ArrayForEach(d, shape) {
        if (!cJSON_IsNumber(d) || d->valuedouble != floor(d->valuedouble) ||
            d->valuedouble < 0 || d->valuedouble > (1 << 30))
            goto bad;
        s->shape[s->rank++] = (int)d->valuedouble;
        if (!clf_mul_size(s->count, (size_t)d->valuedouble, &s->count))
            goto bad;
    }
    return CLF_OK;
bad:
    CLF_LOG_ERROR("%s: weight '%s': shape must be a list of at most %d non-negative "
                  "integers with a product that fits in memory", r->what, s->name,
                  CLF_TENSOR_MAX_RANK);
    return CLF_ERR_FORMAT;
}

/* quantization: {dtype: uint8|uint16, min, scale} or {dtype: float16}. */
static clf_status parse_quant(const reader *r, const cJSON *q, wspec *s)
{
    const cJSON *dt = get(q, "dtype"), *orig = get(q, "original_dtype");
    const cJSON *min = get(q, "min"), *scale = get(q, "scale");

    if (orig && !is_str(orig, "float32")) {
        CLF_LOG_ERROR("%s: weight '%s': original_dtype must be float32 (clfit reads float "
                      "weights only)", r->what, s->name);
        return CLF_ERR_UNSUPPORTED;
    }
    if (is_str(dt, "float16")) {
        s->st = STORED_F16;
        return CLF_OK;
    }
    if (!is_str(dt, "uint8") && !is_str(dt, "uint16")) {
        CLF_LOG_ERROR("%s: weight '%s': quantization dtype must be uint8, uint16 or "
                      "float16, got %s", r->what, s->name,
                      cJSON_IsString(dt) ? dt->valuestring : "none");
        return CLF_ERR_UNSUPPORTED;
    }
    s->st = is_str(dt, "uint8") ? STORED_U8 : STORED_U16;
    if (!cJSON_IsNumber(min) || !cJSON_IsNumber(scale) || !isfinite(min->valuedouble) ||
        !isfinite(scale->valuedouble)) {
        CLF_LOG_ERROR("%s: weight '%s': %s quantization needs finite numbers 'min' and "
                      "'scale'", r->what, s->name, stored_names[s->st]);
        return CLF_ERR_FORMAT;
    }
    s->min = min->valuedouble;
    s->scale = scale->valuedouble;
    return CLF_OK;
}

static clf_status parse_spec(const reader *r, const cJSON *w, wspec *s)
{
    const cJSON *name = get(w, "name"), *dtype = get(w, "dtype"), *q = get(w, "quantization");
    clf_status st;

    memset(s, 0, sizeof *s);
    if (!cJSON_IsString(name) || !name->valuestring[0]) {
        CLF_LOG_ERROR("%s: weight group %d: an entry has no name", r->what, r->group);
        return CLF_ERR_FORMAT;
    }
    s->name = name->valuestring;
    if ((st = parse_shape(r, get(w, "shape"), s)) != CLF_OK)
        return st;
    if (!is_str(dtype, "float32")) {
        CLF_LOG_ERROR("%s: weight '%s': dtype %s is not supported (float32 only)", r->what,
                      s->name, cJSON_IsString(dtype) ? dtype->valuestring : "missing");
        return CLF_ERR_UNSUPPORTED;
    }
    s->st = STORED_F32;
    if (q && (st = parse_quant(r, q, s)) != CLF_OK)
        return st;
    if (!clf_mul_size(s->count, stored_bytes[s->st], &s->bytes)) {
        CLF_LOG_ERROR("%s: weight '%s': size overflows", r->what, s->name);
        return CLF_ERR_FORMAT;
    }
    return CLF_OK;
}

/* Parses a group's weights into specs[] (n entries) with their offsets. */
static clf_status parse_specs(const reader *r, const cJSON *weights, wspec *specs,
                              size_t *total)
{
    const cJSON *w;
    int i = 0;
    clf_status st;

    *total = 0;
    cJSON_ArrayForEach(w, weights) {
        if ((st = parse_spec(r, w, &specs[i])) != CLF_OK)
            return st;
        specs[i].offset = *total;
        if (!clf_add_size(*total, specs[i].bytes, total) || *total > CLF_TFJS_MAX_GROUP_BYTES) {
            CLF_LOG_ERROR("%s: weight group %d holds more than %zu bytes", r->what, r->group,
                          (size_t)CLF_TFJS_MAX_GROUP_BYTES);
            return CLF_ERR_FORMAT;
        }
        i++;
    }
    return CLF_OK;
}

/* ---- Shards ---- */

/* The tensor whose bytes include offset `at` (or the last one). */
static const wspec *tensor_at(const wspec *specs, int n, size_t at)
{
    for (int i = 0; i < n; i++)
        if (at < specs[i].offset + specs[i].bytes)
            return &specs[i];
    return n ? &specs[n - 1] : NULL;
}

/* A shard path must stay inside the model's directory. */
static bool safe_path(const char *p)
{
    if (!p[0] || p[0] == '/')
        return false;
    for (const char *s = p; (s = strstr(s, "..")) != NULL; s += 2)
        if ((s == p || s[-1] == '/') && (s[2] == '\0' || s[2] == '/'))
            return false;
    return true;
}

/* Appends shard file `rel` to *buf (holding *have bytes). */
static clf_status append_shard(const reader *r, const char *rel, const wspec *first,
                               char **buf, size_t *have)
{
    char *path = clf_path_join(r->dir, rel), *data = NULL;
    size_t len = 0;
    clf_status st;

    if (!path)
        return CLF_ERR_NOMEM;
    st = clf_file_read_all(path, CLF_TFJS_MAX_SHARD_BYTES, &data, &len);
    if (st != CLF_OK) {
        CLF_LOG_ERROR("%s: weight group %d: shard '%s' could not be read; it holds tensor "
                      "'%s' and those after it", r->what, r->group, path,
                      first ? first->name : "(none)");
    } else if (*have + len > CLF_TFJS_MAX_GROUP_BYTES) {
        CLF_LOG_ERROR("%s: weight group %d: shards exceed %zu bytes", r->what, r->group,
                      (size_t)CLF_TFJS_MAX_GROUP_BYTES);
        st = CLF_ERR_FORMAT;
    } else if ((st = clf_realloc_array((void **)buf, *have + len + 1, 1, path)) == CLF_OK) {
        memcpy(*buf + *have, data, len);
        *have += len;
    }
    free(data);
    free(path);
    return st;
}

/* Reads and concatenates a group's shards; logs which tensor runs past
 * the end when they hold too little. */
static clf_status read_shards(const reader *r, const cJSON *paths, const wspec *specs, int n,
                              size_t need, char **buf)
{
    const cJSON *p;
    const char *last = "(none)";
    size_t have = 0;
    clf_status st;

    *buf = NULL;
    if (!cJSON_IsArray(paths) || (cJSON_GetArraySize(paths) == 0 && need > 0)) {
        CLF_LOG_ERROR("%s: weight group %d has no 'paths' list of shard files", r->what,
                      r->group);
        return CLF_ERR_FORMAT;
    }
    cJSON_ArrayForEach(p, paths) {
        if (!cJSON_IsString(p) || !safe_path(p->valuestring)) {
            CLF_LOG_ERROR("%s: weight group %d: shard paths must be file names relative to "
                          "the model file, without '..'", r->what, r->group);
            return CLF_ERR_FORMAT;
        }
        last = p->valuestring;
        st = append_shard(r, last, have < need ? tensor_at(specs, n, have) : NULL, buf, &have);
        if (st != CLF_OK)
            return st;
    }
    if (have < need) {
        const wspec *t = tensor_at(specs, n, have);

        CLF_LOG_ERROR("%s: weight group %d: tensor '%s' (%zu bytes of %s at byte %zu) runs "
                      "past the end of the shard data, which ends after %zu bytes in '%s' "
                      "(the manifest needs %zu); the shard file is short or one is missing",
                      r->what, r->group, t->name, t->bytes, stored_names[t->st], t->offset,
                      have, last, need);
        return CLF_ERR_FORMAT;
    }
    if (have > need)
        CLF_LOG_WARN("%s: weight group %d: %zu bytes after the last tensor are unused",
                     r->what, r->group, have - need);
    return CLF_OK;
}

/* ---- Decoding ---- */

static uint32_t le32(const unsigned char *b)
{
    return (uint32_t)b[0] | (uint32_t)b[1] << 8 | (uint32_t)b[2] << 16 | (uint32_t)b[3] << 24;
}

static uint16_t le16(const unsigned char *b)
{
    return (uint16_t)(b[0] | b[1] << 8);
}

/* Converts one tensor's bytes to floats; logs and fails on a value that
 * is not finite. */
static clf_status decode(const reader *r, const wspec *s, const unsigned char *b, float *out)
{
    for (size_t i = 0; i < s->count; i++) {
        uint32_t u;
        double q;

        switch (s->st) {
        case STORED_F32:
            u = le32(b + 4 * i);
            memcpy(&out[i], &u, 4);
            break;
        case STORED_F16:
            out[i] = clf_half_to_float(le16(b + 2 * i));
            break;
        default:
            /* TF.js: v * scale + min in double, then stored as float32.
             * ISO C mode (-std=c11) does not fuse this into an FMA. */
            q = s->st == STORED_U8 ? b[i] : le16(b + 2 * i);
            out[i] = (float)(q * s->scale + s->min);
            break;
        }
        if (!isfinite(out[i])) {
            CLF_LOG_ERROR("%s: weight '%s': element %zu is %g; the weights are damaged",
                          r->what, s->name, i, (double)out[i]);
            return CLF_ERR_FORMAT;
        }
    }
    return CLF_OK;
}

static clf_status add_tensor(const reader *r, const wspec *s, const char *data,
                             clf_weight_set *ws)
{
    clf_named_tensor *t = &ws->tensors[ws->n];

    if (clf_weight_set_find(ws, s->name)) {
        CLF_LOG_ERROR("%s: weight '%s' appears twice in the manifest", r->what, s->name);
        return CLF_ERR_FORMAT;
    }
    memset(t, 0, sizeof *t);
    t->name = clf_strdup(s->name);
    t->data = clf_malloc_array(s->count, sizeof(float), s->name);
    if (!t->name || !t->data) {
        free(t->name);
        free(t->data);
        return CLF_ERR_NOMEM;
    }
    t->rank = s->rank;
    memcpy(t->shape, s->shape, sizeof t->shape);
    t->count = s->count;
    ws->n++;
    if (s->count == 0)
        return CLF_OK;
    return decode(r, s, (const unsigned char *)data + s->offset, t->data);
}

/* ---- Groups and the whole manifest ---- */

static clf_status read_group(reader *r, const cJSON *group, clf_weight_set *ws)
{
    const cJSON *weights = get(group, "weights");
    int n = cJSON_GetArraySize(weights);
    wspec *specs;
    char *data = NULL;
    size_t need;
    clf_status st;

    if (!cJSON_IsArray(weights)) {
        CLF_LOG_ERROR("%s: weight group %d has no 'weights' list", r->what, r->group);
        return CLF_ERR_FORMAT;
    }
    specs = clf_calloc_array((size_t)n, sizeof *specs, "weight specs");
    if (!specs)
        return CLF_ERR_NOMEM;
    st = parse_specs(r, weights, specs, &need);
    if (st == CLF_OK)
        st = read_shards(r, get(group, "paths"), specs, n, need, &data);
    for (int i = 0; st == CLF_OK && i < n; i++)
        st = add_tensor(r, &specs[i], data, ws);
    free(data);
    free(specs);
    return st;
}

static int count_weights(const cJSON *manifest)
{
    const cJSON *g;
    int n = 0;

    cJSON_ArrayForEach(g, manifest) {
        n += cJSON_GetArraySize(get(g, "weights"));
        if (n > CLF_TFJS_MAX_TENSORS)
            return -1;
    }
    return n;
}

clf_status clf_tfjs_weights_from_manifest(const cJSON *manifest, const char *dir,
                                          const char *what, clf_weight_set *out)
{
    reader r = {what, dir, 0};
    const cJSON *group;
    int n = count_weights(manifest);
    clf_status st = CLF_OK;

    memset(out, 0, sizeof *out);
    if (!cJSON_IsArray(manifest) || n < 0) {
        CLF_LOG_ERROR("%s: 'weightsManifest' must be a list of weight groups holding at "
                      "most %d tensors", what, CLF_TFJS_MAX_TENSORS);
        return CLF_ERR_FORMAT;
    }
    out->tensors = clf_calloc_array((size_t)n, sizeof *out->tensors, "weight tensors");
    if (!out->tensors)
        return CLF_ERR_NOMEM;
    cJSON_ArrayForEach(group, manifest) {
        r.group++;
        if ((st = read_group(&r, group, out)) != CLF_OK)
            break;
    }
    if (st != CLF_OK)
        clf_weight_set_free(out);
    return st;
}

clf_status clf_tfjs_weights_read(const char *model_json_path, clf_weight_set *out)
{
    char *text = NULL, *dir = NULL;
    size_t len;
    cJSON *root = NULL;
    clf_status st;

    memset(out, 0, sizeof *out);
    st = clf_file_read_all(model_json_path, CLF_KERAS_JSON_MAX_BYTES, &text, &len);
    if (st != CLF_OK)
        return st;
    root = cJSON_ParseWithLength(text, len);
    if (!root || !cJSON_IsArray(get(root, "weightsManifest"))) {
        CLF_LOG_ERROR("%s: %s", model_json_path,
                      root ? "no 'weightsManifest' list: not a TF.js layers model with "
                             "weights"
                           : "not valid JSON");
        st = CLF_ERR_FORMAT;
    } else if ((dir = clf_path_dirname(model_json_path)) == NULL) {
        st = CLF_ERR_NOMEM;
    } else {
        st = clf_tfjs_weights_from_manifest(get(root, "weightsManifest"), dir,
                                            model_json_path, out);
    }
    cJSON_Delete(root);
    free(dir);
    free(text);
    return st;
}
