/* Reference SGEMM, row-major, with panel packing so the inner loop runs
 * over contiguous memory whatever the transposes. */
#include "cpu.h"

#include <stdlib.h>

#include "clfit/log.h"
#include "core/alloc.h"
#include "cpu_fpenv.h"

enum { KB = 256, NB = 512 }; /* panel of op(B): KB x NB floats, 512 KiB */

/* Elements a stored rows x cols matrix with leading dimension ld spans. */
static size_t extent(int rows, int cols, int ld)
{
    if (rows <= 0 || cols <= 0)
        return 0;
    return (size_t)(rows - 1) * (size_t)ld + (size_t)cols;
}

/* Packs op(B)[k0:k0+kb, j0:j0+nb] row-major into p. */
static void pack_b(const float *b, int ldb, bool tb, int k0, int kb, int j0, int nb, float *p)
{
    for (int k = 0; k < kb; k++)
        for (int j = 0; j < nb; j++)
            p[k * nb + j] = tb ? b[(size_t)(j0 + j) * ldb + k0 + k]
                               : b[(size_t)(k0 + k) * ldb + j0 + j];
}

/* Row i of alpha * op(A), columns k0..k0+kb, into r. */
static void pack_a_row(const float *a, int lda, bool ta, int i, int k0, int kb, float alpha,
                       float *r)
{
    for (int k = 0; k < kb; k++)
        r[k] = alpha * (ta ? a[(size_t)(k0 + k) * lda + i] : a[(size_t)i * lda + k0 + k]);
}

/* c[0..nb) += sum_k r[k] * p[k][0..nb), for four rows at a time where possible. */
static void panel_rows(const float *p, int kb, int nb, const float *ra, int rows, float *c,
                       int ldc)
{
    int i = 0;

    for (; i + 4 <= rows; i += 4) {
        float *c0 = c + (size_t)i * ldc, *c1 = c0 + ldc, *c2 = c1 + ldc, *c3 = c2 + ldc;
        const float *r0 = ra + (size_t)i * kb;

        for (int k = 0; k < kb; k++) {
            const float *pk = p + (size_t)k * nb;
            float a0 = r0[k], a1 = r0[kb + k], a2 = r0[2 * kb + k], a3 = r0[3 * kb + k];

            for (int j = 0; j < nb; j++) {
                float bj = pk[j];
                c0[j] += a0 * bj;
                c1[j] += a1 * bj;
                c2[j] += a2 * bj;
                c3[j] += a3 * bj;
            }
        }
    }
    for (; i < rows; i++) {
        float *ci = c + (size_t)i * ldc;

        for (int k = 0; k < kb; k++) {
            const float *pk = p + (size_t)k * nb;
            float ak = ra[(size_t)i * kb + k];

            for (int j = 0; j < nb; j++)
                ci[j] += ak * pk[j];
        }
    }
}

static void scale_c(float *c, int m, int n, int ldc, float beta)
{
    for (int i = 0; i < m; i++)
        for (int j = 0; j < n; j++)
            c[(size_t)i * ldc + j] = beta == 0.0f ? 0.0f : beta * c[(size_t)i * ldc + j];
}

enum { MB = 64 }; /* rows of op(A) packed at once */

static clf_status sgemm(bool ta, bool tb, int m, int n, int k, float alpha, const float *A,
                        int lda, const float *B, int ldb, float beta, float *C, int ldc)
{
    float *pb, *ra;

    scale_c(C, m, n, ldc, beta);
    if (m == 0 || n == 0 || k == 0 || alpha == 0.0f)
        return CLF_OK;

    pb = clf_malloc_array((size_t)KB * NB, sizeof(float), "gemm panel");
    ra = clf_malloc_array((size_t)MB * KB, sizeof(float), "gemm rows");
    if (!pb || !ra) {
        free(pb);
        free(ra);
        return CLF_ERR_NOMEM;
    }

    for (int j0 = 0; j0 < n; j0 += NB) {
        int nb = n - j0 < NB ? n - j0 : NB;

        for (int k0 = 0; k0 < k; k0 += KB) {
            int kb = k - k0 < KB ? k - k0 : KB;

            pack_b(B, ldb, tb, k0, kb, j0, nb, pb);
            for (int i0 = 0; i0 < m; i0 += MB) {
                int mb = m - i0 < MB ? m - i0 : MB;

                for (int i = 0; i < mb; i++)
                    pack_a_row(A, lda, ta, i0 + i, k0, kb, alpha, ra + (size_t)i * kb);
                panel_rows(pb, kb, nb, ra, mb, C + (size_t)i0 * ldc + j0, ldc);
            }
        }
    }
    free(pb);
    free(ra);
    return CLF_OK;
}

clf_status clf_cpu_sgemm(bool ta, bool tb, int m, int n, int k, float alpha, const float *A,
                         int lda, const float *B, int ldb, float beta, float *C, int ldc)
{
    clf_fpenv env = clf_fpenv_flush_begin();
    clf_status st = sgemm(ta, tb, m, n, k, alpha, A, lda, B, ldb, beta, C, ldc);

    clf_fpenv_flush_end(env);
    return st;
}

clf_status clf_cpu_gemm(clf_backend *be, bool ta, bool tb, int m, int n, int k, float alpha,
                        clf_buf *a, size_t ao, int lda, clf_buf *b, size_t bo, int ldb,
                        float beta, clf_buf *c, size_t co, int ldc)
{
    const float *A = clf_cpu_f32(a, ao, ta ? extent(k, m, lda) : extent(m, k, lda), "gemm A");
    const float *B = clf_cpu_f32(b, bo, tb ? extent(n, k, ldb) : extent(k, n, ldb), "gemm B");
    float *C = clf_cpu_f32(c, co, extent(m, n, ldc), "gemm C");

    (void)be;
    if (!A || !B || !C || m < 0 || n < 0 || k < 0)
        return CLF_ERR_ARG;
    return clf_cpu_sgemm(ta, tb, m, n, k, alpha, A, lda, B, ldb, beta, C, ldc);
}
