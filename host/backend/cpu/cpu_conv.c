/* Reference ops of convolutional layers, NHWC, inference only. */
#include "cpu.h"

#include <stdlib.h>
#include <string.h>

#include "clfit/log.h"
#include "core/alloc.h"

static size_t conv_in(const clf_conv_shape *s)
{
    return (size_t)s->n * s->h * s->w * s->c;
}

static size_t conv_out(const clf_conv_shape *s)
{
    return (size_t)s->n * s->oh * s->ow * s->oc;
}

/* Row of the im2col matrix for output pixel p: (ky, kx, ci) order, the
 * order of Keras's (kh, kw, c, oc) kernel. */
static void im2col_row(const clf_conv_shape *s, const float *x, size_t p, float *row)
{
    int ox = (int)(p % s->ow), oy = (int)(p / s->ow % s->oh), b = (int)(p / s->ow / s->oh);

    for (int ky = 0; ky < s->kh; ky++) {
        int iy = oy * s->sh - s->pad_top + ky * s->dh;

        for (int kx = 0; kx < s->kw; kx++) {
            int ix = ox * s->sw - s->pad_left + kx * s->dw;
            float *dst = row + ((size_t)ky * s->kw + kx) * s->c;

            if (iy < 0 || iy >= s->h || ix < 0 || ix >= s->w)
                memset(dst, 0, (size_t)s->c * sizeof(float));
            else
                memcpy(dst, x + (((size_t)b * s->h + iy) * s->w + ix) * s->c,
                       (size_t)s->c * sizeof(float));
        }
    }
}

static bool is_pointwise(const clf_conv_shape *s)
{
    return s->kh == 1 && s->kw == 1 && s->sh == 1 && s->sw == 1 && s->pad_top == 0 &&
           s->pad_left == 0 && s->oh == s->h && s->ow == s->w;
}

/* Output pixels [p0, p0 + pc) via an im2col block and one GEMM. */
static clf_status conv_chunk(const clf_conv_shape *s, const float *X, const float *W,
                             float *cols, size_t p0, int pc, float *Y)
{
    int kdim = s->kh * s->kw * s->c;

    for (int i = 0; i < pc; i++)
        im2col_row(s, X, p0 + i, cols + (size_t)i * kdim);
    return clf_cpu_sgemm(false, false, pc, s->oc, kdim, 1.0f, cols, kdim, W, s->oc, 0.0f,
                         Y + p0 * s->oc, s->oc);
}

static void bias_act_rows(float *Y, size_t rows, int cols, const float *B, clf_act act)
{
    for (size_t r = 0; r < rows; r++)
        for (int j = 0; j < cols; j++)
            Y[r * cols + j] = clf_cpu_act(act, Y[r * cols + j] + (B ? B[j] : 0.0f));
}

clf_status clf_cpu_conv2d(clf_backend *be, const clf_conv_shape *s, clf_buf *x, size_t xo,
                          clf_buf *w, size_t wo, clf_buf *bias, size_t bo, clf_act act,
                          clf_buf *y, size_t yo)
{
    size_t kdim = (size_t)s->kh * s->kw * s->c, pixels = (size_t)s->n * s->oh * s->ow;
    const float *X = clf_cpu_f32(x, xo, conv_in(s), "conv2d x");
    const float *W = clf_cpu_f32(w, wo, kdim * s->oc, "conv2d w");
    const float *B = bias ? clf_cpu_f32(bias, bo, (size_t)s->oc, "conv2d bias") : NULL;
    float *Y = clf_cpu_f32(y, yo, conv_out(s), "conv2d y");
    clf_status st = CLF_OK;
    float *cols;
    int chunk;

    (void)be;
    if (!X || !W || !Y || (bias && !B))
        return CLF_ERR_ARG;

    if (is_pointwise(s)) {
        st = clf_cpu_sgemm(false, false, (int)pixels, s->oc, s->c, 1.0f, X, s->c, W, s->oc,
                           0.0f, Y, s->oc);
    } else {
        /* im2col blocks of about 4 MiB */
        chunk = (int)((1u << 20) / kdim) + 1;
        cols = clf_malloc_array((size_t)chunk, kdim * sizeof(float), "conv2d im2col");
        if (!cols)
            return CLF_ERR_NOMEM;
        for (size_t p0 = 0; p0 < pixels && st == CLF_OK; p0 += (size_t)chunk) {
            int pc = pixels - p0 < (size_t)chunk ? (int)(pixels - p0) : chunk;
            st = conv_chunk(s, X, W, cols, p0, pc, Y);
        }
        free(cols);
    }
    if (st == CLF_OK)
        bias_act_rows(Y, pixels, s->oc, B, act);
    return st;
}

