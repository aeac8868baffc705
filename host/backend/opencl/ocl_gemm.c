/* GEMM through CLBlast, row-major, on the backend's queue. */
#include "ocl.h"

#include <clblast_c.h>

#include "clfit/log.h"

/* Elements a stored rows x cols matrix with leading dimension ld spans. */
static size_t extent(int rows, int cols, int ld)
{
    if (rows <= 0 || cols <= 0)
        return 0;
    return (size_t)(rows - 1) * (size_t)ld + (size_t)cols;
}

/* C = beta * C, for k == 0 (which CLBlast refuses as a dimension). */
static clf_status scale_c(clf_backend *be, int m, int n, float beta, clf_buf *c, size_t co,
                          int ldc)
{
    cl_uint um = (cl_uint)m, un = (cl_uint)n, uld = (cl_uint)ldc, uco = (cl_uint)co;
    clf_karg args[] = {CLF_ARG(um), CLF_ARG(un), CLF_ARG(uld), CLF_ARG(beta), CLF_ARG(c->mem),
                       CLF_ARG(uco)};

    if ((size_t)m * (size_t)n > UINT32_MAX)
        return CLF_ERR_UNSUPPORTED;
    return clf_ocl_launch_1d(clf_ocl_of(be), CLF_K_scale_rows, "gemm", args, CLF_NARGS(args),
                             (size_t)m * (size_t)n);
}

clf_status clf_ocl_gemm(clf_backend *be, bool ta, bool tb, int m, int n, int k, float alpha,
                        clf_buf *a, size_t ao, int lda, clf_buf *b, size_t bo, int ldb,
                        float beta, clf_buf *c, size_t co, int ldc)
{
    clf_ocl *o = clf_ocl_of(be);
    clf_status st = CLF_OK;

    if (m < 0 || n < 0 || k < 0) {
        CLF_LOG_ERROR("opencl gemm: negative size %d x %d x %d", m, n, k);
        return CLF_ERR_ARG;
    }
    if (!clf_ocl_range(a, ao, ta ? extent(k, m, lda) : extent(m, k, lda), 4, "gemm A") ||
        !clf_ocl_range(b, bo, tb ? extent(n, k, ldb) : extent(k, n, ldb), 4, "gemm B") ||
        !clf_ocl_range(c, co, extent(m, n, ldc), 4, "gemm C"))
        return CLF_ERR_ARG;
    if (m == 0 || n == 0)
        return CLF_OK;
    if (k == 0)
        return scale_c(be, m, n, beta, c, co, ldc);

    CLF_CLBLAST_CHECK(CLBlastSgemm(CLBlastLayoutRowMajor,
                                   ta ? CLBlastTransposeYes : CLBlastTransposeNo,
                                   tb ? CLBlastTransposeYes : CLBlastTransposeNo, (size_t)m,
                                   (size_t)n, (size_t)k, alpha, a->mem, ao, (size_t)lda,
                                   b->mem, bo, (size_t)ldb, beta, c->mem, co, (size_t)ldc,
                                   &o->queue, NULL));
cleanup:
    if (st != CLF_OK)
        CLF_LOG_ERROR("opencl gemm: %s%s %d x %d x %d (lda %d, ldb %d, ldc %d) failed",
                      ta ? "T" : "N", tb ? "T" : "N", m, n, k, lda, ldb, ldc);
    return st;
}
