/* The user's cache folder and a stable hash (internal).
 *
 * clfit keeps what it can rebuild in one folder per user: built OpenCL
 * programs (backend/opencl/ocl_bincache.c) and GEMM tuning results
 * (backend/opencl/ocl_tune_file.c). Everything there may be deleted at
 * any time. Files there are read with core/file.h and written with
 * io/atomic_file.h.
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

/* 64-bit FNV-1a of n bytes, continuing from h (start with
 * CLF_FNV_START): a stable name or checksum, not a security measure. */
#define CLF_FNV_START 0xcbf29ce484222325ULL
uint64_t clf_fnv1a(uint64_t h, const void *data, size_t n);

#endif
