/* The safetensors container (internal), as published by Hugging Face:
 *
 *   8 bytes   N, the header length, unsigned little-endian
 *   N bytes   UTF-8 JSON: {"__metadata__": {"key": "value", ...},
 *             "name": {"dtype": "F32", "shape": [2, 3],
 *                      "data_offsets": [begin, end]}, ...}
 *   the rest  raw little-endian tensor data; offsets count from its
 *             start, tensors lie end to end without gaps or overlap and
 *             fill it exactly
 *
 * The writer pads the header with spaces to a multiple of 8 bytes and
 * stores tensors sorted by name, as the reference implementation does, so
 * Python's safetensors and PyTorch users can read clfit's files.
 *
 * The reader checks everything the reference checks (length against the
 * file size, '{' first, UTF-8, JSON, known dtypes, shape products with
 * overflow checks, offsets contiguous and covering the data, metadata
 * values being strings, no duplicate names) and, because clfit files hold
 * weights, that every F32 value is finite. Each failure is logged with the
 * file name, the tensor and what was expected.
 *
 * clfit also keeps a CRC-32 in the metadata ("clfit.crc32", 8 hex digits)
 * so a flipped byte anywhere in the metadata or the data is caught: the
 * CRC of every other metadata entry (key, NUL, value, NUL, keys sorted
 * bytewise) followed by the whole data section. Other readers ignore it.
 */
#ifndef CLFIT_IO_SAFETENSORS_H
#define CLFIT_IO_SAFETENSORS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <cJSON.h>

#include "clfit/status.h"

enum { CLF_ST_MAX_RANK = 8, CLF_ST_MAX_TENSORS = 100000 };

/* The format's own header limit (the reference refuses larger ones). */
#define CLF_ST_MAX_HEADER ((size_t)100000000)
/* Largest file the reader loads into memory. */
#define CLF_ST_MAX_FILE ((size_t)1 << 34)
#define CLF_ST_CRC_KEY "clfit.crc32"

typedef enum clf_st_dtype {
    CLF_ST_BOOL, CLF_ST_U8, CLF_ST_I8, CLF_ST_F8_E5M2, CLF_ST_F8_E4M3, CLF_ST_I16,
    CLF_ST_U16, CLF_ST_F16, CLF_ST_BF16, CLF_ST_I32, CLF_ST_U32, CLF_ST_F32, CLF_ST_F64,
    CLF_ST_I64, CLF_ST_U64, CLF_ST_DTYPE_COUNT_
} clf_st_dtype;

/* "F32" etc. */
const char *clf_st_dtype_name(clf_st_dtype d);

typedef struct clf_st_tensor {
    const char *name;            /* borrowed from the parsed header */
    clf_st_dtype dtype;
    int rank;
    size_t shape[CLF_ST_MAX_RANK];
    size_t count;                /* product of shape (1 for rank 0) */
    size_t begin, end;           /* byte offsets in the data section */
} clf_st_tensor;

typedef struct clf_st_file {
    char *what;                  /* the file name, for messages */
    unsigned char *owned;        /* the whole file when read from disk */
    const unsigned char *data;   /* the data section */
    size_t data_len;
    size_t header_len;           /* N */
    cJSON *header;
    const cJSON *meta;           /* "__metadata__", or NULL */
    clf_st_tensor *tensors;      /* in header order */
    int n;
} clf_st_file;

/* Reads and checks the file at path. On failure *out is empty and the
 * log says what is wrong: CLF_ERR_IO (cannot read), CLF_ERR_FORMAT
 * (malformed, including non-finite F32 values), CLF_ERR_NOMEM. Free with
 * clf_st_free. */
clf_status clf_st_read(const char *path, clf_st_file *out);

/* As clf_st_read on len bytes in memory, which must outlive *out. `what`
 * names the source in messages. */
clf_status clf_st_parse(const void *bytes, size_t len, const char *what, clf_st_file *out);

/* Frees what *f holds; *f becomes empty. An empty *f is fine. */
void clf_st_free(clf_st_file *f);

/* The metadata value for key, or NULL when there is none. */
const char *clf_st_meta(const clf_st_file *f, const char *key);

/* The tensor called name, or NULL. */
const clf_st_tensor *clf_st_find(const clf_st_file *f, const char *name);

/* Copies an F32 tensor's count values into dst. CLF_ERR_FORMAT, naming
 * the file and tensor, when it is another dtype or holds another count. */
clf_status clf_st_get_f32(const clf_st_file *f, const clf_st_tensor *t, float *dst,
                          size_t count);

/* Checks the "clfit.crc32" entry: CLF_ERR_FORMAT when it is missing,
 * malformed or does not match (the file was changed or damaged). */
clf_status clf_st_check_crc(const clf_st_file *f);

/* CRC-32 of the metadata entries other than "clfit.crc32" (see above);
 * continue it over the data section with zlib's crc32_z. */
clf_status clf_st_crc_meta(const cJSON *meta, uint32_t *crc);

/* ---- Writing ---- */

typedef struct clf_st_entry {
    char *name;
    int rank;
    size_t shape[CLF_ST_MAX_RANK];
    size_t count;
    float *data;                 /* owned */
} clf_st_entry;

typedef struct clf_st_writer {
    cJSON *meta;                 /* key -> string, in insertion order */
    clf_st_entry *entries;
    int n;
    clf_status error;            /* first failure; sticky */
} clf_st_writer;

void clf_st_writer_init(clf_st_writer *w);
void clf_st_writer_free(clf_st_writer *w);

/* Adds a metadata entry (both strings copied). A repeated key or one
 * starting "__" is CLF_ERR_ARG. */
clf_status clf_st_writer_meta(clf_st_writer *w, const char *key, const char *value);

/* Adds an F32 tensor of the given shape (rank 0..CLF_ST_MAX_RANK, dims
 * >= 0). take_ takes ownership of data (malloc'd, freed even on failure);
 * copy_ copies it. A repeated or empty name, or "__metadata__", is
 * CLF_ERR_ARG. */
clf_status clf_st_writer_take_f32(clf_st_writer *w, const char *name, int rank,
                                  const int *shape, float *data);
clf_status clf_st_writer_copy_f32(clf_st_writer *w, const char *name, int rank,
                                  const int *shape, const float *data);

/* The whole file in memory (*buf malloc'd, the caller frees it). With
 * crc, adds the "clfit.crc32" entry first. Returns the writer's sticky
 * error if an add failed. */
clf_status clf_st_writer_serialize(clf_st_writer *w, bool crc, unsigned char **buf,
                                   size_t *len);

/* Serializes (with the CRC) and writes to path atomically
 * (io/atomic_file.h). */
clf_status clf_st_writer_save(clf_st_writer *w, const char *path);

#endif
