/* Convolutions, the formulation picked per layer shape:
 * - pointwise (1x1): one GEMM on the NHWC input;
 * - other Conv2D: im2col (cl/conv.cl) + GEMM in chunks that fit the
 *   device's allocation limit; on CPU devices, a stem with at most 4
 *   input channels runs as a direct convolution instead (conv_direct16);
 * - depthwise: its own kernel; on CPU devices 16 channels per vector
 *   along an output row (depthwise_rows16) where the shape allows.
 * On CPU devices the GEMM (gemm_tile) applies bias and activation as it
 * stores; elsewhere they are one more pass (bias_act). The choices were
 * measured on MobileNetV2 (docs/performance.md). */
#include "ocl.h"

#include <limits.h>

#include "clfit/log.h"
#include "core/alloc.h"


/* Element counts of input, weights and output; false after logging when
 * the geometry is negative, empty where it must not be, or overflows. */
static bool conv_sizes(const clf_conv_shape *s, bool depthwise, size_t *nx, size_t *nw,
                       size_t *ny)
{
    const char *op = depthwise ? "depthwise_conv2d" : "conv2d";
    bool ok = s->n >= 0 && s->h >= 0 && s->w >= 0 && s->c >= 1 && s->oh >= 0 && s->ow >= 0 &&
              s->oc >= 1 && s->kh >= 1 && s->kw >= 1 && s->sh >= 1 && s->sw >= 1 &&
              s->dh >= 1 && s->dw >= 1 && s->pad_top >= 0 && s->pad_left >= 0 &&
              (!depthwise || (s->mult >= 1 && s->oc == s->c * s->mult));

    ok = ok && clf_mul4_size((size_t)s->n, (size_t)s->h, (size_t)s->w, (size_t)s->c, nx) &&
         clf_mul4_size((size_t)s->n, (size_t)s->oh, (size_t)s->ow, (size_t)s->oc, ny) &&
         clf_mul4_size((size_t)s->kh, (size_t)s->kw, depthwise ? 1 : (size_t)s->c,
                       (size_t)s->oc, nw);
    if (!ok)
        CLF_LOG_ERROR("opencl %s: bad geometry (input %dx%dx%dx%d, output %dx%dx%d, kernel "
                      "%dx%d, stride %dx%d, dilation %dx%d, pad %d,%d, multiplier %d)", op,
                      s->n, s->h, s->w, s->c, s->oh, s->ow, s->oc, s->kh, s->kw, s->sh, s->sw,
                      s->dh, s->dw, s->pad_top, s->pad_left, s->mult);
    return ok;
}

static cl_int16 pack(const clf_conv_shape *s)
{
    cl_int16 g = {{s->n, s->h, s->w, s->c, s->oh, s->ow, s->oc, s->kh, s->kw, s->sh, s->sw,
                   s->dh, s->dw, s->pad_top, s->pad_left, s->mult}};
    return g;
}

static bool is_pointwise(const clf_conv_shape *s)
{
    return s->kh == 1 && s->kw == 1 && s->sh == 1 && s->sw == 1 && s->pad_top == 0 &&
           s->pad_left == 0 && s->oh == s->h && s->ow == s->w;
}

/* The CPU kernels' launch: work-item (16-channel block, output row,
 * image), one per work-group (PoCL runs a group on one core). */
static clf_status rows16(clf_backend *be, clf_ocl_kernel k, const char *op,
                         const clf_conv_shape *s, clf_buf *x, size_t xo, clf_buf *w, size_t wo,
                         clf_buf *bias, size_t bo, clf_act act, clf_buf *y, size_t yo)
{
    cl_int16 g = pack(s);
    cl_uint uxo = (cl_uint)xo, uwo = (cl_uint)wo, ubo = (cl_uint)bo, uyo = (cl_uint)yo;
    cl_int has_bias = bias != NULL, kind = (cl_int)act.kind;
    cl_mem bmem = clf_ocl_mem(bias);
    size_t global[3] = {(size_t)s->oc / 16, (size_t)s->oh, (size_t)s->n}, local[3] = {1, 1, 1};
    clf_karg args[] = {CLF_ARG(g),        CLF_ARG(x->mem), CLF_ARG(uxo),    CLF_ARG(w->mem),
                       CLF_ARG(uwo),      CLF_ARG(bmem),   CLF_ARG(ubo),    CLF_ARG(has_bias),
                       CLF_ARG(kind),     CLF_ARG(act.max), CLF_ARG(y->mem), CLF_ARG(uyo)};

    return clf_ocl_launch(clf_ocl_of(be), k, op, args, CLF_NARGS(args), 3, global, local);
}

