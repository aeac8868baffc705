/* GEMM, row-major, on the backend's queue: through CLBlast, except the
 * skinny shapes of small dense models, which CLBlast runs on one or two
 * work-groups (about 27 ms for 12 x 4 x 150528 on PoCL): a long k with a
 * small output goes to a split-k kernel, a short k with a thin output to
 * a plain one-output-per-work-item kernel (cl/gemm.cl). */
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

/* Shapes the kernels of cl/gemm.cl take instead of CLBlast. */
#define GEMM_MAX_N 16 /* as in cl/gemm.cl */
#define SPLIT_K_MAX_M 64
#define SPLIT_K_MIN_K 2048
#define SMALL_K_MAX_K 16
#define SMALL_K_ROWS 4 /* rows of D per work-item, as in cl/gemm.cl */

/* One GEMM as the kernels take it: D = op(A) op(B), n <= GEMM_MAX_N;
 * D is C or, with ct, C's transpose. */
typedef struct gemm_args {
    cl_uint m, n, k, ao, lda, bo, ldb, b_len, co, ldc;
    cl_int ta, tb, ct;
    cl_mem a, b, c;
} gemm_args;

static cl_uint floats_in(const clf_buf *b)
{
    size_t n = b->bytes / sizeof(float);

    return n > UINT32_MAX ? UINT32_MAX : (cl_uint)n;
}

/* Fills g when the shape suits the kernels: a thin n directly, a thin m
 * as C^T = op(B)^T op(A)^T. *split tells which kernel. */
static bool skinny(bool ta, bool tb, int m, int n, int k, clf_buf *a, size_t ao, int lda,
                   clf_buf *b, size_t bo, int ldb, clf_buf *c, size_t co, int ldc,
                   gemm_args *g, bool *split)
{
    bool long_k = k >= SPLIT_K_MIN_K, short_k = k <= SMALL_K_MAX_K;
    bool direct = n <= GEMM_MAX_N && (short_k || (long_k && m <= SPLIT_K_MAX_M));
    bool swapped = m <= GEMM_MAX_N && (short_k || (long_k && n <= SPLIT_K_MAX_M));
    gemm_args d = {(cl_uint)m, (cl_uint)n,   (cl_uint)k,   (cl_uint)ao, (cl_uint)lda,
                   (cl_uint)bo, (cl_uint)ldb, floats_in(b), (cl_uint)co, (cl_uint)ldc,
                   ta, tb, 0, a->mem, b->mem, c->mem};
    gemm_args t = {(cl_uint)n, (cl_uint)m,   (cl_uint)k,   (cl_uint)bo, (cl_uint)ldb,
                   (cl_uint)ao, (cl_uint)lda, floats_in(a), (cl_uint)co, (cl_uint)ldc,
                   !tb, !ta, 1, b->mem, a->mem, c->mem};

    if (!direct && !swapped)
        return false;
    *g = direct ? d : t;
    *split = long_k;
    return true;
}

static clf_status small_k(clf_ocl *o, const gemm_args *g, float alpha, float beta)
{
    clf_karg args[] = {CLF_ARG(g->m),   CLF_ARG(g->n),     CLF_ARG(g->k),  CLF_ARG(g->ta),
                       CLF_ARG(g->tb),  CLF_ARG(g->ct),    CLF_ARG(alpha), CLF_ARG(g->a),
                       CLF_ARG(g->ao),  CLF_ARG(g->lda),   CLF_ARG(g->b),  CLF_ARG(g->bo),
                       CLF_ARG(g->ldb), CLF_ARG(g->b_len), CLF_ARG(beta),  CLF_ARG(g->c),
                       CLF_ARG(g->co),  CLF_ARG(g->ldc)};

    return clf_ocl_launch_1d(o, CLF_K_gemm_small_k, "gemm", args, CLF_NARGS(args),
                             (g->m + SMALL_K_ROWS - 1) / SMALL_K_ROWS);
}

/* About 512 slices of k (at least 64 long): enough work-items to keep a
 * device busy, partial sums few enough to add up quickly. */
