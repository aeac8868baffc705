/* Convolution and pooling ops. First the cpu backend (new too) against a
 * direct convolution loop written here in double; then OpenCL against the
 * cpu backend, on the shapes MobileNetV2 uses: 3x3 stride 2 'same' on 3
 * channels, depthwise 3x3 stride 1 and 2 with padding, 1x1 with and
 * without bias, ReLU6, depth multiplier 2, dilation; average pooling
 * 'valid' and 'same'; global average pooling and its backward.
 * Tolerance: 1e-5 * (sum |x w| + |bias|) per output, in double. */
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "backend/opencl/ocl.h"
#include "support/backends.h"

#define RUN(tw, name, ...)                                                     \
    for (int s_ = 0; s_ < 2; s_++)                                             \
    assert_int_equal(CLF_TWIN_OP(tw, s_, name, __VA_ARGS__), CLF_OK)
#define ON(buf) (buf).on[s_]

/* Keras geometry: 'same' gives ceil(h / s) rows, padding split with the
 * extra row at the bottom; 'valid' no padding. */
static clf_conv_shape geometry(int n, int h, int w, int c, int oc, int k, int stride, int dil,
                               bool same, int mult)
{
    clf_conv_shape s = {n, h, w, c, 0, 0, oc, k, k, stride, stride, dil, dil, 0, 0, mult};
    int span = (k - 1) * dil + 1;

    if (same) {
        s.oh = (h + stride - 1) / stride;
        s.ow = (w + stride - 1) / stride;
        s.pad_top = ((s.oh - 1) * stride + span - h) / 2;
        s.pad_left = ((s.ow - 1) * stride + span - w) / 2;
        s.pad_top = s.pad_top > 0 ? s.pad_top : 0;
        s.pad_left = s.pad_left > 0 ? s.pad_left : 0;
    } else {
        s.oh = (h - span) / stride + 1;
        s.ow = (w - span) / stride + 1;
    }
    return s;
}

static size_t in_count(const clf_conv_shape *s)
{
    return (size_t)s->n * s->h * s->w * s->c;
}

static size_t out_count(const clf_conv_shape *s)
{
    return (size_t)s->n * s->oh * s->ow * s->oc;
}

static size_t w_count(const clf_conv_shape *s, bool depthwise)
{
    return (size_t)s->kh * s->kw * (depthwise ? 1 : s->c) * s->oc;
}

/* Direct convolution in double: out = conv + bias (before activation),
 * scale = sum |x w| + |bias|. Depthwise output channel o reads input
 * channel o / mult through weight (ky, kx, o). */
static void direct_conv(const clf_conv_shape *s, bool depthwise, const float *x,
                        const float *wt, const float *bias, double *out, double *scale)
{
    for (size_t i = 0; i < out_count(s); i++) {
        int o = (int)(i % s->oc), ox = (int)(i / s->oc % s->ow);
        int oy = (int)(i / s->oc / s->ow % s->oh), b = (int)(i / s->oc / s->ow / s->oh);
        double sum = bias ? bias[o] : 0.0, mag = bias ? fabs(bias[o]) : 0.0;

        for (int ky = 0; ky < s->kh; ky++)
            for (int kx = 0; kx < s->kw; kx++) {
                int iy = oy * s->sh - s->pad_top + ky * s->dh;
                int ix = ox * s->sw - s->pad_left + kx * s->dw;
                const float *px = x + (((size_t)b * s->h + iy) * s->w + ix) * s->c;

                if (iy < 0 || iy >= s->h || ix < 0 || ix >= s->w)
                    continue;
                for (int ci = 0; ci < s->c; ci++) {
                    double p;

                    if (depthwise && ci != o / s->mult)
                        continue;
                    p = (double)px[ci] *
                        (depthwise ? wt[((size_t)ky * s->kw + kx) * s->oc + o]
                                   : wt[(((size_t)ky * s->kw + kx) * s->c + ci) * s->oc + o]);
                    sum += p;
                    mag += fabs(p);
                }
            }
        out[i] = sum;
        scale[i] = mag;
    }
}

static double act_d(clf_act a, double v)
{
    if (a.kind == CLF_ACT_RELU)
        v = v > 0 ? (v < a.max ? v : a.max) : 0.0;
    return v;
}

typedef struct conv_case {
    clf_conv_shape s;
    bool depthwise, bias;
    clf_act act;
    const char *name;
} conv_case;

