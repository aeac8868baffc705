/* Buffer ops, optimizer updates, dropout and image-tensor ops on OpenCL
 * against the cpu backend. These are elementwise: both backends perform
 * the same float operations in the same order, so they agree to 1e-6
 * relative (most are bit-identical). */
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "backend/backend.h"
#include "support/backends.h"

#define RUN(tw, name, ...)                                                     \
    for (int s_ = 0; s_ < 2; s_++)                                             \
    assert_int_equal(CLF_TWIN_OP(tw, s_, name, __VA_ARGS__), CLF_OK)
#define ON(buf) (buf).on[s_]

static const clf_act none = {CLF_ACT_NONE, 0.0f};
static const clf_act relu6 = {CLF_ACT_RELU, 6.0f};

static void compare(clf_twin *tw, const clf_tbuf *b, size_t off, size_t n, double rel,
                    const char *what)
{
    float *out[2];

    clf_tbuf_read(tw, b, off, n, out);
    clf_test_close(out[1], out[0], NULL, n, rel, what);
    free(out[0]);
    free(out[1]);
}

/* fill a range; copy between buffers and within one buffer, overlapping
 * forwards and backwards (memmove's result). */
static void test_fill_and_copy(void **state)
{
    clf_twin tw;
    clf_tbuf a, b;
    clf_rng r;

    (void)state;
    clf_twin_open(&tw);
    clf_rng_seed(&r, 10);
    a = clf_tbuf_rand(&tw, &r, 1000, -1.0f, 1.0f);
    b = clf_tbuf_rand(&tw, &r, 1000, -1.0f, 1.0f);
    RUN(&tw, fill, ON(a), 17, 300, 2.5f);
    RUN(&tw, copy, ON(a), 10, ON(b), 500, 400);
    RUN(&tw, copy, ON(b), 0, ON(b), 100, 600); /* overlap, moving up */
    RUN(&tw, copy, ON(a), 200, ON(a), 150, 500); /* overlap, moving down */
    compare(&tw, &a, 0, 1000, 0.0, "fill/copy a");
    compare(&tw, &b, 0, 1000, 0.0, "fill/copy b");
    for (int s = 0; s < 2; s++) /* past the end of the buffer */
        assert_int_equal(CLF_TWIN_OP(&tw, s, copy, a.on[s], 900, b.on[s], 0, 101),
                         CLF_ERR_ARG);
    clf_tbuf_free(&tw, &a);
    clf_tbuf_free(&tw, &b);
    clf_twin_close(&tw);
}

static void test_adam(void **state)
{
    enum { N = 3001 };
    clf_twin tw;
    clf_tbuf w, g, m, v;
    clf_rng r;

    (void)state;
    clf_twin_open(&tw);
    clf_rng_seed(&r, 11);
    w = clf_tbuf_rand(&tw, &r, N + 1, -1.0f, 1.0f);
    g = clf_tbuf_rand(&tw, &r, N + 2, -1e-2f, 1e-2f);
    m = clf_tbuf_rand(&tw, &r, N + 3, -1e-3f, 1e-3f);
    v = clf_tbuf_rand(&tw, &r, N + 4, 0.0f, 1e-4f);
    for (int step = 1; step <= 3; step++) {
        /* Keras's bias-corrected step size: lr sqrt(1 - b2^t) / (1 - b1^t) */
        float lr_t = (float)(1e-3 * sqrt(1 - pow(0.999, step)) / (1 - pow(0.9, step)));
        RUN(&tw, adam, N, ON(w), 1, ON(g), 2, ON(m), 3, ON(v), 4, lr_t, 0.9f, 0.999f, 1e-7f);
    }
    compare(&tw, &w, 0, N + 1, 1e-6, "adam w");
    compare(&tw, &m, 0, N + 3, 1e-6, "adam m");
    compare(&tw, &v, 0, N + 4, 1e-6, "adam v");
    clf_tbuf_free(&tw, &w);
    clf_tbuf_free(&tw, &g);
    clf_tbuf_free(&tw, &m);
    clf_tbuf_free(&tw, &v);
    clf_twin_close(&tw);
}