static clf_status split_k(clf_backend *be, const gemm_args *g, float alpha, float beta)
{
    clf_ocl *o = clf_ocl_of(be);
    cl_uint slice = (g->k + 511) / 512, slices;
    clf_buf *part;
    clf_status st;

    slice = slice < 64 ? 64 : slice;
    slices = (g->k + slice - 1) / slice;
    st = clf_ocl_scratch(be, CLF_SCRATCH_GEMM, (size_t)slices * g->m * g->n * sizeof(float),
                         &part);
    if (st != CLF_OK)
        return st;
    clf_karg pa[] = {CLF_ARG(g->m),     CLF_ARG(g->n),   CLF_ARG(g->k),   CLF_ARG(slice),
                     CLF_ARG(g->ta),    CLF_ARG(g->tb),  CLF_ARG(g->a),   CLF_ARG(g->ao),
                     CLF_ARG(g->lda),   CLF_ARG(g->b),   CLF_ARG(g->bo),  CLF_ARG(g->ldb),
                     CLF_ARG(g->b_len), CLF_ARG(slices), CLF_ARG(part->mem)};
    st = clf_ocl_launch_1d(o, CLF_K_gemm_split_k, "gemm", pa, CLF_NARGS(pa),
                           (size_t)g->m * slices);
    if (st != CLF_OK)
        return st;
    clf_karg sa[] = {CLF_ARG(g->m), CLF_ARG(g->n),  CLF_ARG(slices), CLF_ARG(part->mem),
                     CLF_ARG(alpha), CLF_ARG(beta), CLF_ARG(g->ct),  CLF_ARG(g->c),
                     CLF_ARG(g->co), CLF_ARG(g->ldc)};
    return clf_ocl_launch_1d(o, CLF_K_gemm_split_k_sum, "gemm", sa, CLF_NARGS(sa),
                             (size_t)g->m * g->n);
}

/* For CPU devices: a plain A B with a long k and few rows or columns of
 * C goes to gemm_k_slices (each work-item 16 rows of A by 16 columns of
 * B over o->k_slice of k, 1024 unless tuned), whose slices
 * gemm_split_k_sum then adds. */
#define KS_ROWS 16 /* as in cl/gemm.cl */
#define KS_MAX_M 64
#define KS_MAX_N 256

static bool k_slices_fit(const clf_ocl *o, bool ta, bool tb, int m, int n, int k)
{
    return o->cpu_kernels && o->skinny_gemm && !ta && !tb && k >= SPLIT_K_MIN_K &&
           m <= KS_MAX_M && n <= KS_MAX_N;
}

static clf_status k_slices(clf_backend *be, int m, int n, int k, float alpha, clf_buf *a,
                           size_t ao, int lda, clf_buf *b, size_t bo, int ldb, float beta,
                           clf_buf *c, size_t co, int ldc)
{
    clf_ocl *o = clf_ocl_of(be);
    cl_uint um = (cl_uint)m, un = (cl_uint)n, uk = (cl_uint)k, slice = (cl_uint)o->k_slice,
            uao = (cl_uint)ao,
            ulda = (cl_uint)lda, ubo = (cl_uint)bo, uldb = (cl_uint)ldb, blen = floats_in(b),
            uco = (cl_uint)co, uldc = (cl_uint)ldc, slices = (uk + slice - 1) / slice;
    cl_int ct = 0;
    size_t global[3] = {slices, ((size_t)m + KS_ROWS - 1) / KS_ROWS, ((size_t)n + 15) / 16};
    size_t local[3] = {1, 1, 1};
    clf_buf *part;
    clf_status st = clf_ocl_scratch(be, CLF_SCRATCH_GEMM,
                                    (size_t)slices * (size_t)m * (size_t)n * sizeof(float),
                                    &part);

    if (st != CLF_OK)
        return st;
    clf_karg pa[] = {CLF_ARG(um),   CLF_ARG(un),     CLF_ARG(uk),  CLF_ARG(slice),
                     CLF_ARG(a->mem), CLF_ARG(uao),  CLF_ARG(ulda), CLF_ARG(b->mem),
                     CLF_ARG(ubo),  CLF_ARG(uldb),   CLF_ARG(blen), CLF_ARG(part->mem)};
    st = clf_ocl_launch(o, CLF_K_gemm_k_slices, "gemm", pa, CLF_NARGS(pa), 3, global, local);
    if (st != CLF_OK)
        return st;
    clf_karg sa[] = {CLF_ARG(um),    CLF_ARG(un),   CLF_ARG(slices), CLF_ARG(part->mem),
                     CLF_ARG(alpha), CLF_ARG(beta), CLF_ARG(ct),     CLF_ARG(c->mem),
                     CLF_ARG(uco),   CLF_ARG(uldc)};
    return clf_ocl_launch_1d(o, CLF_K_gemm_split_k_sum, "gemm", sa, CLF_NARGS(sa),
                             (size_t)m * (size_t)n);
}

