/* The op table every backend implements (internal).
 *
 * The model layer runs every computation through these entry points and
 * never sees OpenCL. Two implementations exist: cpu/ (plain C, the
 * reference every other backend is tested against) and opencl/.
 *
 * Conventions for every op:
 * - Buffers are opaque clf_buf handles made by buf_new. A buffer holds raw
 *   bytes; ops read it as float32, int32 or uint8 as documented.
 * - Offsets: `*_off` arguments of float and int32 buffers count elements;
 *   the byte offsets of write/read and of uint8 data say so.
 * - Matrices are row-major. Images and feature maps are NHWC.
 * - Ops are enqueued in order; results are visible to later ops. read()
 *   blocks until the data is on the host. write() has copied the bytes
 *   when it returns (the source may be reused at once; the training loop
 *   refills it while the device runs). finish() waits for everything.
 * - Every op returns CLF_OK or an error after logging the failing call.
 *   Shapes are validated by the caller (the model); backends check only
 *   what protects memory (offsets inside buffers).
 */
#ifndef CLFIT_BACKEND_H
#define CLFIT_BACKEND_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "clfit/device.h"
#include "clfit/status.h"

typedef struct clf_buf clf_buf; /* defined by each backend */

/* Elementwise activation applied by fused ops. CLF_ACT_RELU clamps to
 * [0, max]; max is INFINITY for a plain ReLU and 6 for ReLU6. */
typedef enum clf_act_kind { CLF_ACT_NONE = 0, CLF_ACT_RELU = 1 } clf_act_kind;

typedef struct clf_act {
    clf_act_kind kind;
    float max;
} clf_act;

/* Geometry of a 2-D convolution over NHWC input.
 * Output pixel (oy, ox) reads input rows oy*sh - pad_top + ky*dh and
 * columns ox*sw - pad_left + kx*dw; reads outside the input are zero.
 * conv2d weights are (kh, kw, c, oc) as Keras stores them.
 * depthwise weights are (kh, kw, c, mult) and oc == c * mult; output
 * channel ci*mult + m comes from input channel ci. */
typedef struct clf_conv_shape {
    int n, h, w, c;     /* input batch, height, width, channels */
    int oh, ow, oc;     /* output height, width, channels */
    int kh, kw;         /* kernel size */
    int sh, sw;         /* strides */
    int dh, dw;         /* dilation (1 for none) */
    int pad_top, pad_left;
    int mult;           /* depthwise channel multiplier; 1 for conv2d */
} clf_conv_shape;

/* Geometry of average pooling over NHWC input (Keras AveragePooling2D).
 * Windows that hang over the input edge (padding "same") average only the
 * elements inside the input, as Keras does. */
typedef struct clf_pool_shape {
    int n, h, w, c;
    int oh, ow;
    int ph, pw;         /* pool size */
    int sh, sw;         /* strides */
    int pad_top, pad_left;
} clf_pool_shape;

/* One optimizer step, as the fused dense_update op takes it. */
typedef struct clf_opt_step {
    bool adam;          /* else sgd */
    float lr;           /* adam: lr_t as the adam op takes it; sgd: lr */
    float b1, b2, eps;  /* adam */
    float momentum;     /* sgd; 0 keeps no velocity */
    bool nesterov;      /* sgd */
} clf_opt_step;

