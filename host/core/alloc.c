/* Overflow-checked allocation helpers. */
#include "alloc.h"

#include <stdlib.h>
#include <string.h>

#include "clfit/log.h"

bool clf_mul4_size(size_t a, size_t b, size_t c, size_t d, size_t *out)
{
    size_t ab, abc;

    if (!clf_mul_size(a, b, &ab) || !clf_mul_size(ab, c, &abc))
        return false;
    return clf_mul_size(abc, d, out);
}

static bool total_bytes(size_t count, size_t size, const char *what, size_t *bytes)
{
    if (!clf_mul_size(count, size, bytes)) {
        CLF_LOG_ERROR("%s: %zu x %zu bytes overflows", what ? what : "allocation", count,
                      size);
        return false;
    }
    if (*bytes == 0)
        *bytes = 1;
    return true;
}

void *clf_malloc_array(size_t count, size_t size, const char *what)
{
    size_t bytes;
    void *p;

    if (!total_bytes(count, size, what, &bytes))
        return NULL;
    p = malloc(bytes);
    if (!p)
        CLF_LOG_ERROR("%s: out of memory allocating %zu bytes", what ? what : "allocation",
                      bytes);
    return p;
}

void *clf_calloc_array(size_t count, size_t size, const char *what)
{
    size_t bytes;
    void *p;

    if (!total_bytes(count, size, what, &bytes))
        return NULL;
    p = calloc(1, bytes);
    if (!p)
        CLF_LOG_ERROR("%s: out of memory allocating %zu bytes", what ? what : "allocation",
                      bytes);
    return p;
}

clf_status clf_realloc_array(void **p, size_t count, size_t size, const char *what)
{
    size_t bytes;
    void *q;

    if (!total_bytes(count, size, what, &bytes))
        return CLF_ERR_OVERFLOW;
    q = realloc(*p, bytes);
    if (!q) {
        CLF_LOG_ERROR("%s: out of memory allocating %zu bytes", what ? what : "allocation",
                      bytes);
        return CLF_ERR_NOMEM;
    }
    *p = q;
    return CLF_OK;
}

char *clf_strdup(const char *s)
{
    size_t n = strlen(s) + 1;
    char *d = clf_malloc_array(n, 1, "string copy");

    if (d)
        memcpy(d, s, n);
    return d;
}
