/* Image-tensor ops: uint8 to float, zero padding, residual add, the
 * per-channel affine map (kernels in cl/image.cl, cl/elementwise.cl). */
#include "ocl.h"

#include "clfit/log.h"
#include "core/alloc.h"

/* n = a * b * c * d for non-negative ints, or false after logging. */
static bool count4(int a, int b, int c, int d, const char *op, size_t *n)
{
    if (a < 0 || b < 0 || c < 0 || d < 0 ||
        !clf_mul4_size((size_t)a, (size_t)b, (size_t)c, (size_t)d, n)) {
        CLF_LOG_ERROR("opencl %s: bad shape %d x %d x %d x %d", op, a, b, c, d);
        return false;
    }
    return true;
}

/* RGB to CHW planes (the seed model's input), 16 pixels per work-item,
 * in work-groups of up to 64 blocks: several groups per image keep every
 * core of a CPU busy. */
static clf_status rgb_to_planes(clf_ocl *o, int n_img, cl_uint hw, float scale, float shift,
                                clf_buf *src, size_t so, clf_buf *dst, size_t dso)
{
    cl_uint uso = (cl_uint)so, udo = (cl_uint)dso;
    size_t blocks = (hw + 15) / 16, local[2] = {0, 1}, global[2];
    clf_karg args[] = {CLF_ARG(hw),  CLF_ARG(scale),    CLF_ARG(shift), CLF_ARG(src->mem),
                       CLF_ARG(uso), CLF_ARG(dst->mem), CLF_ARG(udo)};

    local[0] = clf_ocl_group_size(o, CLF_K_rgb_to_planes, 64, 0);
    global[0] = (blocks + local[0] - 1) / local[0] * local[0];
    global[1] = (size_t)n_img;
    return clf_ocl_launch(o, CLF_K_rgb_to_planes, "u8_to_float", args, CLF_NARGS(args), 2,
                          global, local);
}

clf_status clf_ocl_u8_to_float(clf_backend *be, int n_img, int h, int w, int c, bool chw,
                               float scale, float shift, clf_buf *src, size_t so,
                               clf_buf *dst, size_t dso)
{
    clf_ocl *o = clf_ocl_of(be);
    size_t n, local[2] = {0, 1}, global[2];
    cl_uint hw = (cl_uint)h * (cl_uint)w, uc = (cl_uint)c, uso = (cl_uint)so,
            udo = (cl_uint)dso;
    cl_int layout = chw;

    if (!count4(n_img, h, w, c, "u8_to_float", &n) ||
        !clf_ocl_range(src, so, n, 1, "u8_to_float src") ||
        !clf_ocl_range(dst, dso, n, 4, "u8_to_float dst"))
        return CLF_ERR_ARG;
    if (n == 0)
        return CLF_OK;
    if (c == 3 && chw)
        return rgb_to_planes(o, n_img, hw, scale, shift, src, so, dst, dso);
    /* one work-item per pixel, images along the second dimension */
    local[0] = clf_ocl_group_size(o, CLF_K_u8_to_float, 256, 0);
    global[0] = (hw + local[0] - 1) / local[0] * local[0];
    global[1] = (size_t)n_img;
    clf_karg args[] = {CLF_ARG(hw),       CLF_ARG(uc),  CLF_ARG(layout),   CLF_ARG(scale),
                       CLF_ARG(shift),    CLF_ARG(src->mem), CLF_ARG(uso), CLF_ARG(dst->mem),
                       CLF_ARG(udo)};
    return clf_ocl_launch(o, CLF_K_u8_to_float, "u8_to_float", args, CLF_NARGS(args), 2,
                          global, local);
}

