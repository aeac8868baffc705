/* Dense-layer ops: bias + activation, its backward, column sums, softmax
 * and the fused softmax cross-entropy (kernels in cl/dense.cl, loss.cl). */
#include "ocl.h"

#include "clfit/log.h"

/* rows * cols as a size, or 0 after logging when either is negative. */
static bool matrix_size(int rows, int cols, const char *op, size_t *n)
{
    if (rows < 0 || cols < 0) {
        CLF_LOG_ERROR("opencl %s: negative shape %d x %d", op, rows, cols);
        return false;
    }
    *n = (size_t)rows * (size_t)cols;
    return true;
}

/* Smallest power of two >= n (n <= 2^31). */
static size_t pow2_at_least(size_t n)
{
    size_t p = 1;

    while (p < n)
        p *= 2;
    return p;
}

clf_status clf_ocl_bias_act(clf_backend *be, int rows, int cols, clf_buf *x, size_t xo,
                            clf_buf *bias, size_t bo, clf_act act)
{
    size_t n;
    cl_uint total, ucols = (cl_uint)cols, uxo = (cl_uint)xo, ubo = (cl_uint)bo;
    cl_int has_bias = bias != NULL, kind = (cl_int)act.kind;
    cl_mem bmem = clf_ocl_mem(bias);

    if (!matrix_size(rows, cols, "bias_act", &n) || !clf_ocl_range(x, xo, n, 4, "bias_act") ||
        (bias && !clf_ocl_range(bias, bo, (size_t)cols, 4, "bias_act bias")))
        return CLF_ERR_ARG;
    if (!bias && act.kind == CLF_ACT_NONE)
        return CLF_OK;
    total = (cl_uint)n;
    clf_karg args[] = {CLF_ARG(total), CLF_ARG(ucols), CLF_ARG(x->mem),  CLF_ARG(uxo),
                       CLF_ARG(bmem),  CLF_ARG(ubo),   CLF_ARG(has_bias), CLF_ARG(kind),
                       CLF_ARG(act.max)};
    return clf_ocl_launch_1d(clf_ocl_of(be), CLF_K_bias_act, "bias_act", args,
                             CLF_NARGS(args), n);
}

clf_status clf_ocl_act_backward(clf_backend *be, size_t n, clf_act act, clf_buf *y, size_t yo,
                                clf_buf *dy, size_t dyo)
{
    cl_uint un = (cl_uint)n, uyo = (cl_uint)yo, udo = (cl_uint)dyo;

    if (!clf_ocl_range(y, yo, n, 4, "act_backward y") ||
        !clf_ocl_range(dy, dyo, n, 4, "act_backward dy"))
        return CLF_ERR_ARG;
    if (act.kind == CLF_ACT_NONE)
        return CLF_OK;
    clf_karg args[] = {CLF_ARG(un), CLF_ARG(act.max), CLF_ARG(y->mem), CLF_ARG(uyo),
                       CLF_ARG(dy->mem), CLF_ARG(udo)};
    return clf_ocl_launch_1d(clf_ocl_of(be), CLF_K_act_backward, "act_backward", args,
                             CLF_NARGS(args), n);
}

clf_status clf_ocl_col_sum(clf_backend *be, int rows, int cols, clf_buf *x, size_t xo,
                           float beta, clf_buf *y, size_t yo)
{
    clf_ocl *o = clf_ocl_of(be);
    size_t n, group, local[2], global[2];
    cl_uint ur = (cl_uint)rows, uc = (cl_uint)cols, uxo = (cl_uint)xo, uyo = (cl_uint)yo;

    if (!matrix_size(rows, cols, "col_sum", &n) || !clf_ocl_range(x, xo, n, 4, "col_sum x") ||
        !clf_ocl_range(y, yo, (size_t)cols, 4, "col_sum y"))
        return CLF_ERR_ARG;
    if (cols == 0)
        return CLF_OK;

    /* a tile of up to 16 columns; the rest of the group are row lanes */
    group = clf_ocl_group_size(o, CLF_K_col_sum, 256, sizeof(float));
    local[0] = pow2_at_least((size_t)cols < 16 ? (size_t)cols : 16);
    while (local[0] > group || local[0] > o->max_item[0])
        local[0] /= 2;
    local[1] = group / local[0];
    while (local[1] > o->max_item[1])
        local[1] /= 2;
    global[0] = ((size_t)cols + local[0] - 1) / local[0] * local[0];
    global[1] = local[1];

    clf_karg args[] = {CLF_ARG(ur), CLF_ARG(uc), CLF_ARG(x->mem), CLF_ARG(uxo), CLF_ARG(beta),
                       CLF_ARG(y->mem), CLF_ARG(uyo),
                       CLF_LOCAL(local[0] * local[1] * sizeof(float))};
    return clf_ocl_launch(o, CLF_K_col_sum, "col_sum", args, CLF_NARGS(args), 2, global,
                          local);
}

