/* Writing safetensors files: metadata and F32 tensors in, one file out. */
#include "io/safetensors.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <zlib.h>

#include "clfit/log.h"
#include "core/alloc.h"
#include "core/utf8.h"
#include "io/atomic_file.h"

void clf_st_writer_init(clf_st_writer *w)
{
    memset(w, 0, sizeof *w);
    w->meta = cJSON_CreateObject();
    if (!w->meta) {
        CLF_LOG_ERROR("safetensors: out of memory");
        w->error = CLF_ERR_NOMEM;
    }
}

void clf_st_writer_free(clf_st_writer *w)
{
    for (int i = 0; i < w->n; i++) {
        free(w->entries[i].name);
        free(w->entries[i].data);
    }
    free(w->entries);
    cJSON_Delete(w->meta);
    memset(w, 0, sizeof *w);
}

static clf_status fail(clf_st_writer *w, clf_status st)
{
    if (w->error == CLF_OK)
        w->error = st;
    return st;
}

clf_status clf_st_writer_meta(clf_st_writer *w, const char *key, const char *value)
{
    if (w->error != CLF_OK)
        return w->error;
    if (!key || !value || strncmp(key, "__", 2) == 0 ||
        cJSON_GetObjectItemCaseSensitive(w->meta, key)) {
        CLF_LOG_ERROR("safetensors: metadata key '%s' is missing, reserved or repeated",
                      key ? key : "(null)");
        return fail(w, CLF_ERR_ARG);
    }
    if (!cJSON_AddStringToObject(w->meta, key, value)) {
        CLF_LOG_ERROR("safetensors: out of memory adding metadata '%s'", key);
        return fail(w, CLF_ERR_NOMEM);
    }
    return CLF_OK;
}

/* Name and shape of a new entry; count set from the shape. */
static clf_status check_entry(clf_st_writer *w, const char *name, int rank, const int *shape,
                              clf_st_entry *e)
{
    size_t bytes;

    if (!name || !name[0] || strcmp(name, "__metadata__") == 0 || rank < 0 ||
        rank > CLF_ST_MAX_RANK) {
        CLF_LOG_ERROR("safetensors: tensor '%s' of rank %d cannot be written",
                      name ? name : "(null)", rank);
        return CLF_ERR_ARG;
    }
    for (int i = 0; i < w->n; i++)
        if (strcmp(w->entries[i].name, name) == 0) {
            CLF_LOG_ERROR("safetensors: tensor '%s' added twice", name);
            return CLF_ERR_ARG;
        }
    e->rank = rank;
    e->count = 1;
    for (int i = 0; i < rank; i++) {
        if (shape[i] < 0 || !clf_mul_size(e->count, (size_t)shape[i], &e->count)) {
            CLF_LOG_ERROR("safetensors: tensor '%s' has a bad shape", name);
            return CLF_ERR_ARG;
        }
        e->shape[i] = (size_t)shape[i];
    }
    if (!clf_mul_size(e->count, 4, &bytes)) {
        CLF_LOG_ERROR("safetensors: tensor '%s' is too large", name);
        return CLF_ERR_OVERFLOW;
    }
    return CLF_OK;
}

clf_status clf_st_writer_take_f32(clf_st_writer *w, const char *name, int rank,
                                  const int *shape, float *data)
{
    clf_st_entry e = {0};
    clf_status st = w->error;

    if (st == CLF_OK)
        st = check_entry(w, name, rank, shape, &e);
    if (st == CLF_OK)
        st = clf_realloc_array((void **)&w->entries, (size_t)w->n + 1, sizeof e,
                               "tensor list");
    if (st == CLF_OK) {
        e.name = clf_strdup(name);
        st = e.name ? CLF_OK : CLF_ERR_NOMEM;
    }
    if (st != CLF_OK) {
        free(data);
        return fail(w, st);
    }
    e.data = data;
    w->entries[w->n++] = e;
    return CLF_OK;
}

clf_status clf_st_writer_copy_f32(clf_st_writer *w, const char *name, int rank,
                                  const int *shape, const float *data)
{
    size_t count = 1;
    float *copy;

    for (int i = 0; i < rank && i < CLF_ST_MAX_RANK; i++)
        if (shape[i] < 0 || !clf_mul_size(count, (size_t)shape[i], &count))
            return clf_st_writer_take_f32(w, name, rank, shape, NULL); /* logs why */
    copy = clf_malloc_array(count, sizeof *copy, name);
    if (!copy)
        return fail(w, CLF_ERR_NOMEM);
    memcpy(copy, data, count * sizeof *copy);
    return clf_st_writer_take_f32(w, name, rank, shape, copy);
}

/* ---- serializing ---- */

static int entry_by_name(const void *a, const void *b)
{
    return strcmp(((const clf_st_entry *)a)->name, ((const clf_st_entry *)b)->name);
}

/* count floats as little-endian bytes */
static void store_le_f32(unsigned char *dst, const float *src, size_t count)
{
#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ == __ORDER_BIG_ENDIAN__
    for (size_t i = 0; i < count; i++) {
        uint32_t u;

        memcpy(&u, &src[i], 4);
        for (int b = 0; b < 4; b++)
            dst[4 * i + (size_t)b] = (unsigned char)(u >> (8 * b));
    }
#else
    memcpy(dst, src, count * 4);
#endif
}

