/* Average pooling, global average pooling and its backward
 * (kernels in cl/pool.cl). */
#include "ocl.h"

#include "clfit/log.h"
#include "core/alloc.h"

static bool pool_valid(const clf_pool_shape *s, size_t *nx, size_t *ny)
{
    if (s->n < 0 || s->h < 0 || s->w < 0 || s->c < 0 || s->oh < 0 || s->ow < 0 ||
        s->ph < 1 || s->pw < 1 || s->sh < 1 || s->sw < 1 || s->pad_top < 0 ||
        s->pad_left < 0 ||
        !clf_mul4_size((size_t)s->n, (size_t)s->h, (size_t)s->w, (size_t)s->c, nx) ||
        !clf_mul4_size((size_t)s->n, (size_t)s->oh, (size_t)s->ow, (size_t)s->c, ny)) {
        CLF_LOG_ERROR("opencl avg_pool: bad geometry (input %dx%dx%dx%d, output %dx%d, pool "
                      "%dx%d, stride %dx%d)", s->n, s->h, s->w, s->c, s->oh, s->ow, s->ph,
                      s->pw, s->sh, s->sw);
        return false;
    }
    return true;
}

clf_status clf_ocl_avg_pool(clf_backend *be, const clf_pool_shape *s, clf_buf *x, size_t xo,
                            clf_buf *y, size_t yo)
{
    size_t nx, ny;
    cl_int16 g = {{s->n, s->h, s->w, s->c, s->oh, s->ow, s->ph, s->pw, s->sh, s->sw,
                   s->pad_top, s->pad_left, 0, 0, 0, 0}};
    cl_uint total, uxo = (cl_uint)xo, uyo = (cl_uint)yo;

    if (!pool_valid(s, &nx, &ny) || !clf_ocl_range(x, xo, nx, 4, "avg_pool x") ||
        !clf_ocl_range(y, yo, ny, 4, "avg_pool y"))
        return CLF_ERR_ARG;
    total = (cl_uint)ny;
    clf_karg args[] = {CLF_ARG(g), CLF_ARG(total), CLF_ARG(x->mem), CLF_ARG(uxo),
                       CLF_ARG(y->mem), CLF_ARG(uyo)};
    return clf_ocl_launch_1d(clf_ocl_of(be), CLF_K_avg_pool, "avg_pool", args,
                             CLF_NARGS(args), ny);
}

/* n * hw * c and n * c, or false after logging. */
static bool gap_sizes(int n, int hw, int c, const char *op, size_t *nx, size_t *ny)
{
    if (n < 0 || hw <= 0 || c < 0 ||
        !clf_mul4_size((size_t)n, (size_t)hw, (size_t)c, 1, nx)) {
        CLF_LOG_ERROR("opencl %s: bad shape n %d, hw %d, c %d", op, n, hw, c);
        return false;
    }
    *ny = (size_t)n * (size_t)c;
    return true;
}

clf_status clf_ocl_global_avg_pool(clf_backend *be, int n, int hw, int c, clf_buf *x,
                                   size_t xo, clf_buf *y, size_t yo)
{
    size_t nx, ny;
    cl_uint total, uhw = (cl_uint)hw, uc = (cl_uint)c, uxo = (cl_uint)xo, uyo = (cl_uint)yo;

    if (!gap_sizes(n, hw, c, "global_avg_pool", &nx, &ny) ||
        !clf_ocl_range(x, xo, nx, 4, "global_avg_pool x") ||
        !clf_ocl_range(y, yo, ny, 4, "global_avg_pool y"))
        return CLF_ERR_ARG;
    total = (cl_uint)ny;
    clf_karg args[] = {CLF_ARG(total), CLF_ARG(uhw), CLF_ARG(uc), CLF_ARG(x->mem),
                       CLF_ARG(uxo), CLF_ARG(y->mem), CLF_ARG(uyo)};
    return clf_ocl_launch_1d(clf_ocl_of(be), CLF_K_global_avg_pool, "global_avg_pool", args,
                             CLF_NARGS(args), ny);
}

clf_status clf_ocl_global_avg_pool_backward(clf_backend *be, int n, int hw, int c,
                                            clf_buf *dy, size_t dyo, clf_buf *dx,
                                            size_t dxo)
{
    size_t nx, ny;
    cl_uint total, uhw = (cl_uint)hw, uc = (cl_uint)c, udy = (cl_uint)dyo, udx = (cl_uint)dxo;

    if (!gap_sizes(n, hw, c, "global_avg_pool_backward", &nx, &ny) ||
        !clf_ocl_range(dy, dyo, ny, 4, "global_avg_pool_backward dy") ||
        !clf_ocl_range(dx, dxo, nx, 4, "global_avg_pool_backward dx"))
        return CLF_ERR_ARG;
    total = (cl_uint)nx;
    clf_karg args[] = {CLF_ARG(total), CLF_ARG(uhw), CLF_ARG(uc), CLF_ARG(dy->mem),
                       CLF_ARG(udy), CLF_ARG(dx->mem), CLF_ARG(udx)};
    return clf_ocl_launch_1d(clf_ocl_of(be), CLF_K_global_avg_pool_backward,
                             "global_avg_pool_backward", args, CLF_NARGS(args), nx);
}
