/* GEMM on the OpenCL backend (CLBlast, and the split-k and short-k
 * kernels for skinny shapes) against the cpu backend: every transpose,
 * leading dimensions wider than the matrix, offsets, alpha and beta,
 * k == 0, and the seed model's skinny shapes (K = 150528).
 * Tolerance per DESIGN.md: |a - b| <= 1e-5 * (|alpha| sum_k |a_ik b_kj|
 * + |beta c_ij|), that scale computed here in double. */
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>

#include <cmocka.h>

#include "backend/opencl/ocl.h"
#include "support/backends.h"

typedef struct gemm_case {
    bool ta, tb;
    int m, n, k;
    float alpha, beta;
    int pad;        /* extra columns in every leading dimension */
    size_t a_off, b_off, c_off;
} gemm_case;

/* Scale of each output: |alpha| sum |a b| + |beta c|, in double. */
static double *gemm_scale(const gemm_case *g, const float *a, int lda, const float *b,
                          int ldb, const float *c, int ldc)
{
    double *s = malloc((size_t)g->m * g->n * sizeof *s);

    assert_non_null(s);
    for (int i = 0; i < g->m; i++)
        for (int j = 0; j < g->n; j++) {
            double sum = 0.0;

            for (int p = 0; p < g->k; p++) {
                double x = g->ta ? a[(size_t)p * lda + i] : a[(size_t)i * lda + p];
                double y = g->tb ? b[(size_t)j * ldb + p] : b[(size_t)p * ldb + j];
                sum += fabs(x * y);
            }
            s[(size_t)i * g->n + j] = fabs(g->alpha) * sum +
                                      fabs((double)g->beta * c[(size_t)i * ldc + j]);
        }
    return s;
}

/* Runs one case on both backends and compares C, row by row. */
static void check(clf_twin *tw, const gemm_case *g)
{
    int lda = (g->ta ? g->m : g->k) + g->pad, ldb = (g->tb ? g->k : g->n) + g->pad;
    int ldc = g->n + g->pad;
    size_t na = (size_t)(g->ta ? g->k : g->m) * lda, nb = (size_t)(g->tb ? g->n : g->k) * ldb;
    size_t nc = (size_t)g->m * ldc;
    clf_rng r;
    clf_tbuf A, B, C;
    float *out[2];
    double *scale;

    clf_rng_seed(&r, (uint64_t)g->m * 1000003u + (uint64_t)g->n * 101u + (uint64_t)g->k);
    A = clf_tbuf_rand(tw, &r, g->a_off + na, -1.0f, 1.0f);
    B = clf_tbuf_rand(tw, &r, g->b_off + nb, -1.0f, 1.0f);
    C = clf_tbuf_rand(tw, &r, g->c_off + nc, -1.0f, 1.0f);
    for (int s = 0; s < 2; s++) {
        clf_backend *be = tw->be[s];
        clf_status st = be->ops->gemm(be, g->ta, g->tb, g->m, g->n, g->k, g->alpha, A.on[s],
                                      g->a_off, lda, B.on[s], g->b_off, ldb, g->beta, C.on[s],
                                      g->c_off, ldc);
        assert_int_equal(st, CLF_OK);
    }
    scale = gemm_scale(g, A.host + g->a_off, lda, B.host + g->b_off, ldb, C.host + g->c_off,
                       ldc);
    clf_tbuf_read(tw, &C, g->c_off, nc, out);
    for (int i = 0; i < g->m; i++)
        clf_test_close(out[1] + (size_t)i * ldc, out[0] + (size_t)i * ldc,
                       scale + (size_t)i * g->n, (size_t)g->n, 1e-5, "gemm");
    free(scale);
    free(out[0]);
    free(out[1]);
    clf_tbuf_free(tw, &A);
    clf_tbuf_free(tw, &B);
    clf_tbuf_free(tw, &C);
}

static void test_transposes_offsets_beta(void **state)
{
    clf_twin tw;

    (void)state;
    clf_twin_open(&tw);
    for (int t = 0; t < 4; t++) {
        bool ta = t & 1, tb = (t & 2) != 0;
        gemm_case small = {ta, tb, 7, 5, 3, 1.0f, 0.0f, 0, 0, 0, 0};
        gemm_case padded = {ta, tb, 33, 17, 65, 0.5f, -2.0f, 3, 5, 7, 11};
        gemm_case accum = {ta, tb, 12, 10, 300, 1.0f, 1.0f, 1, 1, 2, 3};
        /* shapes for the split-k and short-k kernels of cl/gemm.cl, thin
         * in n and (through C^T) in m; B ends at its buffer's end */
        gemm_case split = {ta, tb, 5, 7, 5000, 0.5f, 1.5f, 2, 3, 1, 4};
        gemm_case split_wide = {ta, tb, 7, 40, 3000, 1.0f, 0.0f, 1, 0, 0, 0};
        gemm_case short_tall = {ta, tb, 300, 9, 5, 1.0f, -1.0f, 1, 1, 1, 1};
        gemm_case short_wide = {ta, tb, 9, 300, 5, 2.0f, 0.5f, 0, 2, 2, 2};

        check(&tw, &small);
        check(&tw, &padded);
        check(&tw, &accum);
        check(&tw, &split);
        check(&tw, &split_wide);
        check(&tw, &short_tall);
        check(&tw, &short_wide);
    }
    clf_twin_close(&tw);
}

/* The seed's model: batch 12, 150528 inputs, n = 4 or 10 classes. Forward
 * Y = X W, weight gradient dW = X^T dY, input gradient dX = dY W^T. */