/* CRC of the tensor data as it will lie in the file. */
static uint32_t crc_data(const clf_st_writer *w, uint32_t crc)
{
    unsigned char chunk[4096];

    for (int i = 0; i < w->n; i++)
        for (size_t k = 0; k < w->entries[i].count; k += sizeof chunk / 4) {
            size_t n = w->entries[i].count - k;

            n = n < sizeof chunk / 4 ? n : sizeof chunk / 4;
            store_le_f32(chunk, w->entries[i].data + k, n);
            crc = (uint32_t)crc32_z(crc, chunk, 4 * n);
        }
    return crc;
}

/* Adds "clfit.crc32": metadata, then the data in file order. */
static clf_status add_crc(clf_st_writer *w)
{
    uint32_t crc;
    char text[16];
    clf_status st = clf_st_crc_meta(w->meta, &crc);

    if (st != CLF_OK)
        return st;
    snprintf(text, sizeof text, "%08x", (unsigned)crc_data(w, crc));
    return clf_st_writer_meta(w, CLF_ST_CRC_KEY, text);
}

static cJSON *entry_json(const clf_st_entry *e, size_t begin)
{
    cJSON *o = cJSON_CreateObject(), *shape = cJSON_CreateArray(), *off = cJSON_CreateArray();
    bool ok = o && shape && off && cJSON_AddStringToObject(o, "dtype", "F32");

    for (int i = 0; ok && i < e->rank; i++)
        ok = cJSON_AddItemToArray(shape, cJSON_CreateNumber((double)e->shape[i]));
    ok = ok && cJSON_AddItemToArray(off, cJSON_CreateNumber((double)begin)) &&
         cJSON_AddItemToArray(off, cJSON_CreateNumber((double)(begin + 4 * e->count)));
    if (ok && cJSON_AddItemToObject(o, "shape", shape)) {
        shape = NULL;
        ok = cJSON_AddItemToObject(o, "data_offsets", off);
        off = ok ? NULL : off;
    }
    cJSON_Delete(shape);
    cJSON_Delete(off);
    if (!ok)
        cJSON_Delete(o);
    return ok ? o : NULL;
}

/* The header text (unpadded) for entries laid out in order. */
static char *header_text(clf_st_writer *w)
{
    cJSON *root = cJSON_CreateObject();
    size_t at = 0;
    char *text = NULL;
    bool ok = root && cJSON_AddItemReferenceToObject(root, "__metadata__", w->meta);

    for (int i = 0; ok && i < w->n; i++) {
        cJSON *e = entry_json(&w->entries[i], at);

        ok = e && cJSON_AddItemToObject(root, w->entries[i].name, e);
        if (!ok)
            cJSON_Delete(e);
        at += 4 * w->entries[i].count;
    }
    if (ok)
        text = cJSON_PrintUnformatted(root);
    cJSON_Delete(root);
    if (!text)
        CLF_LOG_ERROR("safetensors: out of memory building the header");
    return text;
}

/* length, header padded with spaces to a multiple of 8, data */
static clf_status assemble(const clf_st_writer *w, const char *header, unsigned char **buf,
                           size_t *len)
{
    size_t h = strlen(header), at = (h + 7) / 8 * 8 + 8, total = at;

    for (int i = 0; i < w->n; i++)
        if (!clf_add_size(total, 4 * w->entries[i].count, &total))
            return CLF_ERR_OVERFLOW;
    *buf = clf_malloc_array(total, 1, "safetensors file");
    if (!*buf)
        return CLF_ERR_NOMEM;
    for (int i = 0; i < 8; i++)
        (*buf)[i] = (unsigned char)((uint64_t)(at - 8) >> (8 * i));
    memcpy(*buf + 8, header, h);
    memset(*buf + 8 + h, ' ', at - 8 - h);
    for (int i = 0; i < w->n; i++) {
        store_le_f32(*buf + at, w->entries[i].data, w->entries[i].count);
        at += 4 * w->entries[i].count;
    }
    *len = total;
    return CLF_OK;
}

clf_status clf_st_writer_serialize(clf_st_writer *w, bool crc, unsigned char **buf,
                                   size_t *len)
{
    char *header = NULL;
    clf_status st = w->error;

    *buf = NULL;
    *len = 0;
    if (st != CLF_OK)
        return st;
    if (w->n > 1) /* qsort must not get the NULL of an empty list */
        qsort(w->entries, (size_t)w->n, sizeof *w->entries, entry_by_name);
    if (crc && !cJSON_GetObjectItemCaseSensitive(w->meta, CLF_ST_CRC_KEY))
        st = add_crc(w);
    if (st == CLF_OK) {
        header = header_text(w);
        st = header ? CLF_OK : CLF_ERR_NOMEM;
    }
    /* the format requires UTF-8; a file with other bytes could not be read back */
    if (st == CLF_OK && clf_utf8_check((const unsigned char *)header, strlen(header)) <
                            strlen(header)) {
        CLF_LOG_ERROR("safetensors: a name or metadata value is not UTF-8 text (a class "
                      "folder or path with other bytes?); the file would be unreadable, so "
                      "it is not written");
        st = CLF_ERR_ARG;
    }
    if (st == CLF_OK)
        st = assemble(w, header, buf, len);
    cJSON_free(header);
    return st;
}

clf_status clf_st_writer_save(clf_st_writer *w, const char *path)
{
    unsigned char *buf;
    size_t len;
    clf_status st = clf_st_writer_serialize(w, true, &buf, &len);

    if (st == CLF_OK)
        st = clf_atomic_write(path, buf, len);
    free(buf);
    return st;
}