static conv_case cases[] = {
    {{0}, false, false, {CLF_ACT_RELU, 6.0f}, "3x3 s2 same, 3 channels (Conv1), even size"},
    {{0}, false, true, {CLF_ACT_NONE, 0.0f}, "3x3 s2 same, 3 channels, odd size"},
    {{0}, false, true, {CLF_ACT_RELU, 6.0f}, "1x1 pointwise with bias"},
    {{0}, false, false, {CLF_ACT_NONE, 0.0f}, "1x1 pointwise without bias"},
    {{0}, false, true, {CLF_ACT_NONE, 0.0f}, "1x1 stride 2"},
    {{0}, false, true, {CLF_ACT_RELU, INFINITY}, "3x3 dilation 2 same"},
    {{0}, true, true, {CLF_ACT_RELU, 6.0f}, "depthwise 3x3 s1 same"},
    {{0}, true, false, {CLF_ACT_RELU, 6.0f}, "depthwise 3x3 s2 same"},
    {{0}, true, true, {CLF_ACT_NONE, 0.0f}, "depthwise 3x3 s2 valid after zero_pad"},
    {{0}, true, true, {CLF_ACT_NONE, 0.0f}, "depthwise multiplier 2"},
    {{0}, true, false, {CLF_ACT_RELU, 6.0f}, "depthwise 3x3 dilation 2"},
    /* the CPU devices' kernels: direct stem, depthwise by 16 channels */
    {{0}, false, true, {CLF_ACT_RELU, 6.0f}, "stem 3x3 s2 same, 3 -> 32 channels (direct)"},
    {{0}, false, false, {CLF_ACT_NONE, 0.0f}, "5x5 dilation 2, 4 -> 16 channels (direct)"},
    {{0}, true, true, {CLF_ACT_RELU, 6.0f}, "depthwise 32 channels s2 same (rows of 16)"},
    {{0}, true, false, {CLF_ACT_NONE, 0.0f}, "depthwise 5x5 dilation 2 valid, 16 channels"},
};
enum { NCASES = sizeof cases / sizeof cases[0] };

static void fill_cases(void)
{
    cases[0].s = geometry(2, 16, 16, 3, 8, 3, 2, 1, true, 1);
    cases[1].s = geometry(2, 15, 13, 3, 8, 3, 2, 1, true, 1);
    cases[2].s = geometry(2, 7, 7, 16, 24, 1, 1, 1, false, 1);
    cases[3].s = geometry(1, 9, 5, 32, 8, 1, 1, 1, false, 1);
    cases[4].s = geometry(2, 8, 8, 6, 5, 1, 2, 1, false, 1);
    cases[5].s = geometry(1, 11, 11, 4, 6, 3, 1, 2, true, 1);
    cases[6].s = geometry(2, 10, 10, 16, 16, 3, 1, 1, true, 1);
    cases[7].s = geometry(2, 14, 14, 8, 8, 3, 2, 1, true, 1);
    cases[8].s = geometry(2, 15, 15, 8, 8, 3, 2, 1, false, 1);
    cases[9].s = geometry(1, 6, 6, 5, 10, 3, 1, 1, true, 2);
    cases[10].s = geometry(1, 9, 9, 4, 4, 3, 1, 2, true, 1);
    cases[11].s = geometry(2, 17, 16, 3, 32, 3, 2, 1, true, 1);
    cases[12].s = geometry(1, 12, 11, 4, 16, 5, 1, 2, true, 1);
    cases[13].s = geometry(2, 13, 14, 32, 32, 3, 2, 1, true, 1);
    cases[14].s = geometry(1, 12, 12, 16, 16, 5, 1, 2, false, 1);
}

static clf_status run_conv(clf_backend *be, const conv_case *cc, clf_buf *x, clf_buf *w,
                           clf_buf *b, clf_buf *y)
{
    if (cc->depthwise)
        return be->ops->depthwise_conv2d(be, &cc->s, x, 1, w, 2, cc->bias ? b : NULL, 3,
                                         cc->act, y, 4);
    return be->ops->conv2d(be, &cc->s, x, 1, w, 2, cc->bias ? b : NULL, 3, cc->act, y, 4);
}

