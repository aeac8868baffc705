/* The plain C backend's private declarations (internal).
 *
 * A clf_buf is a malloc'd byte block. Every op is a straightforward loop
 * nest written for clarity first; this is the reference the OpenCL
 * backend is tested against. */
#ifndef CLFIT_CPU_H
#define CLFIT_CPU_H

#include "backend/backend.h"

struct clf_buf {
    size_t bytes;
    unsigned char *data;
};

/* Float view of b at element offset off, or NULL after logging when
 * [off, off + n) does not lie inside the buffer. */
float *clf_cpu_f32(clf_buf *b, size_t off, size_t n, const char *op);
int32_t *clf_cpu_i32(clf_buf *b, size_t off, size_t n, const char *op);
unsigned char *clf_cpu_u8(clf_buf *b, size_t byte_off, size_t n, const char *op);

static inline float clf_cpu_act(clf_act act, float x)
{
    if (act.kind == CLF_ACT_RELU) {
        x = x > 0.0f ? x : 0.0f;
        x = x < act.max ? x : act.max;
    }
    return x;
}

/* C = alpha * op(A) op(B) + beta * C on host pointers (row-major). */
clf_status clf_cpu_sgemm(bool ta, bool tb, int m, int n, int k, float alpha, const float *A,
                         int lda, const float *B, int ldb, float beta, float *C, int ldc);

/* Entry points defined across cpu_*.c and collected in cpu_backend.c. */
clf_status clf_cpu_gemm(clf_backend *be, bool ta, bool tb, int m, int n, int k, float alpha,
                        clf_buf *a, size_t ao, int lda, clf_buf *b, size_t bo, int ldb,
                        float beta, clf_buf *c, size_t co, int ldc);
clf_status clf_cpu_bias_act(clf_backend *be, int rows, int cols, clf_buf *x, size_t xo,
                            clf_buf *bias, size_t bo, clf_act act);
clf_status clf_cpu_act_backward(clf_backend *be, size_t n, clf_act act, clf_buf *y, size_t yo,
                                clf_buf *dy, size_t dyo);
clf_status clf_cpu_col_sum(clf_backend *be, int rows, int cols, clf_buf *x, size_t xo,
                           float beta, clf_buf *y, size_t yo);
clf_status clf_cpu_softmax(clf_backend *be, int rows, int cols, clf_buf *x, size_t xo,
                           clf_buf *y, size_t yo);
clf_status clf_cpu_softmax_xent(clf_backend *be, int rows, int cols, clf_buf *logits,
                                size_t lo, clf_buf *labels, size_t lbo, float grad_scale,
                                clf_buf *grad, size_t go, clf_buf *stats, size_t so);
clf_status clf_cpu_adam(clf_backend *be, size_t n, clf_buf *w, size_t wo, clf_buf *g,
                        size_t go, clf_buf *m, size_t mo, clf_buf *v, size_t vo, float lr_t,
                        float b1, float b2, float eps);
clf_status clf_cpu_sgd(clf_backend *be, size_t n, clf_buf *w, size_t wo, clf_buf *g,
                       size_t go, clf_buf *vel, size_t vo, float lr, float momentum,
                       bool nesterov);
clf_status clf_cpu_dense_update(clf_backend *be, int rows, int in, int units, clf_buf *x,
                                size_t xo, int ldx, clf_buf *dy, size_t dyo,
                                const clf_opt_step *opt, clf_buf *w, clf_buf *const *w_slot,
                                clf_buf *b, clf_buf *const *b_slot);
clf_status clf_cpu_dropout(clf_backend *be, size_t n, float rate, uint32_t seed, clf_buf *x,
                           size_t xo, clf_buf *y, size_t yo);
clf_status clf_cpu_u8_to_float(clf_backend *be, int n_img, int h, int w, int c, bool chw,
                               float scale, float shift, clf_buf *src, size_t so,
                               clf_buf *dst, size_t dso);
clf_status clf_cpu_conv2d(clf_backend *be, const clf_conv_shape *s, clf_buf *x, size_t xo,
                          clf_buf *w, size_t wo, clf_buf *bias, size_t bo, clf_act act,
                          clf_buf *y, size_t yo);
clf_status clf_cpu_depthwise_conv2d(clf_backend *be, const clf_conv_shape *s, clf_buf *x,
                                    size_t xo, clf_buf *w, size_t wo, clf_buf *bias,
                                    size_t bo, clf_act act, clf_buf *y, size_t yo);
clf_status clf_cpu_avg_pool(clf_backend *be, const clf_pool_shape *s, clf_buf *x, size_t xo,
                            clf_buf *y, size_t yo);
clf_status clf_cpu_global_avg_pool(clf_backend *be, int n, int hw, int c, clf_buf *x,
                                   size_t xo, clf_buf *y, size_t yo);
clf_status clf_cpu_global_avg_pool_backward(clf_backend *be, int n, int hw, int c,
                                            clf_buf *dy, size_t dyo, clf_buf *dx,
                                            size_t dxo);
clf_status clf_cpu_zero_pad(clf_backend *be, int n, int h, int w, int c, int top, int bottom,
                            int left, int right, clf_buf *x, size_t xo, clf_buf *y,
                            size_t yo);
clf_status clf_cpu_add(clf_backend *be, size_t n, clf_buf *a, size_t ao, clf_buf *b,
                       size_t bo, clf_act act, clf_buf *y, size_t yo);
clf_status clf_cpu_channel_affine(clf_backend *be, int rows, int c, clf_buf *x, size_t xo,
                                  clf_buf *scale, size_t so, clf_buf *shift, size_t sho,
                                  clf_act act, clf_buf *y, size_t yo);

#endif