/* Output pixels [p0, p0 + pc) through an im2col block in `cols`; with
 * `fused`, the GEMM applies the bias and activation as it stores. */
static clf_status conv_chunk(clf_backend *be, const clf_conv_shape *s, clf_buf *x, size_t xo,
                             clf_buf *w, size_t wo, clf_buf *cols, size_t p0, size_t pc,
                             clf_buf *y, size_t yo, clf_buf *bias, size_t bo, clf_act act,
                             bool *fused)
{
    int kdim = s->kh * s->kw * s->c;
    cl_int16 g = pack(s);
    cl_uint up0 = (cl_uint)p0, upc = (cl_uint)pc, uxo = (cl_uint)xo;
    clf_karg args[] = {CLF_ARG(g),      CLF_ARG(up0), CLF_ARG(upc), CLF_ARG(x->mem),
                       CLF_ARG(uxo),    CLF_ARG(cols->mem)};
    clf_status st = clf_ocl_launch_1d(clf_ocl_of(be), CLF_K_im2col, "conv2d im2col", args,
                                      CLF_NARGS(args), pc * (size_t)kdim);

    if (st != CLF_OK)
        return st;
    st = clf_ocl_gemm_bias_act(be, (int)pc, s->oc, kdim, cols, 0, kdim, w, wo, s->oc, y,
                               yo + p0 * (size_t)s->oc, s->oc, bias, bo, act);
    *fused = st == CLF_OK;
    if (st != CLF_ERR_UNSUPPORTED)
        return st;
    return clf_ocl_gemm(be, false, false, (int)pc, s->oc, kdim, 1.0f, cols, 0, kdim, w, wo,
                        s->oc, 0.0f, y, yo + p0 * (size_t)s->oc, s->oc);
}

/* Conv2D other than pointwise, chunk by chunk of output pixels. */
static clf_status conv_im2col(clf_backend *be, const clf_conv_shape *s, clf_buf *x, size_t xo,
                              clf_buf *w, size_t wo, clf_buf *y, size_t yo, size_t pixels,
                              clf_buf *bias, size_t bo, clf_act act, bool *fused)
{
    size_t row_bytes = (size_t)s->kh * s->kw * s->c * sizeof(float);
    size_t limit = clf_ocl_of(be)->im2col_bytes, chunk;
    clf_status st = CLF_OK;
    clf_buf *cols;

    if (be->desc.max_alloc < limit)
        limit = (size_t)be->desc.max_alloc;
    if (row_bytes > limit || (size_t)s->kh * s->kw * s->c > INT_MAX) {
        CLF_LOG_ERROR("opencl conv2d: one im2col row of %zu bytes exceeds the device's "
                      "allocation limit", row_bytes);
        return CLF_ERR_DEVICE_MEM;
    }
    chunk = limit / row_bytes;
    chunk = chunk < pixels ? chunk : pixels;
    st = clf_ocl_scratch(be, CLF_SCRATCH_IM2COL, chunk * row_bytes, &cols);
    for (size_t p0 = 0; p0 < pixels && st == CLF_OK; p0 += chunk) {
        size_t pc = pixels - p0 < chunk ? pixels - p0 : chunk;
        st = conv_chunk(be, s, x, xo, w, wo, cols, p0, pc, y, yo, bias, bo, act, fused);
    }
    return st;
}

/* The stem of a CNN on a CPU device: few input channels (im2col would
 * write a matrix many times the input for a short GEMM), whole blocks of
 * 16 output channels. */
static bool direct_fits(clf_backend *be, const clf_conv_shape *s)
{
    return clf_ocl_of(be)->cpu_kernels && s->c <= 4 && s->oc % 16 == 0;
}