clf_status clf_ocl_zero_pad(clf_backend *be, int n, int h, int w, int c, int top, int bottom,
                            int left, int right, clf_buf *x, size_t xo, clf_buf *y,
                            size_t yo)
{
    size_t nx, ny;
    int oh = h + top + bottom, ow = w + left + right;
    cl_uint uh = (cl_uint)h, uw = (cl_uint)w, uc = (cl_uint)c, ut = (cl_uint)top,
            ul = (cl_uint)left, uoh = (cl_uint)oh, uow = (cl_uint)ow, uxo = (cl_uint)xo,
            uyo = (cl_uint)yo, total;

    if (top < 0 || bottom < 0 || left < 0 || right < 0 || !count4(n, h, w, c, "zero_pad", &nx) ||
        !count4(n, oh, ow, c, "zero_pad", &ny) || !clf_ocl_range(x, xo, nx, 4, "zero_pad x") ||
        !clf_ocl_range(y, yo, ny, 4, "zero_pad y"))
        return CLF_ERR_ARG;
    total = (cl_uint)ny;
    clf_karg args[] = {CLF_ARG(total), CLF_ARG(uh),  CLF_ARG(uw),     CLF_ARG(uc),
                       CLF_ARG(ut),    CLF_ARG(ul),  CLF_ARG(uoh),    CLF_ARG(uow),
                       CLF_ARG(x->mem), CLF_ARG(uxo), CLF_ARG(y->mem), CLF_ARG(uyo)};
    return clf_ocl_launch_1d(clf_ocl_of(be), CLF_K_zero_pad, "zero_pad", args,
                             CLF_NARGS(args), ny);
}

clf_status clf_ocl_add(clf_backend *be, size_t n, clf_buf *a, size_t ao, clf_buf *b,
                       size_t bo, clf_act act, clf_buf *y, size_t yo)
{
    cl_uint un = (cl_uint)n, uao = (cl_uint)ao, ubo = (cl_uint)bo, uyo = (cl_uint)yo;
    cl_int kind = (cl_int)act.kind;

    if (!clf_ocl_range(a, ao, n, 4, "add a") || !clf_ocl_range(b, bo, n, 4, "add b") ||
        !clf_ocl_range(y, yo, n, 4, "add y"))
        return CLF_ERR_ARG;
    clf_karg args[] = {CLF_ARG(un),   CLF_ARG(a->mem),  CLF_ARG(uao),    CLF_ARG(b->mem),
                       CLF_ARG(ubo),  CLF_ARG(kind),    CLF_ARG(act.max), CLF_ARG(y->mem),
                       CLF_ARG(uyo)};
    return clf_ocl_launch_1d(clf_ocl_of(be), CLF_K_add_act, "add", args, CLF_NARGS(args), n);
}

clf_status clf_ocl_channel_affine(clf_backend *be, int rows, int c, clf_buf *x, size_t xo,
                                  clf_buf *scale, size_t so, clf_buf *shift, size_t sho,
                                  clf_act act, clf_buf *y, size_t yo)
{
    size_t n;
    cl_uint total, uc = (cl_uint)c, uxo = (cl_uint)xo, uso = (cl_uint)so, usho = (cl_uint)sho,
                   uyo = (cl_uint)yo;
    cl_int kind = (cl_int)act.kind;

    if (!count4(rows, c, 1, 1, "channel_affine", &n) ||
        !clf_ocl_range(x, xo, n, 4, "channel_affine x") ||
        !clf_ocl_range(scale, so, (size_t)c, 4, "channel_affine scale") ||
        !clf_ocl_range(shift, sho, (size_t)c, 4, "channel_affine shift") ||
        !clf_ocl_range(y, yo, n, 4, "channel_affine y"))
        return CLF_ERR_ARG;
    total = (cl_uint)n;
    clf_karg args[] = {CLF_ARG(total),    CLF_ARG(uc),         CLF_ARG(x->mem),
                       CLF_ARG(uxo),      CLF_ARG(scale->mem), CLF_ARG(uso),
                       CLF_ARG(shift->mem), CLF_ARG(usho),     CLF_ARG(kind),
                       CLF_ARG(act.max),  CLF_ARG(y->mem),     CLF_ARG(uyo)};
    return clf_ocl_launch_1d(clf_ocl_of(be), CLF_K_channel_affine, "channel_affine", args,
                             CLF_NARGS(args), n);
}