/* One output pixel of a depthwise convolution, all channels. */
static void depthwise_pixel(const clf_conv_shape *s, const float *X, const float *W,
                            int b, int oy, int ox, float *out)
{
    int oc = s->oc;

    memset(out, 0, (size_t)oc * sizeof(float));
    for (int ky = 0; ky < s->kh; ky++) {
        int iy = oy * s->sh - s->pad_top + ky * s->dh;

        for (int kx = 0; kx < s->kw; kx++) {
            int ix = ox * s->sw - s->pad_left + kx * s->dw;
            const float *xin, *wk;

            if (iy < 0 || iy >= s->h || ix < 0 || ix >= s->w)
                continue;
            xin = X + (((size_t)b * s->h + iy) * s->w + ix) * s->c;
            wk = W + ((size_t)ky * s->kw + kx) * oc;
            for (int o = 0; o < oc; o++)
                out[o] += xin[o / s->mult] * wk[o];
        }
    }
}

clf_status clf_cpu_depthwise_conv2d(clf_backend *be, const clf_conv_shape *s, clf_buf *x,
                                    size_t xo, clf_buf *w, size_t wo, clf_buf *bias,
                                    size_t bo, clf_act act, clf_buf *y, size_t yo)
{
    const float *X = clf_cpu_f32(x, xo, conv_in(s), "depthwise x");
    const float *W = clf_cpu_f32(w, wo, (size_t)s->kh * s->kw * s->oc, "depthwise w");
    const float *B = bias ? clf_cpu_f32(bias, bo, (size_t)s->oc, "depthwise bias") : NULL;
    float *Y = clf_cpu_f32(y, yo, conv_out(s), "depthwise y");

    (void)be;
    if (!X || !W || !Y || (bias && !B) || s->mult < 1 || s->oc != s->c * s->mult)
        return CLF_ERR_ARG;
    for (int b = 0; b < s->n; b++)
        for (int oy = 0; oy < s->oh; oy++)
            for (int ox = 0; ox < s->ow; ox++) {
                float *out = Y + (((size_t)b * s->oh + oy) * s->ow + ox) * s->oc;

                depthwise_pixel(s, X, W, b, oy, ox, out);
                bias_act_rows(out, 1, s->oc, B, act);
            }
    return CLF_OK;
}

clf_status clf_cpu_avg_pool(clf_backend *be, const clf_pool_shape *s, clf_buf *x, size_t xo,
                            clf_buf *y, size_t yo)
{
    const float *X = clf_cpu_f32(x, xo, (size_t)s->n * s->h * s->w * s->c, "avg_pool x");
    float *Y = clf_cpu_f32(y, yo, (size_t)s->n * s->oh * s->ow * s->c, "avg_pool y");

    (void)be;
    if (!X || !Y)
        return CLF_ERR_ARG;
    for (int b = 0; b < s->n; b++)
        for (int oy = 0; oy < s->oh; oy++)
            for (int ox = 0; ox < s->ow; ox++)
                for (int ch = 0; ch < s->c; ch++) {
                    float sum = 0.0f;
                    int count = 0;

                    for (int py = 0; py < s->ph; py++)
                        for (int px = 0; px < s->pw; px++) {
                            int iy = oy * s->sh - s->pad_top + py;
                            int ix = ox * s->sw - s->pad_left + px;

                            if (iy < 0 || iy >= s->h || ix < 0 || ix >= s->w)
                                continue;
                            sum += X[(((size_t)b * s->h + iy) * s->w + ix) * s->c + ch];
                            count++;
                        }
                    Y[(((size_t)b * s->oh + oy) * s->ow + ox) * s->c + ch] =
                        count ? sum / (float)count : 0.0f;
                }
    return CLF_OK;
}

