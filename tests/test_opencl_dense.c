/* Dense-layer ops on OpenCL against the cpu backend: bias + activation,
 * its backward, column sums, softmax and the fused softmax cross-entropy
 * (huge logits, ties, accumulation into stats). Elementwise results agree
 * to 1e-6 relative; sums to 1e-5 of the sum of the magnitudes added. */
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "support/backends.h"

#define RUN(tw, name, ...)                                                     \
    for (int s_ = 0; s_ < 2; s_++)                                             \
    assert_int_equal(CLF_TWIN_OP(tw, s_, name, __VA_ARGS__), CLF_OK)
#define ON(buf) (buf).on[s_]

static const clf_act none = {CLF_ACT_NONE, 0.0f};
static const clf_act relu = {CLF_ACT_RELU, INFINITY};
static const clf_act relu6 = {CLF_ACT_RELU, 6.0f};

/* Reads n floats at off from both sides and compares them. */
static void compare(clf_twin *tw, const clf_tbuf *b, size_t off, size_t n, const double *scale,
                    double rel, const char *what)
{
    float *out[2];

    clf_tbuf_read(tw, b, off, n, out);
    clf_test_close(out[1], out[0], scale, n, rel, what);
    free(out[0]);
    free(out[1]);
}

static void test_bias_act(void **state)
{
    enum { R = 37, C = 19, XO = 3, BO = 2 };
    const clf_act acts[] = {none, relu, relu6};
    clf_twin tw;
    clf_rng r;

    (void)state;
    clf_twin_open(&tw);
    clf_rng_seed(&r, 1);
    for (int a = 0; a < 3; a++)
        for (int with_bias = 0; with_bias < 2; with_bias++) {
            clf_tbuf x = clf_tbuf_rand(&tw, &r, XO + R * C, -10.0f, 10.0f);
            clf_tbuf b = clf_tbuf_rand(&tw, &r, BO + C, -3.0f, 3.0f);

            RUN(&tw, bias_act, R, C, ON(x), XO, with_bias ? ON(b) : NULL, BO, acts[a]);
            compare(&tw, &x, 0, XO + R * C, NULL, 1e-6, "bias_act");
            clf_tbuf_free(&tw, &x);
            clf_tbuf_free(&tw, &b);
        }
    clf_twin_close(&tw);
}

/* y holds clamped values exactly 0 and 6 besides values inside (0, 6):
 * dy must be zeroed exactly where y is clamped. */
static void test_act_backward(void **state)
{
    enum { N = 1000 };
    float y[N];
    clf_twin tw;
    clf_tbuf yb, dy;
    clf_rng r;

    (void)state;
    clf_twin_open(&tw);
    clf_rng_seed(&r, 2);
    for (int i = 0; i < N; i++)
        y[i] = i % 3 == 0 ? 0.0f : i % 3 == 1 ? 6.0f : 6.0f * clf_rng_uniform(&r);
    yb = clf_tbuf_raw(&tw, y, sizeof y);
    for (int a = 0; a < 3; a++) {
        const clf_act act = a == 0 ? none : a == 1 ? relu : relu6;

        dy = clf_tbuf_rand(&tw, &r, N, -1.0f, 1.0f);
        RUN(&tw, act_backward, N - 5, act, ON(yb), 5, ON(dy), 0);
        compare(&tw, &dy, 0, N, NULL, 0.0, "act_backward");
        clf_tbuf_free(&tw, &dy);
    }
    clf_tbuf_free(&tw, &yb);
    clf_twin_close(&tw);
}

/* Scale of col_sum output j: sum_r |x[r][j]| + |beta y[j]|. */
static void col_scale(const float *x, const float *y, int rows, int cols, float beta,
                      double *s)
{
    for (int j = 0; j < cols; j++) {
        s[j] = fabs((double)beta * y[j]);
        for (int r = 0; r < rows; r++)
            s[j] += fabs((double)x[(size_t)r * cols + j]);
    }
}