/* The cpu backend against the direct loop (act applied to the double). */
static void test_cpu_conv_matches_direct_loop(void **state)
{
    clf_backend *be = clf_test_backend("cpu");
    clf_rng r;

    (void)state;
    fill_cases();
    clf_rng_seed(&r, 20);
    for (int t = 0; t < NCASES; t++) {
        const conv_case *cc = &cases[t];
        size_t nx = in_count(&cc->s), nw = w_count(&cc->s, cc->depthwise);
        size_t ny = out_count(&cc->s);
        clf_twin one = {{be, be}};
        clf_tbuf x = clf_tbuf_rand(&one, &r, nx + 1, -1.0f, 1.0f);
        clf_tbuf w = clf_tbuf_rand(&one, &r, nw + 2, -1.0f, 1.0f);
        clf_tbuf b = clf_tbuf_rand(&one, &r, (size_t)cc->s.oc + 3, -1.0f, 1.0f);
        clf_tbuf y = clf_tbuf_rand(&one, &r, ny + 4, -1.0f, 1.0f);
        double *want = malloc(ny * sizeof *want), *scale = malloc(ny * sizeof *scale);
        float *got = malloc(ny * sizeof *got), *wantf = malloc(ny * sizeof *wantf);

        assert_int_equal(run_conv(be, cc, x.on[0], w.on[0], b.on[0], y.on[0]), CLF_OK);
        assert_int_equal(be->ops->read(be, y.on[0], 4 * sizeof(float), got, ny * 4), CLF_OK);
        direct_conv(&cc->s, cc->depthwise, x.host + 1, w.host + 2, cc->bias ? b.host + 3 : NULL,
                    want, scale);
        for (size_t i = 0; i < ny; i++)
            wantf[i] = (float)act_d(cc->act, want[i]);
        clf_test_close(got, wantf, scale, ny, 1e-5, cc->name);
        free(want), free(scale), free(got), free(wantf);
        clf_tbuf_free(&one, &x);
        clf_tbuf_free(&one, &w);
        clf_tbuf_free(&one, &b);
        clf_tbuf_free(&one, &y);
    }
    clf_backend_close(be);
}

/* One case on both backends; the scale comes from the direct loop. */
static void conv_both(clf_twin *tw, clf_rng *r, const conv_case *cc)
{
    size_t nx = in_count(&cc->s), nw = w_count(&cc->s, cc->depthwise), ny = out_count(&cc->s);
    clf_tbuf x = clf_tbuf_rand(tw, r, nx + 1, -1.0f, 1.0f);
    clf_tbuf w = clf_tbuf_rand(tw, r, nw + 2, -1.0f, 1.0f);
    clf_tbuf b = clf_tbuf_rand(tw, r, (size_t)cc->s.oc + 3, -1.0f, 1.0f);
    clf_tbuf y = clf_tbuf_rand(tw, r, ny + 4, -1.0f, 1.0f);
    double *want = malloc(ny * sizeof *want), *scale = malloc(ny * sizeof *scale);
    float *out[2];

    for (int s = 0; s < 2; s++)
        assert_int_equal(run_conv(tw->be[s], cc, x.on[s], w.on[s], b.on[s], y.on[s]), CLF_OK);
    direct_conv(&cc->s, cc->depthwise, x.host + 1, w.host + 2, cc->bias ? b.host + 3 : NULL,
                want, scale);
    clf_tbuf_read(tw, &y, 4, ny, out);
    clf_test_close(out[1], out[0], scale, ny, 1e-5, cc->name);
    free(want), free(scale), free(out[0]), free(out[1]);
    clf_tbuf_free(tw, &x);
    clf_tbuf_free(tw, &w);
    clf_tbuf_free(tw, &b);
    clf_tbuf_free(tw, &y);
}

static void test_conv_matches_cpu(void **state)
{
    clf_twin tw;
    clf_rng r;

    (void)state;
    clf_twin_open(&tw);
    fill_cases();
    clf_rng_seed(&r, 21);
    for (int t = 0; t < NCASES; t++)
        conv_both(&tw, &r, &cases[t]);
    /* the other device type's formulations (CPU kernels on or off) */
    clf_ocl_of(tw.be[1])->cpu_kernels = !clf_ocl_of(tw.be[1])->cpu_kernels;
    for (int t = 0; t < NCASES; t++)
        conv_both(&tw, &r, &cases[t]);
    clf_twin_close(&tw);
}

/* im2col in many small chunks (the limit lowered to a few rows) gives the
 * same result as in one. */
static void test_conv_in_chunks(void **state)
{
    clf_twin tw;
    clf_rng r;
    conv_case cc = {{0}, false, true, {CLF_ACT_RELU, 6.0f}, "3x3 s2 in chunks of 7 rows"};

    (void)state;
    clf_twin_open(&tw);
    cc.s = geometry(3, 17, 17, 5, 9, 3, 2, 1, true, 1);
    clf_ocl_of(tw.be[1])->im2col_bytes = 7 * 3 * 3 * 5 * sizeof(float);
    clf_rng_seed(&r, 22);
    conv_both(&tw, &r, &cc);
    clf_twin_close(&tw);
}

