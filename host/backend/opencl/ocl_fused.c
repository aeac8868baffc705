/* The fused dense_update op (kernel in cl/dense_update.cl). */
#include "ocl.h"

#include "clfit/log.h"

/* Checks one parameter and its slots for n floats; their cl_mems. */
static bool param_mems(clf_buf *w, clf_buf *const *slot, size_t n, const clf_opt_step *opt,
                       const char *what, cl_mem mem[3])
{
    bool s0 = opt->adam || opt->momentum != 0.0f;

    mem[0] = w->mem;
    mem[1] = s0 ? clf_ocl_mem(slot[0]) : NULL;
    mem[2] = opt->adam ? clf_ocl_mem(slot[1]) : NULL;
    return clf_ocl_range(w, 0, n, 4, what) && (!s0 || clf_ocl_range(slot[0], 0, n, 4, what)) &&
           (!opt->adam || clf_ocl_range(slot[1], 0, n, 4, what));
}

#define DU_ROWS 16 /* as in cl/dense_update.cl */
#define DU_SPAN 8
#define DU_MAX_BATCH 32

/* The kernel's work-items: with units <= 16 and rows <= 32, one per
 * DU_SPAN blocks of 16 rows of W; one per leftover row; one for the
 * bias. On CPUs a group of one work-item each (PoCL runs a group on one
 * core), 64 on GPUs. */
static clf_status launch(clf_ocl *o, const clf_karg *args, size_t nargs, int rows, int in,
                         int units)
{
    size_t blocks = units <= 16 && rows <= DU_MAX_BATCH ? (size_t)in / DU_ROWS : 0;
    size_t items = (blocks + DU_SPAN - 1) / DU_SPAN + ((size_t)in - blocks * DU_ROWS) + 1;
    size_t local = clf_ocl_group_size(o, CLF_K_dense_update, o->cpu_kernels ? 1 : 64, 0);
    size_t global = (items + local - 1) / local * local;

    return clf_ocl_launch(o, CLF_K_dense_update, "dense_update", args, nargs, 1, &global,
                          &local);
}

clf_status clf_ocl_dense_update(clf_backend *be, int rows, int in, int units, clf_buf *x,
                                size_t xo, int ldx, clf_buf *dy, size_t dyo,
                                const clf_opt_step *opt, clf_buf *w, clf_buf *const *w_slot,
                                clf_buf *b, clf_buf *const *b_slot)
{
    cl_uint ur = (cl_uint)rows, uin = (cl_uint)in, uu = (cl_uint)units, uxo = (cl_uint)xo,
            uld = (cl_uint)ldx, udo = (cl_uint)dyo;
    cl_int kind = opt->adam ? 0 : 1, nest = opt->nesterov, has_bias = b != NULL;
    cl_mem wm[3], bm[3] = {NULL, NULL, NULL};
    size_t nx = rows > 0 ? (size_t)(rows - 1) * (size_t)ldx + (size_t)in : 0;

    if (rows < 0 || in < 0 || units < 0 || ldx < in) {
        CLF_LOG_ERROR("opencl dense_update: bad shape %d x %d -> %d (ldx %d)", rows, in, units,
                      ldx);
        return CLF_ERR_ARG;
    }
    if ((rows > 0 && (!clf_ocl_range(x, xo, nx, 4, "dense_update x") ||
                      !clf_ocl_range(dy, dyo, (size_t)rows * units, 4, "dense_update dy"))) ||
        !param_mems(w, w_slot, (size_t)in * units, opt, "dense_update weights", wm) ||
        (b && !param_mems(b, b_slot, (size_t)units, opt, "dense_update bias", bm)))
        return CLF_ERR_ARG;
    if (units == 0 || (in == 0 && !b))
        return CLF_OK;
    cl_mem xm = rows > 0 ? x->mem : NULL, dym = rows > 0 ? dy->mem : NULL;
    clf_karg args[] = {CLF_ARG(ur),        CLF_ARG(uin),       CLF_ARG(uu),
                       CLF_ARG(xm),        CLF_ARG(uxo),       CLF_ARG(uld),
                       CLF_ARG(dym),       CLF_ARG(udo),       CLF_ARG(kind),
                       CLF_ARG(opt->lr),   CLF_ARG(opt->b1),   CLF_ARG(opt->b2),
                       CLF_ARG(opt->eps),  CLF_ARG(opt->momentum), CLF_ARG(nest),
                       CLF_ARG(wm[0]),     CLF_ARG(wm[1]),     CLF_ARG(wm[2]),
                       CLF_ARG(has_bias),  CLF_ARG(bm[0]),     CLF_ARG(bm[1]),
                       CLF_ARG(bm[2])};
    return launch(clf_ocl_of(be), args, CLF_NARGS(args), rows, in, units);
}