/* For CPU devices: a plain A B of any other shape goes to gemm_tile, a
 * register tile of GT_R x 16 GT_V per work-item (build options, see
 * clfit tune), after gemm_pack_a and gemm_pack_b have laid A and B out in
 * panels. CLBlast takes the transposed cases. */
static clf_status pack(clf_ocl *o, clf_buf *pk, cl_uint um, cl_uint un, cl_uint uk,
                       clf_buf *a, cl_uint uao, cl_uint ulda, clf_buf *b, cl_uint ubo,
                       cl_uint uldb, cl_uint boff, size_t apanels, cl_uint per)
{
    size_t local[2] = {1, 1}, one = 1, kk = uk;
    size_t pa_global[2] = {(kk + 255) / 256, (apanels + per - 1) / per};
    clf_karg pa[] = {CLF_ARG(um), CLF_ARG(uk), CLF_ARG(a->mem), CLF_ARG(uao), CLF_ARG(ulda),
                     CLF_ARG(pk->mem), CLF_ARG(per)};
    clf_karg pb[] = {CLF_ARG(uk), CLF_ARG(un), CLF_ARG(b->mem), CLF_ARG(ubo), CLF_ARG(uldb),
                     CLF_ARG(pk->mem), CLF_ARG(boff)};
    clf_status st = clf_ocl_launch(o, CLF_K_gemm_pack_a, "gemm", pa, CLF_NARGS(pa), 2,
                                   pa_global, local);

    if (st == CLF_OK)
        st = clf_ocl_launch(o, CLF_K_gemm_pack_b, "gemm", pb, CLF_NARGS(pb), 1, &kk, &one);
    return st;
}

/* C = act(alpha A B + beta C + bias) through gemm_tile; bias may be NULL. */
static clf_status tile(clf_backend *be, int m, int n, int k, float alpha, clf_buf *a,
                       size_t ao, int lda, clf_buf *b, size_t bo, int ldb, float beta,
                       clf_buf *c, size_t co, int ldc, clf_buf *bias, size_t bias_off,
                       clf_act act)
{
    clf_ocl *o = clf_ocl_of(be);
    cl_uint um = (cl_uint)m, un = (cl_uint)n, uk = (cl_uint)k, uao = (cl_uint)ao,
            ulda = (cl_uint)lda, ubo = (cl_uint)bo, uldb = (cl_uint)ldb, uco = (cl_uint)co,
            uldc = (cl_uint)ldc, ubias = (cl_uint)bias_off;
    cl_int has_bias = bias != NULL, kind = (cl_int)act.kind;
    cl_mem bmem = clf_ocl_mem(bias);
    size_t cols = 16 * (size_t)o->gemm_v, bpanels = ((size_t)n + cols - 1) / cols;
    size_t apanels = ((size_t)m + o->gemm_r - 1) / o->gemm_r;
    size_t bfloats = bpanels * cols * (size_t)k, afloats = apanels * o->gemm_r * (size_t)k;
    /* row panels per work-item: few work-groups (each costs PoCL about a
     * microsecond), yet several per core */
    cl_uint per = (cl_uint)(apanels / 64 < 1 ? 1 : apanels / 64 > 16 ? 16 : apanels / 64);
    size_t global[2] = {(apanels + per - 1) / per, bpanels}, local[2] = {1, 1};
    cl_uint boff = (cl_uint)afloats;
    clf_buf *pk;
    clf_status st = clf_ocl_scratch(be, CLF_SCRATCH_PACK, (afloats + bfloats) * 4, &pk);

    if (st != CLF_OK)
        return st;
    if (!clf_ocl_range(pk, 0, afloats + bfloats, 4, "gemm packing"))
        return CLF_ERR_UNSUPPORTED;
    st = pack(o, pk, um, un, uk, a, uao, ulda, b, ubo, uldb, boff, apanels, per);
    if (st != CLF_OK)
        return st;
    clf_karg ta[] = {CLF_ARG(um),    CLF_ARG(un),      CLF_ARG(uk),    CLF_ARG(alpha),
                     CLF_ARG(pk->mem), CLF_ARG(pk->mem), CLF_ARG(boff), CLF_ARG(beta),
                     CLF_ARG(c->mem), CLF_ARG(uco),    CLF_ARG(uldc),  CLF_ARG(bmem),
                     CLF_ARG(ubias), CLF_ARG(has_bias), CLF_ARG(kind), CLF_ARG(act.max),
                     CLF_ARG(per)};
    return clf_ocl_launch(o, CLF_K_gemm_tile, "gemm", ta, CLF_NARGS(ta), 2, global, local);
}

