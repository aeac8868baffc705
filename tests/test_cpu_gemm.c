/* The blocked reference SGEMM against a naive triple loop in double,
 * for every transpose combination and shapes that cross the block edges. */
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>

#include <cmocka.h>

#include "backend/cpu/cpu.h"
#include "core/rng.h"

static void naive(bool ta, bool tb, int m, int n, int k, float alpha, const float *a, int lda,
                  const float *b, int ldb, float beta, const float *c0, int ldc, double *out,
                  double *scale)
{
    for (int i = 0; i < m; i++)
        for (int j = 0; j < n; j++) {
            double s = 0.0, sa = 0.0;

            for (int p = 0; p < k; p++) {
                double x = ta ? a[(size_t)p * lda + i] : a[(size_t)i * lda + p];
                double y = tb ? b[(size_t)j * ldb + p] : b[(size_t)p * ldb + j];
                s += x * y;
                sa += fabs(x * y);
            }
            out[(size_t)i * n + j] = alpha * s + beta * c0[(size_t)i * ldc + j];
            scale[(size_t)i * n + j] = fabs(alpha) * sa + fabs(beta * c0[(size_t)i * ldc + j]);
        }
}

static void check_shape(bool ta, bool tb, int m, int n, int k, float alpha, float beta)
{
    int lda = (ta ? m : k) + 3, ldb = (tb ? k : n) + 1, ldc = n + 2;
    size_t na = (size_t)(ta ? k : m) * lda, nb = (size_t)(tb ? n : k) * ldb;
    size_t nc = (size_t)m * ldc;
    float *a = malloc(na * 4), *b = malloc(nb * 4), *c = malloc(nc * 4), *c0 = malloc(nc * 4);
    double *ref = malloc((size_t)m * n * 8), *scale = malloc((size_t)m * n * 8);
    clf_rng r;

    clf_rng_seed(&r, (uint64_t)(m * 131 + n * 7 + k));
    for (size_t i = 0; i < na; i++)
        a[i] = clf_rng_uniform(&r) * 2 - 1;
    for (size_t i = 0; i < nb; i++)
        b[i] = clf_rng_uniform(&r) * 2 - 1;
    for (size_t i = 0; i < nc; i++)
        c[i] = c0[i] = clf_rng_uniform(&r) * 2 - 1;

    naive(ta, tb, m, n, k, alpha, a, lda, b, ldb, beta, c0, ldc, ref, scale);
    assert_int_equal(clf_cpu_sgemm(ta, tb, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc),
                     CLF_OK);
    for (int i = 0; i < m; i++)
        for (int j = 0; j < n; j++) {
            double err = fabs(c[(size_t)i * ldc + j] - ref[(size_t)i * n + j]);
            if (err > 1e-5 * scale[(size_t)i * n + j] + 1e-30)
                fail_msg("ta=%d tb=%d %dx%dx%d C[%d][%d] = %g, want %g", ta, tb, m, n, k, i,
                         j, c[(size_t)i * ldc + j], ref[(size_t)i * n + j]);
        }
    free(a), free(b), free(c), free(c0), free(ref), free(scale);
}

static void test_transposes_and_blocks(void **state)
{
    (void)state;
    for (int t = 0; t < 4; t++) {
        bool ta = t & 1, tb = t & 2;
        check_shape(ta, tb, 1, 1, 1, 1.0f, 0.0f);
        check_shape(ta, tb, 7, 5, 3, 0.5f, 1.0f);
        check_shape(ta, tb, 67, 515, 260, 1.0f, 0.0f);
        check_shape(ta, tb, 12, 10, 3000, 1.0f, -2.0f);
    }
}

static void test_beta_zero_ignores_nan(void **state)
{
    float a = 2.0f, b = 3.0f, c = NAN;

    (void)state;
    assert_int_equal(clf_cpu_sgemm(false, false, 1, 1, 1, 1.0f, &a, 1, &b, 1, 0.0f, &c, 1),
                     CLF_OK);
    assert_float_equal(c, 6.0f, 0.0f);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_transposes_and_blocks),
        cmocka_unit_test(test_beta_zero_ignores_nan),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
