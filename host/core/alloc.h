/* Overflow-checked size arithmetic and allocation (internal).
 *
 * Every size computed from untrusted numbers (image dimensions, tensor
 * shapes read from files, batch sizes) goes through clf_mul_size /
 * clf_add_size, and every allocation through clf_malloc_array or
 * clf_calloc_array, which log what was asked for when they fail.
 */
#ifndef CLFIT_CORE_ALLOC_H
#define CLFIT_CORE_ALLOC_H

#include <stdbool.h>
#include <stddef.h>

#include "clfit/status.h"

/* *out = a * b; false (and *out untouched) on overflow. */
static inline bool clf_mul_size(size_t a, size_t b, size_t *out)
{
    return !__builtin_mul_overflow(a, b, out);
}

/* *out = a + b; false on overflow. */
static inline bool clf_add_size(size_t a, size_t b, size_t *out)
{
    return !__builtin_add_overflow(a, b, out);
}

/* *out = a * b * c * d (pass 1 for unused factors); false on overflow. */
bool clf_mul4_size(size_t a, size_t b, size_t c, size_t d, size_t *out);

/* Allocates count * size bytes; NULL on overflow or failure, after logging
 * `what`. A zero-size request returns a valid 1-byte block. */
void *clf_malloc_array(size_t count, size_t size, const char *what);

/* As clf_malloc_array, zero-filled. */
void *clf_calloc_array(size_t count, size_t size, const char *what);

/* Resizes *p to count * size bytes; on failure *p is untouched and
 * CLF_ERR_NOMEM or CLF_ERR_OVERFLOW is returned. */
clf_status clf_realloc_array(void **p, size_t count, size_t size, const char *what);

/* strdup that logs on failure. */
char *clf_strdup(const char *s);

#endif