clf_status clf_ocl_gemm_bias_act(clf_backend *be, int m, int n, int k, clf_buf *a, size_t ao,
                                 int lda, clf_buf *b, size_t bo, int ldb, clf_buf *c,
                                 size_t co, int ldc, clf_buf *bias, size_t bias_off,
                                 clf_act act)
{
    clf_ocl *o = clf_ocl_of(be);

    if (!o->cpu_kernels || !o->skinny_gemm || m <= 0 || n <= 0 || k <= 0)
        return CLF_ERR_UNSUPPORTED;
    return tile(be, m, n, k, 1.0f, a, ao, lda, b, bo, ldb, 0.0f, c, co, ldc, bias, bias_off,
                act);
}

clf_status clf_ocl_gemm(clf_backend *be, bool ta, bool tb, int m, int n, int k, float alpha,
                        clf_buf *a, size_t ao, int lda, clf_buf *b, size_t bo, int ldb,
                        float beta, clf_buf *c, size_t co, int ldc)
{
    clf_ocl *o = clf_ocl_of(be);
    clf_status st = CLF_OK;
    gemm_args g;
    bool split;

    if (m < 0 || n < 0 || k < 0 || lda < (ta ? m : k) || ldb < (tb ? k : n) || ldc < n) {
        CLF_LOG_ERROR("opencl gemm: bad shape %s%s %d x %d x %d (lda %d, ldb %d, ldc %d): a "
                      "leading dimension is shorter than its row", ta ? "T" : "N",
                      tb ? "T" : "N", m, n, k, lda, ldb, ldc);
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
    if (k_slices_fit(o, ta, tb, m, n, k))
        return k_slices(be, m, n, k, alpha, a, ao, lda, b, bo, ldb, beta, c, co, ldc);
    if (o->skinny_gemm &&
        skinny(ta, tb, m, n, k, a, ao, lda, b, bo, ldb, c, co, ldc, &g, &split))
        return split ? split_k(be, &g, alpha, beta) : small_k(o, &g, alpha, beta);

    if (o->cpu_kernels && o->skinny_gemm && !ta && !tb)
        return tile(be, m, n, k, alpha, a, ao, lda, b, bo, ldb, beta, c, co, ldc, NULL, 0,
                    (clf_act){CLF_ACT_NONE, 0.0f});

    CLF_CLBLAST_CHECK(CLBlastSgemm(CLBlastLayoutRowMajor,
                                   ta ? CLBlastTransposeYes : CLBlastTransposeNo,
                                   tb ? CLBlastTransposeYes : CLBlastTransposeNo, (size_t)m,
                                   (size_t)n, (size_t)k, alpha, a->mem, ao, (size_t)lda,
                                   b->mem, bo, (size_t)ldb, beta, c->mem, co, (size_t)ldc,
                                   &o->queue, clf_ocl_prof_event(o)));
    clf_ocl_prof_keep(o, "clblast_sgemm");
cleanup:
    if (st != CLF_OK)
        CLF_LOG_ERROR("opencl gemm: %s%s %d x %d x %d (lda %d, ldb %d, ldc %d) failed",
                      ta ? "T" : "N", tb ? "T" : "N", m, n, k, lda, ldb, ldc);
    return st;
}