typedef struct clf_backend_ops {
    const char *kind; /* "cpu" or "opencl" */

    /* Device memory. buf_new fails with CLF_ERR_DEVICE_MEM (after logging
     * the size asked for and the device's limit) before allocating when
     * `bytes` exceeds the device's single-allocation or global limit.
     * `what` names the buffer in messages. Contents start undefined. */
    clf_status (*buf_new)(clf_backend *be, size_t bytes, const char *what, clf_buf **out);
    void (*buf_free)(clf_backend *be, clf_buf *b);
    clf_status (*write)(clf_backend *be, clf_buf *dst, size_t dst_byte_off, const void *src,
                        size_t bytes);
    clf_status (*read)(clf_backend *be, clf_buf *src, size_t src_byte_off, void *dst,
                       size_t bytes);
    clf_status (*fill)(clf_backend *be, clf_buf *dst, size_t off, size_t n, float value);
    clf_status (*copy)(clf_backend *be, clf_buf *src, size_t src_off, clf_buf *dst,
                       size_t dst_off, size_t n);
    clf_status (*finish)(clf_backend *be);

    /* C = alpha * op(A) * op(B) + beta * C; op(X) is X or X^T.
     * op(A) is M x K, op(B) is K x N, C is M x N, leading dims as stored. */
    clf_status (*gemm)(clf_backend *be, bool trans_a, bool trans_b, int m, int n, int k,
                       float alpha, clf_buf *a, size_t a_off, int lda, clf_buf *b,
                       size_t b_off, int ldb, float beta, clf_buf *c, size_t c_off, int ldc);

    /* x[r][j] = act(x[r][j] + bias[j]) in place; bias may be NULL. */
    clf_status (*bias_act)(clf_backend *be, int rows, int cols, clf_buf *x, size_t x_off,
                           clf_buf *bias, size_t bias_off, clf_act act);

    /* dy[i] *= act'(y[i]) in place, from the activation's output y:
     * 1 where 0 < y < max, else 0. CLF_ACT_NONE leaves dy as it is. */
    clf_status (*act_backward)(clf_backend *be, size_t n, clf_act act, clf_buf *y,
                               size_t y_off, clf_buf *dy, size_t dy_off);

    /* y[j] = beta * y[j] + sum_r x[r][j] (bias gradients). */
    clf_status (*col_sum)(clf_backend *be, int rows, int cols, clf_buf *x, size_t x_off,
                          float beta, clf_buf *y, size_t y_off);

    /* Row-wise softmax of x into y (may alias x), max-subtracted. */
    clf_status (*softmax)(clf_backend *be, int rows, int cols, clf_buf *x, size_t x_off,
                          clf_buf *y, size_t y_off);

    /* Softmax + sparse categorical cross-entropy from logits, together.
     * For each row r with integer label L = labels[r] (int32):
     *   loss_r = logsumexp(x_r) - x_r[L]      (stable; never overflows)
     *   grad_r = (softmax(x_r) - onehot(L)) * grad_scale   (if grad != NULL)
     * stats[0] += sum_r loss_r; stats[1] += number of rows whose first
     * arg-max equals L. Labels must be in [0, cols): the caller checks. */
    clf_status (*softmax_xent)(clf_backend *be, int rows, int cols, clf_buf *logits,
                               size_t logits_off, clf_buf *labels, size_t labels_off,
                               float grad_scale, clf_buf *grad, size_t grad_off,
                               clf_buf *stats, size_t stats_off);

    /* One Adam step over n weights, Keras's formulation:
     *   m += (g - m) * (1 - b1);  v += (g*g - v) * (1 - b2);
     *   w -= lr_t * m / (sqrt(v) + eps)
     * where the caller passes lr_t = lr * sqrt(1 - b2^t) / (1 - b1^t). */
    clf_status (*adam)(clf_backend *be, size_t n, clf_buf *w, size_t w_off, clf_buf *g,
                       size_t g_off, clf_buf *m, size_t m_off, clf_buf *v, size_t v_off,
                       float lr_t, float b1, float b2, float eps);

    /* One SGD step, Keras's formulation. momentum == 0: w -= lr * g, and
     * vel may be NULL. Otherwise vel = momentum * vel - lr * g, then
     * w += vel, or with nesterov w += momentum * vel - lr * g. */
    clf_status (*sgd)(clf_backend *be, size_t n, clf_buf *w, size_t w_off, clf_buf *g,
                      size_t g_off, clf_buf *vel, size_t vel_off, float lr, float momentum,
                      bool nesterov);

    /* A Dense layer's parameter gradients fused with the optimizer step:
     *   dW = X^T dY (in x units), db = column sums of dY,
     * then W and b take the step `opt` as the adam / sgd ops would with
     * those gradients; the gradients are never stored. X is rows x in with
     * leading dimension ldx; dY is rows x units, contiguous. W, b and
     * their slots start at offset 0: w_slot[0], w_slot[1] are adam's m and
     * v, or sgd's velocity in w_slot[0] (unused without momentum); b_slot
     * likewise. b may be NULL (no bias). */
    clf_status (*dense_update)(clf_backend *be, int rows, int in, int units, clf_buf *x,
                               size_t x_off, int ldx, clf_buf *dy, size_t dy_off,
                               const clf_opt_step *opt, clf_buf *w, clf_buf *const *w_slot,
                               clf_buf *b, clf_buf *const *b_slot);

    /* Inverted dropout: y[i] = x[i] / (1 - rate) where
     * clf_dropout_keep(seed, i, rate), else 0. x and y may alias. The same
     * call with the gradient in place of x is the backward pass. */
    clf_status (*dropout)(clf_backend *be, size_t n, float rate, uint32_t seed, clf_buf *x,
                          size_t x_off, clf_buf *y, size_t y_off);

    /* Images in: n_img uint8 images of h x w x c (HWC), starting at byte
     * src_byte_off, become floats v * scale + shift, written HWC or, when
     * chw is true, channel-first (CHW) per image. */
    clf_status (*u8_to_float)(clf_backend *be, int n_img, int h, int w, int c, bool chw,
                              float scale, float shift, clf_buf *src, size_t src_byte_off,
                              clf_buf *dst, size_t dst_off);

    /* y = act(conv(x, w) + bias); bias may be NULL. See clf_conv_shape. */
    clf_status (*conv2d)(clf_backend *be, const clf_conv_shape *s, clf_buf *x, size_t x_off,
                         clf_buf *w, size_t w_off, clf_buf *bias, size_t bias_off, clf_act act,
                         clf_buf *y, size_t y_off);
    clf_status (*depthwise_conv2d)(clf_backend *be, const clf_conv_shape *s, clf_buf *x,
                                   size_t x_off, clf_buf *w, size_t w_off, clf_buf *bias,
                                   size_t bias_off, clf_act act, clf_buf *y, size_t y_off);

    /* Average pooling; see clf_pool_shape. */
    clf_status (*avg_pool)(clf_backend *be, const clf_pool_shape *s, clf_buf *x, size_t x_off,
                           clf_buf *y, size_t y_off);

    /* y[b][c] = mean over hw of x[b][hw][c]; and its backward,
     * dx[b][p][c] = dy[b][c] / hw. */
    clf_status (*global_avg_pool)(clf_backend *be, int n, int hw, int c, clf_buf *x,
                                  size_t x_off, clf_buf *y, size_t y_off);
    clf_status (*global_avg_pool_backward)(clf_backend *be, int n, int hw, int c,
                                           clf_buf *dy, size_t dy_off, clf_buf *dx,
                                           size_t dx_off);

    /* NHWC zero padding: y is n x (h+top+bottom) x (w+left+right) x c. */
    clf_status (*zero_pad)(clf_backend *be, int n, int h, int w, int c, int top, int bottom,
                           int left, int right, clf_buf *x, size_t x_off, clf_buf *y,
                           size_t y_off);

    /* y = act(a + b) elementwise over n floats; y may alias a or b. */
    clf_status (*add)(clf_backend *be, size_t n, clf_buf *a, size_t a_off, clf_buf *b,
                      size_t b_off, clf_act act, clf_buf *y, size_t y_off);

    /* y[r][j] = act(x[r][j] * scale[j] + shift[j]): batch normalization in
     * inference mode, for a BN that could not be folded into a conv. */
    clf_status (*channel_affine)(clf_backend *be, int rows, int c, clf_buf *x, size_t x_off,
                                 clf_buf *scale, size_t scale_off, clf_buf *shift,
                                 size_t shift_off, clf_act act, clf_buf *y, size_t y_off);

    /* Releases the backend's private state (called by clf_backend_close). */
    void (*destroy)(clf_backend *be);
} clf_backend_ops;

struct clf_backend {
    const clf_backend_ops *ops;
    clf_device_desc desc;
    void *impl; /* the backend's private state */
};

/* Constructors, one per backend. */
clf_status clf_cpu_backend_open(clf_backend **out);
clf_status clf_opencl_backend_open(int platform, int device, clf_backend **out);

/* The dropout mask shared by every backend (also written in cl/dropout.cl):
 * element i is kept when the top 24 bits of clf_mask_hash(seed, i), as a
 * fraction of 2^24, are >= rate. */
static inline uint32_t clf_mask_hash(uint32_t seed, uint32_t i)
{
    uint32_t x = i * 0x9e3779b9u ^ seed;

    x ^= x >> 16;
    x *= 0x7feb352du;
    x ^= x >> 15;
    x *= 0x846ca68bu;
    x ^= x >> 16;
    return x;
}

static inline bool clf_dropout_keep(uint32_t seed, uint32_t i, float rate)
{
    return (float)(clf_mask_hash(seed, i) >> 8) * (1.0f / 16777216.0f) >= rate;
}

#endif
