/* The user's cache folder, atomic file writes, a stable hash (internal).
 *
 * clfit keeps what it can rebuild in one folder per user: built OpenCL
 * programs (backend/opencl/ocl_bincache.c) and GEMM tuning results
 * (tune/). Everything there may be deleted at any time.
 */
#ifndef CLFIT_CORE_CACHE_DIR_H
#define CLFIT_CORE_CACHE_DIR_H

#include <stddef.h>
#include <stdint.h>

#include "clfit/status.h"

/* $CLFIT_CACHE_DIR, else $XDG_CACHE_HOME/clfit, else $HOME/.cache/clfit,
 * with "/sub" appended, created with its parents when missing. NULL when
 * CLFIT_CACHE_DIR is set but empty (caching off), when no HOME is known,
 * or when the folder cannot be created (logged as a warning naming it).
 * The caller frees the result. */
char *clf_cache_dir(const char *sub);

/* Writes head then body (either may be empty) to `path` through a
 * temporary file in the same folder and a rename, so readers see the old
 * file or the new one, never a part. CLF_ERR_IO after a warning. */
clf_status clf_write_file_atomic(const char *path, const void *head, size_t head_len,
                                 const void *body, size_t body_len);

/* Reads a whole regular file of at most max_bytes into a malloc'd block.
 * CLF_ERR_IO when it is missing, unreadable or too large (silent: a
 * missing cache file is normal; the caller decides what to say). */
clf_status clf_read_file(const char *path, size_t max_bytes, uint8_t **data, size_t *len);

/* 64-bit FNV-1a of n bytes, continuing from h (start with
 * CLF_FNV_START): a stable name or checksum, not a security measure. */
#define CLF_FNV_START 0xcbf29ce484222325ULL
uint64_t clf_fnv1a(uint64_t h, const void *data, size_t n);

#endif