clf_status clf_cpu_global_avg_pool(clf_backend *be, int n, int hw, int c, clf_buf *x,
                                   size_t xo, clf_buf *y, size_t yo)
{
    const float *X = clf_cpu_f32(x, xo, (size_t)n * hw * c, "global_avg_pool x");
    float *Y = clf_cpu_f32(y, yo, (size_t)n * c, "global_avg_pool y");

    (void)be;
    if (!X || !Y || hw <= 0)
        return CLF_ERR_ARG;
    for (int b = 0; b < n; b++)
        for (int ch = 0; ch < c; ch++) {
            float sum = 0.0f;

            for (int p = 0; p < hw; p++)
                sum += X[((size_t)b * hw + p) * c + ch];
            Y[(size_t)b * c + ch] = sum / (float)hw;
        }
    return CLF_OK;
}

clf_status clf_cpu_global_avg_pool_backward(clf_backend *be, int n, int hw, int c,
                                            clf_buf *dy, size_t dyo, clf_buf *dx,
                                            size_t dxo)
{
    const float *DY = clf_cpu_f32(dy, dyo, (size_t)n * c, "global_avg_pool_backward dy");
    float *DX = clf_cpu_f32(dx, dxo, (size_t)n * hw * c, "global_avg_pool_backward dx");

    (void)be;
    if (!DY || !DX || hw <= 0)
        return CLF_ERR_ARG;
    for (int b = 0; b < n; b++)
        for (int p = 0; p < hw; p++)
            for (int ch = 0; ch < c; ch++)
                DX[((size_t)b * hw + p) * c + ch] = DY[(size_t)b * c + ch] / (float)hw;
    return CLF_OK;
}

clf_status clf_cpu_zero_pad(clf_backend *be, int n, int h, int w, int c, int top, int bottom,
                            int left, int right, clf_buf *x, size_t xo, clf_buf *y, size_t yo)
{
    int oh = h + top + bottom, ow = w + left + right;
    const float *X = clf_cpu_f32(x, xo, (size_t)n * h * w * c, "zero_pad x");
    float *Y = clf_cpu_f32(y, yo, (size_t)n * oh * ow * c, "zero_pad y");

    (void)be;
    if (!X || !Y)
        return CLF_ERR_ARG;
    memset(Y, 0, (size_t)n * oh * ow * c * sizeof(float));
    for (int b = 0; b < n; b++)
        for (int iy = 0; iy < h; iy++)
            memcpy(Y + (((size_t)b * oh + iy + top) * ow + left) * c,
                   X + (((size_t)b * h + iy) * w) * c, (size_t)w * c * sizeof(float));
    return CLF_OK;
}

clf_status clf_cpu_add(clf_backend *be, size_t n, clf_buf *a, size_t ao, clf_buf *b,
                       size_t bo, clf_act act, clf_buf *y, size_t yo)
{
    const float *A = clf_cpu_f32(a, ao, n, "add a");
    const float *B = clf_cpu_f32(b, bo, n, "add b");
    float *Y = clf_cpu_f32(y, yo, n, "add y");

    (void)be;
    if (!A || !B || !Y)
        return CLF_ERR_ARG;
    for (size_t i = 0; i < n; i++)
        Y[i] = clf_cpu_act(act, A[i] + B[i]);
    return CLF_OK;
}

clf_status clf_cpu_channel_affine(clf_backend *be, int rows, int c, clf_buf *x, size_t xo,
                                  clf_buf *scale, size_t so, clf_buf *shift, size_t sho,
                                  clf_act act, clf_buf *y, size_t yo)
{
    size_t n = (size_t)rows * c;
    const float *X = clf_cpu_f32(x, xo, n, "channel_affine x");
    const float *S = clf_cpu_f32(scale, so, (size_t)c, "channel_affine scale");
    const float *T = clf_cpu_f32(shift, sho, (size_t)c, "channel_affine shift");
    float *Y = clf_cpu_f32(y, yo, n, "channel_affine y");

    (void)be;
    if (!X || !S || !T || !Y)
        return CLF_ERR_ARG;
    for (size_t r = 0; r < (size_t)rows; r++)
        for (int j = 0; j < c; j++)
            Y[r * c + j] = clf_cpu_act(act, X[r * c + j] * S[j] + T[j]);
    return CLF_OK;
}