/* Plain SGD (no velocity buffer at all), momentum, and Nesterov. */
static void test_sgd(void **state)
{
    enum { N = 2000 };
    clf_twin tw;
    clf_rng r;

    (void)state;
    clf_twin_open(&tw);
    clf_rng_seed(&r, 12);
    for (int mode = 0; mode < 3; mode++) {
        float momentum = mode == 0 ? 0.0f : 0.9f;
        clf_tbuf w = clf_tbuf_rand(&tw, &r, N, -1.0f, 1.0f);
        clf_tbuf g = clf_tbuf_rand(&tw, &r, N + 5, -1.0f, 1.0f);
        clf_tbuf vel = clf_tbuf_rand(&tw, &r, N + 7, -0.1f, 0.1f);

        for (int step = 0; step < 2; step++)
            RUN(&tw, sgd, N - 1, ON(w), 1, ON(g), 5, mode ? ON(vel) : NULL, 7, 0.01f,
                momentum, mode == 2);
        compare(&tw, &w, 0, N, 1e-6, "sgd w");
        compare(&tw, &vel, 0, N + 7, 1e-6, "sgd velocity");
        clf_tbuf_free(&tw, &w);
        clf_tbuf_free(&tw, &g);
        clf_tbuf_free(&tw, &vel);
    }
    clf_twin_close(&tw);
}

/* Both backends must drop exactly the same elements (clf_mask_hash),
 * also in place; the kept fraction is near 1 - rate (for n = 20000 and
 * rate 0.3 the standard deviation of the fraction is about 0.003). */
static void test_dropout_masks_identical(void **state)
{
    enum { N = 20000 };
    clf_twin tw;
    clf_tbuf x, y;
    float *out[2];
    size_t kept = 0;
    clf_rng r;

    (void)state;
    clf_twin_open(&tw);
    clf_rng_seed(&r, 13);
    x = clf_tbuf_rand(&tw, &r, N + 3, 0.5f, 1.5f); /* never 0: a zero means dropped */
    y = clf_tbuf_rand(&tw, &r, N, -1.0f, 1.0f);
    RUN(&tw, dropout, N, 0.3f, 12345u, ON(x), 3, ON(y), 0);
    clf_tbuf_read(&tw, &y, 0, N, out);
    assert_memory_equal(out[0], out[1], N * sizeof(float));
    for (size_t i = 0; i < N; i++) {
        bool keep = clf_dropout_keep(12345u, (uint32_t)i, 0.3f);
        assert_true(keep == (out[1][i] != 0.0f));
        kept += keep;
    }
    assert_in_range(kept, (size_t)(0.68 * N), (size_t)(0.72 * N));
    free(out[0]);
    free(out[1]);

    RUN(&tw, dropout, N, 0.5f, 7u, ON(x), 3, ON(x), 3); /* in place */
    compare(&tw, &x, 0, N + 3, 0.0, "dropout in place");
    RUN(&tw, dropout, N, 0.0f, 7u, ON(x), 3, ON(y), 0); /* rate 0 keeps all */
    compare(&tw, &y, 0, N, 0.0, "dropout rate 0");
    for (int s = 0; s < 2; s++)
        assert_int_equal(CLF_TWIN_OP(&tw, s, dropout, 4, 1.0f, 1u, x.on[s], 0, y.on[s], 0),
                         CLF_ERR_ARG);
    clf_tbuf_free(&tw, &x);
    clf_tbuf_free(&tw, &y);
    clf_twin_close(&tw);
}

/* HWC and CHW output, [0, 1] and [-1, 1] scaling, an odd byte offset. */
static void test_u8_to_float(void **state)
{
    enum { NI = 3, H = 5, W = 7, C = 3, N = NI * H * W * C, OFF = 13 };
    unsigned char px[OFF + N];
    clf_twin tw;
    clf_tbuf src, dst;
    clf_rng r;

    (void)state;
    clf_twin_open(&tw);
    clf_rng_seed(&r, 14);
    for (size_t i = 0; i < sizeof px; i++)
        px[i] = (unsigned char)clf_rng_below(&r, 256);
    src = clf_tbuf_raw(&tw, px, sizeof px);
    dst = clf_tbuf_rand(&tw, &r, N + 2, 0.0f, 1.0f);
    for (int chw = 0; chw < 2; chw++) {
        RUN(&tw, u8_to_float, NI, H, W, C, chw, 1.0f / 255.0f, 0.0f, ON(src), OFF, ON(dst), 2);
        compare(&tw, &dst, 0, N + 2, 1e-6, "u8_to_float unit");
        RUN(&tw, u8_to_float, NI, H, W, C, chw, 2.0f / 255.0f, -1.0f, ON(src), OFF, ON(dst), 2);
        compare(&tw, &dst, 0, N + 2, 1e-6, "u8_to_float symmetric");
    }
    clf_tbuf_free(&tw, &src);
    clf_tbuf_free(&tw, &dst);
    clf_twin_close(&tw);
}