static void test_col_sum(void **state)
{
    const int shapes[][2] = {{12, 10}, {1000, 37}, {5000, 3}, {0, 4}, {3, 300}};
    clf_twin tw;
    clf_rng r;

    (void)state;
    clf_twin_open(&tw);
    clf_rng_seed(&r, 3);
    for (size_t t = 0; t < sizeof shapes / sizeof shapes[0]; t++)
        for (int b = 0; b < 2; b++) {
            int rows = shapes[t][0], cols = shapes[t][1];
            float beta = b ? 0.5f : 0.0f;
            clf_tbuf x = clf_tbuf_rand(&tw, &r, 1 + (size_t)rows * cols, -1.0f, 1.0f);
            clf_tbuf y = clf_tbuf_rand(&tw, &r, 2 + (size_t)cols, -1.0f, 1.0f);
            double *scale = malloc((size_t)cols * sizeof *scale);

            col_scale(x.host + 1, y.host + 2, rows, cols, beta, scale);
            RUN(&tw, col_sum, rows, cols, ON(x), 1, beta, ON(y), 2);
            compare(&tw, &y, 2, (size_t)cols, scale, 1e-5, "col_sum");
            free(scale);
            clf_tbuf_free(&tw, &x);
            clf_tbuf_free(&tw, &y);
        }
    clf_twin_close(&tw);
}

/* Logits of a few kinds: moderate, with `huge` every fourth row times
 * 1e30 (exp() of the raw value would overflow), and rows with tied
 * maxima. */
static void fill_logits(clf_rng *r, float *x, int rows, int cols, bool huge)
{
    for (int i = 0; i < rows; i++) {
        float *row = x + (size_t)i * cols;

        for (int j = 0; j < cols; j++)
            row[j] = 8.0f * clf_rng_uniform(r) - 4.0f;
        if (huge && i % 4 == 1)
            for (int j = 0; j < cols; j++)
                row[j] *= 1e30f;
        if (i % 4 == 2 && cols > 2)
            row[cols - 1] = row[1] = 50.0f; /* a tie: the first one counts */
    }
}

static void test_softmax(void **state)
{
    const int shapes[][2] = {{12, 10}, {5, 1000}, {3, 1}, {7, 257}};
    clf_twin tw;
    clf_rng r;

    (void)state;
    clf_twin_open(&tw);
    clf_rng_seed(&r, 4);
    for (size_t t = 0; t < sizeof shapes / sizeof shapes[0]; t++) {
        int rows = shapes[t][0], cols = shapes[t][1];
        size_t n = (size_t)rows * cols;
        float *x = malloc(n * sizeof *x);
        clf_tbuf xb, yb;

        fill_logits(&r, x, rows, cols, true);
        xb = clf_tbuf_raw(&tw, x, n * sizeof *x);
        yb = clf_tbuf_rand(&tw, &r, n + 4, 0.0f, 1.0f);
        RUN(&tw, softmax, rows, cols, ON(xb), 0, ON(yb), 4);
        /* each p = e_j / sum e: a sum of positive terms, so 1e-5 of p */
        compare(&tw, &yb, 4, n, NULL, 1e-5, "softmax");
        RUN(&tw, softmax, rows, cols, ON(xb), 0, ON(xb), 0); /* in place */
        compare(&tw, &xb, 0, n, NULL, 1e-5, "softmax in place");
        free(x);
        clf_tbuf_free(&tw, &xb);
        clf_tbuf_free(&tw, &yb);
    }
    clf_twin_close(&tw);
}

/* Compares softmax_xent's stats and gradient across backends for one
 * shape. The loss tolerance is 1e-5 of sum_r (|lse_r| + |x_rL - max_r| +
 * 1): the magnitudes that the loss adds and subtracts. */
