/* Optimizer updates and dropout (kernels in cl/optim.cl). */
#include "ocl.h"

#include "clfit/log.h"

clf_status clf_ocl_adam(clf_backend *be, size_t n, clf_buf *w, size_t wo, clf_buf *g,
                        size_t go, clf_buf *m, size_t mo, clf_buf *v, size_t vo, float lr_t,
                        float b1, float b2, float eps)
{
    cl_uint un = (cl_uint)n, uwo = (cl_uint)wo, ugo = (cl_uint)go, umo = (cl_uint)mo,
            uvo = (cl_uint)vo;

    if (!clf_ocl_range(w, wo, n, 4, "adam w") || !clf_ocl_range(g, go, n, 4, "adam g") ||
        !clf_ocl_range(m, mo, n, 4, "adam m") || !clf_ocl_range(v, vo, n, 4, "adam v"))
        return CLF_ERR_ARG;
    clf_karg args[] = {CLF_ARG(un),     CLF_ARG(w->mem), CLF_ARG(uwo), CLF_ARG(g->mem),
                       CLF_ARG(ugo),    CLF_ARG(m->mem), CLF_ARG(umo), CLF_ARG(v->mem),
                       CLF_ARG(uvo),    CLF_ARG(lr_t),   CLF_ARG(b1),  CLF_ARG(b2),
                       CLF_ARG(eps)};
    return clf_ocl_launch_1d(clf_ocl_of(be), CLF_K_adam, "adam", args, CLF_NARGS(args), n);
}

clf_status clf_ocl_sgd(clf_backend *be, size_t n, clf_buf *w, size_t wo, clf_buf *g,
                       size_t go, clf_buf *vel, size_t vo, float lr, float momentum,
                       bool nesterov)
{
    cl_uint un = (cl_uint)n, uwo = (cl_uint)wo, ugo = (cl_uint)go, uvo = (cl_uint)vo;
    cl_int has_vel = momentum != 0.0f, nest = nesterov;
    cl_mem vmem = has_vel ? clf_ocl_mem(vel) : NULL;

    if (!clf_ocl_range(w, wo, n, 4, "sgd w") || !clf_ocl_range(g, go, n, 4, "sgd g") ||
        (has_vel && !clf_ocl_range(vel, vo, n, 4, "sgd velocity")))
        return CLF_ERR_ARG;
    clf_karg args[] = {CLF_ARG(un),   CLF_ARG(w->mem),   CLF_ARG(uwo),      CLF_ARG(g->mem),
                       CLF_ARG(ugo),  CLF_ARG(vmem),     CLF_ARG(uvo),      CLF_ARG(has_vel),
                       CLF_ARG(lr),   CLF_ARG(momentum), CLF_ARG(nest)};
    return clf_ocl_launch_1d(clf_ocl_of(be), CLF_K_sgd, "sgd", args, CLF_NARGS(args), n);
}

clf_status clf_ocl_dropout(clf_backend *be, size_t n, float rate, uint32_t seed, clf_buf *x,
                           size_t xo, clf_buf *y, size_t yo)
{
    cl_uint un = (cl_uint)n, useed = seed, uxo = (cl_uint)xo, uyo = (cl_uint)yo;
    float scale = 1.0f / (1.0f - rate); /* the same float the cpu backend uses */

    if (!clf_ocl_range(x, xo, n, 4, "dropout x") || !clf_ocl_range(y, yo, n, 4, "dropout y"))
        return CLF_ERR_ARG;
    if (!(rate >= 0.0f && rate < 1.0f)) {
        CLF_LOG_ERROR("opencl dropout: rate %g is outside [0, 1)", (double)rate);
        return CLF_ERR_ARG;
    }
    clf_karg args[] = {CLF_ARG(un),  CLF_ARG(rate),   CLF_ARG(useed), CLF_ARG(scale),
                       CLF_ARG(x->mem), CLF_ARG(uxo), CLF_ARG(y->mem), CLF_ARG(uyo)};
    return clf_ocl_launch_1d(clf_ocl_of(be), CLF_K_dropout, "dropout", args, CLF_NARGS(args),
                             n);
}