clf_status clf_ocl_conv2d(clf_backend *be, const clf_conv_shape *s, clf_buf *x, size_t xo,
                          clf_buf *w, size_t wo, clf_buf *bias, size_t bo, clf_act act,
                          clf_buf *y, size_t yo)
{
    size_t nx, nw, ny, pixels;
    bool fused = false;
    clf_status st;

    if (!conv_sizes(s, false, &nx, &nw, &ny) || !clf_ocl_range(x, xo, nx, 4, "conv2d x") ||
        !clf_ocl_range(w, wo, nw, 4, "conv2d w") || !clf_ocl_range(y, yo, ny, 4, "conv2d y") ||
        (bias && !clf_ocl_range(bias, bo, (size_t)s->oc, 4, "conv2d bias")))
        return CLF_ERR_ARG;
    pixels = ny / (size_t)s->oc;
    if (pixels == 0)
        return CLF_OK;
    if (pixels > INT_MAX) {
        CLF_LOG_ERROR("opencl conv2d: %zu output pixels exceed a GEMM's dimension", pixels);
        return CLF_ERR_UNSUPPORTED;
    }

    if (direct_fits(be, s))
        return rows16(be, CLF_K_conv_direct16, "conv2d", s, x, xo, w, wo, bias, bo, act, y,
                      yo);
    if (is_pointwise(s)) {
        st = clf_ocl_gemm_bias_act(be, (int)pixels, s->oc, s->c, x, xo, s->c, w, wo, s->oc,
                                   y, yo, s->oc, bias, bo, act);
        if (st != CLF_ERR_UNSUPPORTED)
            return st;
        st = clf_ocl_gemm(be, false, false, (int)pixels, s->oc, s->c, 1.0f, x, xo, s->c, w,
                          wo, s->oc, 0.0f, y, yo, s->oc);
    } else {
        st = conv_im2col(be, s, x, xo, w, wo, y, yo, pixels, bias, bo, act, &fused);
    }
    if (st == CLF_OK && !fused)
        st = clf_ocl_bias_act(be, (int)pixels, s->oc, y, yo, bias, bo, act);
    return st;
}

clf_status clf_ocl_depthwise_conv2d(clf_backend *be, const clf_conv_shape *s, clf_buf *x,
                                    size_t xo, clf_buf *w, size_t wo, clf_buf *bias,
                                    size_t bo, clf_act act, clf_buf *y, size_t yo)
{
    size_t nx, nw, ny;
    cl_int16 g;
    cl_uint total, uxo = (cl_uint)xo, uwo = (cl_uint)wo, ubo = (cl_uint)bo, uyo = (cl_uint)yo;
    cl_int has_bias = bias != NULL, kind = (cl_int)act.kind;
    cl_mem bmem = clf_ocl_mem(bias);

    if (!conv_sizes(s, true, &nx, &nw, &ny) || !clf_ocl_range(x, xo, nx, 4, "depthwise x") ||
        !clf_ocl_range(w, wo, nw, 4, "depthwise w") ||
        !clf_ocl_range(y, yo, ny, 4, "depthwise y") ||
        (bias && !clf_ocl_range(bias, bo, (size_t)s->oc, 4, "depthwise bias")))
        return CLF_ERR_ARG;
    if (clf_ocl_of(be)->cpu_kernels && s->mult == 1 && s->c % 16 == 0 && s->kh * s->kw <= 25)
        return rows16(be, CLF_K_depthwise_rows16, "depthwise_conv2d", s, x, xo, w, wo, bias,
                      bo, act, y, yo);
    g = pack(s);
    total = (cl_uint)ny;
    clf_karg args[] = {CLF_ARG(g),        CLF_ARG(total), CLF_ARG(x->mem), CLF_ARG(uxo),
                       CLF_ARG(w->mem),   CLF_ARG(uwo),   CLF_ARG(bmem),   CLF_ARG(ubo),
                       CLF_ARG(has_bias), CLF_ARG(kind),  CLF_ARG(act.max), CLF_ARG(y->mem),
                       CLF_ARG(uyo)};
    return clf_ocl_launch_1d(clf_ocl_of(be), CLF_K_depthwise_conv, "depthwise_conv2d", args,
                             CLF_NARGS(args), ny);
}