static void xent_case(clf_twin *tw, clf_rng *r, int rows, int cols, bool with_grad,
                      bool huge)
{
    size_t n = (size_t)rows * cols;
    float *x = malloc(n * sizeof *x), stats0[2] = {1.5f, 2.0f}, *out[2];
    int32_t *labels = malloc((size_t)rows * sizeof *labels);
    double loss_scale = 0.0, hit_scale[1] = {0.0};
    clf_tbuf xb, lb, gb, sb;

    fill_logits(r, x, rows, cols, huge);
    for (int i = 0; i < rows; i++) {
        const float *row = x + (size_t)i * cols;
        double mx = row[0], s = 0.0;

        labels[i] = (int32_t)clf_rng_below(r, (uint64_t)cols);
        if (i % 4 == 2 && cols > 2)
            labels[i] = i % 8 == 2 ? 1 : cols - 1; /* first or second of a tie */
        for (int j = 1; j < cols; j++)
            mx = row[j] > mx ? row[j] : mx;
        for (int j = 0; j < cols; j++)
            s += exp(row[j] - mx);
        loss_scale += fabs(log(s)) + fabs(row[labels[i]] - mx) + 1.0;
    }
    xb = clf_tbuf_raw(tw, x, n * sizeof *x);
    lb = clf_tbuf_raw(tw, labels, (size_t)rows * sizeof *labels);
    gb = clf_tbuf_rand(tw, r, n, 0.0f, 1.0f);
    sb = clf_tbuf_raw(tw, stats0, sizeof stats0);
    RUN(tw, softmax_xent, rows, cols, ON(xb), 0, ON(lb), 0, 1.0f / (float)rows,
        with_grad ? ON(gb) : NULL, 0, ON(sb), 0);

    clf_tbuf_read(tw, &sb, 0, 2, out);
    loss_scale += 1.5; /* the 1.5 stats[0] started with */
    clf_test_close(out[1], out[0], &loss_scale, 1, 1e-5, "softmax_xent loss sum");
    clf_test_close(out[1] + 1, out[0] + 1, hit_scale, 1, 0.0, "softmax_xent hits");
    free(out[0]);
    free(out[1]);
    /* gradient: (p - onehot) / rows, p to 1e-5 of itself, plus rounding */
    if (with_grad) {
        double *gs = malloc(n * sizeof *gs);
        clf_tbuf_read(tw, &gb, 0, n, out);
        for (size_t i = 0; i < n; i++)
            gs[i] = fabs((double)out[0][i]) + 1.0 / rows * 1e-2;
        clf_test_close(out[1], out[0], gs, n, 1e-5, "softmax_xent gradient");
        free(gs);
        free(out[0]);
        free(out[1]);
    }
    free(x);
    free(labels);
    clf_tbuf_free(tw, &xb);
    clf_tbuf_free(tw, &lb);
    clf_tbuf_free(tw, &gb);
    clf_tbuf_free(tw, &sb);
}

static void test_softmax_xent_matches_cpu(void **state)
{
    clf_twin tw;
    clf_rng r;

    (void)state;
    clf_twin_open(&tw);
    clf_rng_seed(&r, 5);
    xent_case(&tw, &r, 12, 10, true, false);
    xent_case(&tw, &r, 12, 4, false, true);
    xent_case(&tw, &r, 600, 10, true, false); /* more rows than one reduction group */
    xent_case(&tw, &r, 9, 1000, true, true);  /* rows wider than a work-group */
    clf_twin_close(&tw);
}

/* Hand-computed values on OpenCL alone:
 *   row [0, 0], label 0:     loss ln 2 = 0.693147; first arg-max is 0: a hit
 *   row [3, 3], label 1:     loss ln 2; first arg-max is 0: no hit
 *   row [1e30, 0], label 1:  loss 1e30 (finite; exp(1e30) would not be);
 *                            gradient (1 - 0, 0 - 1) = (1, -1) times 0.5
 *   row [5, 5], label 0:     loss ln 2; a hit
 * so stats = (1e30 + 3 ln 2, 2); taking the last of tied maxima would
 * give 1 hit instead. */