/* One work-group per row, sized to the row up to 256 work-items. */
static size_t row_group(const clf_ocl *o, clf_ocl_kernel k, int cols, size_t bytes_per_item)
{
    size_t want = pow2_at_least((size_t)cols < 256 ? (size_t)cols : 256);

    return clf_ocl_group_size(o, k, want, bytes_per_item);
}

clf_status clf_ocl_softmax(clf_backend *be, int rows, int cols, clf_buf *x, size_t xo,
                           clf_buf *y, size_t yo)
{
    clf_ocl *o = clf_ocl_of(be);
    size_t n, local, global;
    cl_uint uc = (cl_uint)cols, uxo = (cl_uint)xo, uyo = (cl_uint)yo;

    if (!matrix_size(rows, cols, "softmax", &n) || !clf_ocl_range(x, xo, n, 4, "softmax x") ||
        !clf_ocl_range(y, yo, n, 4, "softmax y"))
        return CLF_ERR_ARG;
    if (cols == 0) {
        CLF_LOG_ERROR("opencl softmax: rows have no columns");
        return CLF_ERR_ARG;
    }
    if (rows == 0)
        return CLF_OK;
    local = row_group(o, CLF_K_softmax, cols, sizeof(float));
    global = (size_t)rows * local;
    clf_karg args[] = {CLF_ARG(uc), CLF_ARG(x->mem), CLF_ARG(uxo), CLF_ARG(y->mem),
                       CLF_ARG(uyo), CLF_LOCAL(local * sizeof(float))};
    return clf_ocl_launch(o, CLF_K_softmax, "softmax", args, CLF_NARGS(args), 1, &global,
                          &local);
}

/* Adds the rows' losses and hits in `part` to stats, in one work-group. */
static clf_status xent_reduce(clf_ocl *o, int rows, clf_buf *part, clf_buf *stats, size_t so)
{
    size_t local = row_group(o, CLF_K_xent_reduce, rows, sizeof(float));
    cl_uint ur = (cl_uint)rows, uso = (cl_uint)so;
    clf_karg args[] = {CLF_ARG(ur), CLF_ARG(part->mem), CLF_ARG(stats->mem), CLF_ARG(uso),
                       CLF_LOCAL(local * sizeof(float))};

    return clf_ocl_launch(o, CLF_K_xent_reduce, "softmax_xent", args, CLF_NARGS(args), 1,
                          &local, &local);
}

clf_status clf_ocl_softmax_xent(clf_backend *be, int rows, int cols, clf_buf *logits,
                                size_t lo, clf_buf *labels, size_t lbo, float grad_scale,
                                clf_buf *grad, size_t go, clf_buf *stats, size_t so)
{
    clf_ocl *o = clf_ocl_of(be);
    size_t n, local, global;
    cl_uint uc = (cl_uint)cols, ulo = (cl_uint)lo, ulb = (cl_uint)lbo, ugo = (cl_uint)go;
    cl_int has_grad = grad != NULL;
    cl_mem gmem = clf_ocl_mem(grad);
    clf_buf *part;
    clf_status st;

    if (!matrix_size(rows, cols, "softmax_xent", &n) ||
        !clf_ocl_range(logits, lo, n, 4, "softmax_xent logits") ||
        !clf_ocl_range(labels, lbo, (size_t)rows, 4, "softmax_xent labels") ||
        (grad && !clf_ocl_range(grad, go, n, 4, "softmax_xent grad")) ||
        !clf_ocl_range(stats, so, 2, 4, "softmax_xent stats"))
        return CLF_ERR_ARG;
    if (cols == 0) {
        CLF_LOG_ERROR("opencl softmax_xent: rows have no columns");
        return CLF_ERR_ARG;
    }
    if (rows == 0)
        return CLF_OK;
    st = clf_ocl_scratch(be, CLF_SCRATCH_ROWS, (size_t)rows * 2 * sizeof(float), &part);
    if (st != CLF_OK)
        return st;

    local = row_group(o, CLF_K_xent_rows, cols, sizeof(float) + sizeof(cl_uint));
    global = (size_t)rows * local;
    clf_karg args[] = {CLF_ARG(uc),         CLF_ARG(logits->mem), CLF_ARG(ulo),
                       CLF_ARG(labels->mem), CLF_ARG(ulb),        CLF_ARG(grad_scale),
                       CLF_ARG(has_grad),   CLF_ARG(gmem),        CLF_ARG(ugo),
                       CLF_ARG(part->mem),  CLF_LOCAL(local * sizeof(float)),
                       CLF_LOCAL(local * sizeof(cl_uint))};
    st = clf_ocl_launch(o, CLF_K_xent_rows, "softmax_xent", args, CLF_NARGS(args), 1, &global,
                        &local);
    if (st == CLF_OK)
        st = xent_reduce(o, rows, part, stats, so);
    return st;
}