static void seed_shapes(clf_twin *tw, int n)
{
    enum { M = 12, K = 150528 };
    gemm_case fwd = {false, false, M, n, K, 1.0f, 0.0f, 0, 0, 0, 0};
    gemm_case dw = {true, false, K, n, M, 1.0f, 0.0f, 0, 0, 0, 0};
    gemm_case dx = {false, true, M, K, n, 1.0f, 0.0f, 0, 0, 0, 0};

    check(tw, &fwd);
    check(tw, &dw);
    check(tw, &dx);
}

/* With the kernels of cl/gemm.cl (the CPU ones where the device is a
 * CPU), with the general ones, then through CLBlast alone. */
static void test_seed_shapes(void **state)
{
    clf_twin tw;

    (void)state;
    clf_twin_open(&tw);
    seed_shapes(&tw, 4);
    seed_shapes(&tw, 10);
    clf_ocl_of(tw.be[1])->cpu_kernels = !clf_ocl_of(tw.be[1])->cpu_kernels;
    seed_shapes(&tw, 10);
    clf_ocl_of(tw.be[1])->skinny_gemm = false;
    seed_shapes(&tw, 10);
    clf_twin_close(&tw);
}

/* gemm_k_slices (CPU devices, plain A B with a long k): several blocks of
 * 16 rows with a partial last one, several blocks of 16 columns, k not a
 * multiple of the 1024-long slice, offsets and padding, beta. */
static void test_k_slices(void **state)
{
    const gemm_case cases[] = {
        {false, false, 40, 10, 5000, 1.0f, 0.0f, 3, 5, 1, 2},
        {false, false, 17, 33, 2100, 0.5f, -1.0f, 0, 0, 0, 0},
        {false, false, 64, 16, 3073, 1.0f, 1.0f, 1, 0, 7, 0},
        {false, false, 1, 1, 2048, 2.0f, 0.0f, 0, 1, 1, 1},
    };
    clf_twin tw;

    (void)state;
    clf_twin_open(&tw);
    clf_ocl_of(tw.be[1])->cpu_kernels = true;
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++)
        check(&tw, &cases[i]);
    clf_twin_close(&tw);
}

/* k == 0 leaves beta * C (CLBlast refuses k == 0, so the backend scales
 * C itself); m or n == 0 touches nothing. */
static void test_empty_dimensions(void **state)
{
    clf_twin tw;
    gemm_case k0 = {false, false, 5, 6, 0, 1.0f, 0.25f, 2, 1, 1, 1};
    gemm_case k0_beta0 = {true, true, 3, 4, 0, 1.0f, 0.0f, 0, 0, 0, 0};
    gemm_case m0 = {false, false, 0, 6, 3, 1.0f, 0.5f, 0, 0, 0, 0};

    (void)state;
    clf_twin_open(&tw);
    check(&tw, &k0);
    check(&tw, &k0_beta0);
    check(&tw, &m0);
    clf_twin_close(&tw);
}

/* beta == 0 must ignore what C held, NaN included: buffers start with
 * undefined contents and the model relies on beta == 0 overwriting. */
static void test_beta_zero_ignores_nan(void **state)
{
    clf_backend *be = clf_test_backend("opencl");
    float a[2] = {2.0f, 1.0f}, b[2] = {3.0f, 4.0f}, c = NAN;
    clf_buf *A, *B, *C;

    (void)state;
    assert_int_equal(be->ops->buf_new(be, sizeof a, "a", &A), CLF_OK);
    assert_int_equal(be->ops->buf_new(be, sizeof b, "b", &B), CLF_OK);
    assert_int_equal(be->ops->buf_new(be, sizeof c, "c", &C), CLF_OK);
    assert_int_equal(be->ops->write(be, A, 0, a, sizeof a), CLF_OK);
    assert_int_equal(be->ops->write(be, B, 0, b, sizeof b), CLF_OK);
    assert_int_equal(be->ops->write(be, C, 0, &c, sizeof c), CLF_OK);
    assert_int_equal(be->ops->gemm(be, false, false, 1, 1, 2, 1.0f, A, 0, 2, B, 0, 1, 0.0f, C,
                                   0, 1),
                     CLF_OK);
    assert_int_equal(be->ops->read(be, C, 0, &c, sizeof c), CLF_OK);
    assert_float_equal(c, 10.0f, 0.0f); /* 2*3 + 1*4 */
    be->ops->buf_free(be, A);
    be->ops->buf_free(be, B);
    be->ops->buf_free(be, C);
    clf_backend_close(be);
}

/* A matrix that would run past the end of its buffer, or a leading
 * dimension shorter than a row, is refused before anything is enqueued. */
static void test_out_of_range(void **state)
{
    clf_backend *be = clf_test_backend("opencl");
    clf_buf *A;

    (void)state;
    assert_int_equal(be->ops->buf_new(be, 16 * sizeof(float), "a", &A), CLF_OK);
    /* A is 4 x 4 at offset 1: 17 floats of a 16-float buffer */
    assert_int_equal(be->ops->gemm(be, false, false, 4, 4, 4, 1.0f, A, 1, 4, A, 0, 4, 0.0f, A,
                                   0, 4),
                     CLF_ERR_ARG);
    /* A is 2 x 4 with lda 3 */
    assert_int_equal(be->ops->gemm(be, false, false, 2, 2, 4, 1.0f, A, 0, 3, A, 0, 2, 0.0f, A,
                                   0, 2),
                     CLF_ERR_ARG);
    be->ops->buf_free(be, A);
    clf_backend_close(be);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_transposes_offsets_beta),
        cmocka_unit_test(test_seed_shapes),
        cmocka_unit_test(test_k_slices),
        cmocka_unit_test(test_empty_dimensions),
        cmocka_unit_test(test_beta_zero_ignores_nan),
        cmocka_unit_test(test_out_of_range),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
