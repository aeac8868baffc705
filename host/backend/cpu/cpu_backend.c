/* The plain C backend: memory, bounds checks, the op table. */
#include "cpu.h"

#include <stdlib.h>
#include <string.h>

#include "clfit/log.h"
#include "core/alloc.h"

/* Checks that n elements of `size` bytes at element offset off fit in b. */
static void *view(clf_buf *b, size_t off, size_t n, size_t size, const char *op)
{
    size_t first, count, end;

    if (!b || !clf_mul_size(off, size, &first) || !clf_mul_size(n, size, &count) ||
        !clf_add_size(first, count, &end) || end > b->bytes) {
        CLF_LOG_ERROR("cpu %s: range of %zu elements at offset %zu lies outside its buffer",
                      op, n, off);
        return NULL;
    }
    return b->data + first;
}

float *clf_cpu_f32(clf_buf *b, size_t off, size_t n, const char *op)
{
    return view(b, off, n, sizeof(float), op);
}

int32_t *clf_cpu_i32(clf_buf *b, size_t off, size_t n, const char *op)
{
    return view(b, off, n, sizeof(int32_t), op);
}

unsigned char *clf_cpu_u8(clf_buf *b, size_t byte_off, size_t n, const char *op)
{
    return view(b, byte_off, n, 1, op);
}

static clf_status cpu_buf_new(clf_backend *be, size_t bytes, const char *what, clf_buf **out)
{
    clf_buf *b;

    (void)be;
    *out = NULL;
    b = calloc(1, sizeof *b);
    if (!b) {
        CLF_LOG_ERROR("cpu: out of memory for buffer '%s'", what);
        return CLF_ERR_NOMEM;
    }
    b->data = clf_malloc_array(bytes, 1, what);
    if (!b->data) {
        free(b);
        return CLF_ERR_NOMEM;
    }
    b->bytes = bytes;
    *out = b;
    return CLF_OK;
}

static void cpu_buf_free(clf_backend *be, clf_buf *b)
{
    (void)be;
    if (b)
        free(b->data);
    free(b);
}

static clf_status cpu_write(clf_backend *be, clf_buf *dst, size_t off, const void *src,
                            size_t bytes)
{
    unsigned char *d = clf_cpu_u8(dst, off, bytes, "write");

    (void)be;
    if (!d)
        return CLF_ERR_ARG;
    if (bytes)
        memcpy(d, src, bytes);
    return CLF_OK;
}

static clf_status cpu_read(clf_backend *be, clf_buf *src, size_t off, void *dst, size_t bytes)
{
    unsigned char *s = clf_cpu_u8(src, off, bytes, "read");

    (void)be;
    if (!s)
        return CLF_ERR_ARG;
    if (bytes)
        memcpy(dst, s, bytes);
    return CLF_OK;
}

static clf_status cpu_fill(clf_backend *be, clf_buf *dst, size_t off, size_t n, float value)
{
    float *d = clf_cpu_f32(dst, off, n, "fill");

    (void)be;
    if (!d)
        return CLF_ERR_ARG;
    for (size_t i = 0; i < n; i++)
        d[i] = value;
    return CLF_OK;
}

static clf_status cpu_copy(clf_backend *be, clf_buf *src, size_t so, clf_buf *dst, size_t dso,
                           size_t n)
{
    float *s = clf_cpu_f32(src, so, n, "copy");
    float *d = clf_cpu_f32(dst, dso, n, "copy");

    (void)be;
    if (!s || !d)
        return CLF_ERR_ARG;
    if (n)
        memmove(d, s, n * sizeof(float));
    return CLF_OK;
}

static clf_status cpu_finish(clf_backend *be)
{
    (void)be;
    return CLF_OK;
}

static void cpu_destroy(clf_backend *be)
{
    (void)be;
}

static const clf_backend_ops cpu_ops = {
    .kind = "cpu",
    .buf_new = cpu_buf_new,
    .buf_free = cpu_buf_free,
    .write = cpu_write,
    .read = cpu_read,
    .fill = cpu_fill,
    .copy = cpu_copy,
    .finish = cpu_finish,
    .gemm = clf_cpu_gemm,
    .bias_act = clf_cpu_bias_act,
    .act_backward = clf_cpu_act_backward,
    .col_sum = clf_cpu_col_sum,
    .softmax = clf_cpu_softmax,
    .softmax_xent = clf_cpu_softmax_xent,
    .adam = clf_cpu_adam,
    .sgd = clf_cpu_sgd,
    .dense_update = clf_cpu_dense_update,
    .dropout = clf_cpu_dropout,
    .u8_to_float = clf_cpu_u8_to_float,
    .conv2d = clf_cpu_conv2d,
    .depthwise_conv2d = clf_cpu_depthwise_conv2d,
    .avg_pool = clf_cpu_avg_pool,
    .global_avg_pool = clf_cpu_global_avg_pool,
    .global_avg_pool_backward = clf_cpu_global_avg_pool_backward,
    .zero_pad = clf_cpu_zero_pad,
    .add = clf_cpu_add,
    .channel_affine = clf_cpu_channel_affine,
    .destroy = cpu_destroy,
};

clf_status clf_cpu_backend_open(clf_backend **out)
{
    clf_backend *be = calloc(1, sizeof *be);

    *out = NULL;
    if (!be) {
        CLF_LOG_ERROR("cpu backend: out of memory");
        return CLF_ERR_NOMEM;
    }
    be->ops = &cpu_ops;
    be->desc.platform = -1;
    be->desc.device = -1;
    strcpy(be->desc.name, "plain C (reference)");
    strcpy(be->desc.type, "HOST");
    be->desc.max_alloc = SIZE_MAX;
    be->desc.global_mem = SIZE_MAX;
    be->desc.compute_units = 1;
    *out = be;
    return CLF_OK;
}