static void test_softmax_xent_by_hand(void **state)
{
    clf_backend *be = clf_test_backend("opencl");
    float x[8] = {0.0f, 0.0f, 3.0f, 3.0f, 1e30f, 0.0f, 5.0f, 5.0f}, stats[2] = {0.0f, 0.0f};
    float g[8];
    int32_t labels[4] = {0, 1, 1, 0};
    clf_buf *xb, *lb, *gb, *sb;

    (void)state;
    assert_int_equal(be->ops->buf_new(be, sizeof x, "x", &xb), CLF_OK);
    assert_int_equal(be->ops->buf_new(be, sizeof labels, "labels", &lb), CLF_OK);
    assert_int_equal(be->ops->buf_new(be, sizeof g, "g", &gb), CLF_OK);
    assert_int_equal(be->ops->buf_new(be, sizeof stats, "stats", &sb), CLF_OK);
    assert_int_equal(be->ops->write(be, xb, 0, x, sizeof x), CLF_OK);
    assert_int_equal(be->ops->write(be, lb, 0, labels, sizeof labels), CLF_OK);
    assert_int_equal(be->ops->write(be, sb, 0, stats, sizeof stats), CLF_OK);
    assert_int_equal(be->ops->softmax_xent(be, 4, 2, xb, 0, lb, 0, 0.5f, gb, 0, sb, 0), CLF_OK);
    assert_int_equal(be->ops->read(be, sb, 0, stats, sizeof stats), CLF_OK);
    assert_int_equal(be->ops->read(be, gb, 0, g, sizeof g), CLF_OK);

    assert_true(fabs(stats[0] - (1e30 + 3 * 0.69314718)) <= 1e30 * 1e-6);
    assert_float_equal(stats[1], 2.0f, 0.0f);
    assert_float_equal(g[0], -0.25f, 1e-7f); /* (0.5 - 1) * 0.5 */
    assert_float_equal(g[1], 0.25f, 1e-7f);
    assert_float_equal(g[4], 0.5f, 1e-7f);
    assert_float_equal(g[5], -0.5f, 1e-7f);
    be->ops->buf_free(be, xb);
    be->ops->buf_free(be, lb);
    be->ops->buf_free(be, gb);
    be->ops->buf_free(be, sb);
    clf_backend_close(be);
}

/* The loss alone, where hitting exp overflow would show: ln 2 for
 * [0, 0] exactly enough to see a wrong formula. */
static void test_softmax_xent_small_loss(void **state)
{
    clf_backend *be = clf_test_backend("opencl");
    float x[2] = {0.0f, 0.0f}, stats[2] = {0.0f, 0.0f};
    int32_t label = 0;
    clf_buf *xb, *lb, *sb;

    (void)state;
    assert_int_equal(be->ops->buf_new(be, sizeof x, "x", &xb), CLF_OK);
    assert_int_equal(be->ops->buf_new(be, sizeof label, "label", &lb), CLF_OK);
    assert_int_equal(be->ops->buf_new(be, sizeof stats, "stats", &sb), CLF_OK);
    assert_int_equal(be->ops->write(be, xb, 0, x, sizeof x), CLF_OK);
    assert_int_equal(be->ops->write(be, lb, 0, &label, sizeof label), CLF_OK);
    assert_int_equal(be->ops->write(be, sb, 0, stats, sizeof stats), CLF_OK);
    assert_int_equal(be->ops->softmax_xent(be, 1, 2, xb, 0, lb, 0, 1.0f, NULL, 0, sb, 0),
                     CLF_OK);
    assert_int_equal(be->ops->read(be, sb, 0, stats, sizeof stats), CLF_OK);
    assert_float_equal(stats[0], 0.69314718f, 1e-6f);
    assert_float_equal(stats[1], 1.0f, 0.0f);
    be->ops->buf_free(be, xb);
    be->ops->buf_free(be, lb);
    be->ops->buf_free(be, sb);
    clf_backend_close(be);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_bias_act),
        cmocka_unit_test(test_act_backward),
        cmocka_unit_test(test_col_sum),
        cmocka_unit_test(test_softmax),
        cmocka_unit_test(test_softmax_xent_matches_cpu),
        cmocka_unit_test(test_softmax_xent_by_hand),
        cmocka_unit_test(test_softmax_xent_small_loss),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