static void test_zero_pad(void **state)
{
    const int pads[][4] = {{1, 2, 0, 3}, {0, 1, 0, 1}, {0, 0, 0, 0}};
    clf_twin tw;
    clf_rng r;

    (void)state;
    clf_twin_open(&tw);
    clf_rng_seed(&r, 15);
    for (int t = 0; t < 3; t++) {
        int n = 2, h = 5, w = 4, c = 3, top = pads[t][0], bottom = pads[t][1];
        int left = pads[t][2], right = pads[t][3];
        size_t ny = (size_t)n * (h + top + bottom) * (w + left + right) * c;
        clf_tbuf x = clf_tbuf_rand(&tw, &r, (size_t)n * h * w * c + 1, -1.0f, 1.0f);
        clf_tbuf y = clf_tbuf_rand(&tw, &r, ny, -1.0f, 1.0f);

        RUN(&tw, zero_pad, n, h, w, c, top, bottom, left, right, ON(x), 1, ON(y), 0);
        compare(&tw, &y, 0, ny, 0.0, "zero_pad");
        clf_tbuf_free(&tw, &x);
        clf_tbuf_free(&tw, &y);
    }
    clf_twin_close(&tw);
}

static void test_add_act(void **state)
{
    enum { N = 1500 };
    clf_twin tw;
    clf_tbuf a, b, y;
    clf_rng r;

    (void)state;
    clf_twin_open(&tw);
    clf_rng_seed(&r, 16);
    a = clf_tbuf_rand(&tw, &r, N + 1, -8.0f, 8.0f);
    b = clf_tbuf_rand(&tw, &r, N + 2, -8.0f, 8.0f);
    y = clf_tbuf_rand(&tw, &r, N, -1.0f, 1.0f);
    RUN(&tw, add, N, ON(a), 1, ON(b), 2, none, ON(y), 0);
    compare(&tw, &y, 0, N, 1e-6, "add");
    RUN(&tw, add, N, ON(a), 1, ON(b), 2, relu6, ON(a), 1); /* y aliases a */
    compare(&tw, &a, 0, N + 1, 1e-6, "add relu6 in place");
    clf_tbuf_free(&tw, &a);
    clf_tbuf_free(&tw, &b);
    clf_tbuf_free(&tw, &y);
    clf_twin_close(&tw);
}

static void test_channel_affine(void **state)
{
    enum { R = 50, C = 17 };
    clf_twin tw;
    clf_tbuf x, sc, sh, y;
    clf_rng r;

    (void)state;
    clf_twin_open(&tw);
    clf_rng_seed(&r, 17);
    x = clf_tbuf_rand(&tw, &r, R * C, -5.0f, 5.0f);
    sc = clf_tbuf_rand(&tw, &r, C + 1, -2.0f, 2.0f);
    sh = clf_tbuf_rand(&tw, &r, C + 2, -1.0f, 1.0f);
    y = clf_tbuf_rand(&tw, &r, R * C + 3, -1.0f, 1.0f);
    RUN(&tw, channel_affine, R, C, ON(x), 0, ON(sc), 1, ON(sh), 2, relu6, ON(y), 3);
    compare(&tw, &y, 0, R * C + 3, 1e-6, "channel_affine relu6");
    RUN(&tw, channel_affine, R, C, ON(x), 0, ON(sc), 1, ON(sh), 2, none, ON(x), 0);
    compare(&tw, &x, 0, R * C, 1e-6, "channel_affine in place");
    clf_tbuf_free(&tw, &x);
    clf_tbuf_free(&tw, &sc);
    clf_tbuf_free(&tw, &sh);
    clf_tbuf_free(&tw, &y);
    clf_twin_close(&tw);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_fill_and_copy),
        cmocka_unit_test(test_adam),
        cmocka_unit_test(test_sgd),
        cmocka_unit_test(test_dropout_masks_identical),
        cmocka_unit_test(test_u8_to_float),
        cmocka_unit_test(test_zero_pad),
        cmocka_unit_test(test_add_act),
        cmocka_unit_test(test_channel_affine),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