/* Pool geometry like geometry(): 'same' pads, 'valid' does not. */
static clf_pool_shape pool_geometry(int n, int h, int w, int c, int p, int stride, bool same)
{
    clf_pool_shape s = {n, h, w, c, 0, 0, p, p, stride, stride, 0, 0};

    if (same) {
        s.oh = (h + stride - 1) / stride;
        s.ow = (w + stride - 1) / stride;
        s.pad_top = ((s.oh - 1) * stride + p - h) / 2;
        s.pad_left = ((s.ow - 1) * stride + p - w) / 2;
    } else {
        s.oh = (h - p) / stride + 1;
        s.ow = (w - p) / stride + 1;
    }
    return s;
}

/* An average of at most ph * pw inputs: tolerance 1e-5 of |mean|'s terms,
 * bounded here by max |x| = 4. */
static void test_avg_pool(void **state)
{
    clf_pool_shape shapes[3];
    clf_twin tw;
    clf_rng r;

    (void)state;
    clf_twin_open(&tw);
    shapes[0] = pool_geometry(2, 8, 8, 5, 2, 2, false);
    shapes[1] = pool_geometry(2, 7, 9, 3, 3, 1, true);
    shapes[2] = pool_geometry(3, 7, 7, 16, 7, 7, false); /* MobileNetV2's 7x7 pool */
    clf_rng_seed(&r, 23);
    for (int t = 0; t < 3; t++) {
        const clf_pool_shape *s = &shapes[t];
        size_t nx = (size_t)s->n * s->h * s->w * s->c, ny = (size_t)s->n * s->oh * s->ow * s->c;
        clf_tbuf x = clf_tbuf_rand(&tw, &r, nx + 2, -4.0f, 4.0f);
        clf_tbuf y = clf_tbuf_rand(&tw, &r, ny + 1, -1.0f, 1.0f);
        double *scale = malloc(ny * sizeof *scale);
        float *out[2];

        for (size_t i = 0; i < ny; i++)
            scale[i] = 4.0;
        RUN(&tw, avg_pool, s, ON(x), 2, ON(y), 1);
        clf_tbuf_read(&tw, &y, 0, ny + 1, out);
        clf_test_close(out[1] + 1, out[0] + 1, scale, ny, 1e-5, "avg_pool");
        assert_float_equal(out[1][0], out[0][0], 0.0f); /* untouched */
        free(scale), free(out[0]), free(out[1]);
        clf_tbuf_free(&tw, &x);
        clf_tbuf_free(&tw, &y);
    }
    clf_twin_close(&tw);
}

static void test_global_avg_pool_and_backward(void **state)
{
    enum { N = 3, HW = 49, C = 37 };
    clf_twin tw;
    clf_tbuf x, y, dy, dx;
    double scale[N * C];
    float *out[2];
    clf_rng r;

    (void)state;
    clf_twin_open(&tw);
    clf_rng_seed(&r, 24);
    x = clf_tbuf_rand(&tw, &r, N * HW * C + 1, -1.0f, 1.0f);
    y = clf_tbuf_rand(&tw, &r, N * C, -1.0f, 1.0f);
    RUN(&tw, global_avg_pool, N, HW, C, ON(x), 1, ON(y), 0);
    for (int i = 0; i < N * C; i++)
        scale[i] = 1.0; /* a mean of values in [-1, 1] */
    clf_tbuf_read(&tw, &y, 0, N * C, out);
    clf_test_close(out[1], out[0], scale, N * C, 1e-5, "global_avg_pool");
    free(out[0]), free(out[1]);

    dy = clf_tbuf_rand(&tw, &r, N * C + 2, -1.0f, 1.0f);
    dx = clf_tbuf_rand(&tw, &r, N * HW * C, -1.0f, 1.0f);
    RUN(&tw, global_avg_pool_backward, N, HW, C, ON(dy), 2, ON(dx), 0);
    clf_tbuf_read(&tw, &dx, 0, N * HW * C, out);
    clf_test_close(out[1], out[0], NULL, N * HW * C, 1e-6, "global_avg_pool_backward");
    free(out[0]), free(out[1]);
    clf_tbuf_free(&tw, &x);
    clf_tbuf_free(&tw, &y);
    clf_tbuf_free(&tw, &dy);
    clf_tbuf_free(&tw, &dx);
    clf_twin_close(&tw);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_cpu_conv_matches_direct_loop),
        cmocka_unit_test(test_conv_matches_cpu),
        cmocka_unit_test(test_conv_in_chunks),
        cmocka_unit_test(test_avg_pool),
        cmocka_unit_test(test_global_avg_pool_and_backward),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
