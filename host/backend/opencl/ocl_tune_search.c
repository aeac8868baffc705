/* The search behind `clfit tune` (ocl_tune.h): each candidate is checked
 * against a host computation, then timed (median of a few runs). */
#include "backend/opencl/ocl_tune.h"

#include <clblast_c.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "backend/opencl/cl_sources.h"
#include "backend/opencl/ocl.h"
#include "clfit/log.h"
#include "core/rng.h"

typedef struct shape {
    int m, n, k;
    bool ta;
} shape;

/* Operands of one shape on the device, and C computed on the host. */
typedef struct operands {
    shape s;
    clf_buf *a, *b, *c;
    float *want;
    double *scale; /* per output: sum |a b|, for the check */
} operands;

typedef struct search {
    clf_backend *be;
    clf_ocl *o;
    const clf_tune_opts *opts;
    int reps;
} search;

static void say(const search *s, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static void say(const search *s, const char *fmt, ...)
{
    char line[256];
    va_list ap;

    if (!s->opts->say)
        return;
    va_start(ap, fmt);
    vsnprintf(line, sizeof line, fmt, ap);
    va_end(ap);
    s->opts->say(s->opts->user, line);
}

static double now(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

/* ---- operands ---------------------------------------------------------- */

static void operands_free(clf_backend *be, operands *op)
{
    be->ops->buf_free(be, op->a);
    be->ops->buf_free(be, op->b);
    be->ops->buf_free(be, op->c);
    free(op->want);
    free(op->scale);
    memset(op, 0, sizeof *op);
}

/* C = op(A) B on the host in double, and each output's scale. A is m x k
 * (or k x m stored, when transposed), B k x n, row-major. */
static void host_gemm(const shape *s, const float *a, const float *b, float *c, double *scale)
{
    for (int i = 0; i < s->m; i++)
        for (int j = 0; j < s->n; j++) {
            double sum = 0.0, abs_sum = 0.0;

            for (int p = 0; p < s->k; p++) {
                double x = s->ta ? a[(size_t)p * s->m + i] : a[(size_t)i * s->k + p];
                double y = b[(size_t)p * s->n + j];

                sum += x * y;
                abs_sum += fabs(x * y);
            }
            c[(size_t)i * s->n + j] = (float)sum;
            scale[(size_t)i * s->n + j] = abs_sum;
        }
}

static clf_status upload(clf_backend *be, const float *h, size_t n, clf_buf **out)
{
    clf_status st = be->ops->buf_new(be, n * sizeof *h, "tuning operand", out);

    return st == CLF_OK ? be->ops->write(be, *out, 0, h, n * sizeof *h) : st;
}

static clf_status operands_make(clf_backend *be, shape s, operands *op)
{
    size_t na = (size_t)s.m * s.k, nb = (size_t)s.k * s.n, nc = (size_t)s.m * s.n;
    float *a = malloc(na * sizeof *a), *b = malloc(nb * sizeof *b);
    clf_status st = CLF_ERR_NOMEM;
    clf_rng r;

    memset(op, 0, sizeof *op);
    op->s = s;
    op->want = malloc(nc * sizeof *op->want);
    op->scale = malloc(nc * sizeof *op->scale);
    if (a && b && op->want && op->scale) {
        clf_rng_seed(&r, (uint64_t)s.m * 7919u + (uint64_t)s.k);
        for (size_t i = 0; i < na; i++)
            a[i] = (float)((double)(clf_rng_next(&r) >> 11) * 0x1p-53 - 0.5);
        for (size_t i = 0; i < nb; i++)
            b[i] = (float)((double)(clf_rng_next(&r) >> 11) * 0x1p-53 - 0.5);
        host_gemm(&s, a, b, op->want, op->scale);
        st = upload(be, a, na, &op->a);
        if (st == CLF_OK)
            st = upload(be, b, nb, &op->b);
        if (st == CLF_OK)
            st = be->ops->buf_new(be, nc * sizeof(float), "tuning result", &op->c);
    }
    free(a);
    free(b);
    if (st != CLF_OK)
        operands_free(be, op);
    return st;
}

/* ---- running and timing ------------------------------------------------ */

/* One GEMM: through the backend's own dispatch, or straight to CLBlast. */
static clf_status run_once(const search *s, const operands *op, bool clblast)
{
    const shape *h = &op->s;
    clf_status st = CLF_OK;
    clf_ocl *o = s->o;

    if (!clblast) {
        st = s->be->ops->gemm(s->be, h->ta, false, h->m, h->n, h->k, 1.0f, op->a, 0,
                              h->ta ? h->m : h->k, op->b, 0, h->n, 0.0f, op->c, 0, h->n);
        return st == CLF_OK ? s->be->ops->finish(s->be) : st;
    }
    CLF_CLBLAST_CHECK(CLBlastSgemm(CLBlastLayoutRowMajor,
                                   h->ta ? CLBlastTransposeYes : CLBlastTransposeNo,
                                   CLBlastTransposeNo, (size_t)h->m, (size_t)h->n,
                                   (size_t)h->k, 1.0f, op->a->mem, 0,
                                   (size_t)(h->ta ? h->m : h->k), op->b->mem, 0,
                                   (size_t)h->n, 0.0f, op->c->mem, 0, (size_t)h->n, &o->queue,
                                   NULL));
    CLF_CL_CHECK(clFinish(o->queue));
cleanup:
    return st;
}

/* True when the device's C matches the host's (the tests' tolerance). */
static bool result_ok(const search *s, const operands *op)
{
    size_t n = (size_t)op->s.m * op->s.n;
    float *got = malloc(n * sizeof *got);
    bool ok = got && s->be->ops->read(s->be, op->c, 0, got, n * sizeof *got) == CLF_OK;

    for (size_t i = 0; ok && i < n; i++)
        ok = fabs((double)got[i] - (double)op->want[i]) <= 1e-5 * op->scale[i] + 1e-30;
    free(got);
    return ok;
}

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;

    return (x > y) - (x < y);
}

/* Median seconds of s->reps runs after a checked first one; INFINITY for
 * a candidate that fails or computes a wrong result. */
static double timed(const search *s, const operands *op, bool clblast)
{
    double t[16];
    int reps = s->reps < 16 ? s->reps : 16;

    if (run_once(s, op, clblast) != CLF_OK || !result_ok(s, op))
        return INFINITY;
    for (int i = 0; i < reps; i++) {
        double t0 = now();

        if (run_once(s, op, clblast) != CLF_OK)
            return INFINITY;
        t[i] = now() - t0;
    }
    qsort(t, (size_t)reps, sizeof t[0], cmp_double);
    return t[reps / 2];
}

/* Sum over shapes of time / first candidate's time (1.0 for the first). */
static double score(const search *s, operands *ops, int n, double *base, bool clblast)
{
    double sum = 0.0;

    for (int i = 0; i < n; i++) {
        double t = timed(s, &ops[i], clblast);

        if (!isfinite(t))
            return INFINITY;
        if (base[i] <= 0.0)
            base[i] = t;
        sum += t / base[i];
    }
    return sum;
}

/* ---- clfit's own kernels ----------------------------------------------- */

static const char *source(const char *name, size_t *len)
{
    for (size_t i = 0; i < clf_cl_source_count; i++)
        if (!strcmp(clf_cl_sources[i].name, name)) {
            *len = clf_cl_sources[i].length;
            return clf_cl_sources[i].text;
        }
    return NULL;
}

/* The three gemm_tile kernels built with tile r x v into k[]. */
static clf_status build_tile(clf_ocl *o, int r, int v, cl_program *prog, cl_kernel k[3])
{
    static const char *const names[3] = {"gemm_pack_a", "gemm_pack_b", "gemm_tile"};
    const char *srcs[2];
    size_t lens[2];
    char saved[sizeof o->build_options], *cut;
    clf_status st;
    cl_int err = CL_SUCCESS;

    srcs[0] = source("common", &lens[0]);
    srcs[1] = source("gemm", &lens[1]);
    if (!srcs[0] || !srcs[1])
        return CLF_ERR_BUILD;
    memcpy(saved, o->build_options, sizeof saved);
    cut = strstr(o->build_options, " -DGT_R=");
    if (cut)
        snprintf(cut, sizeof o->build_options - (size_t)(cut - o->build_options),
                 " -DGT_R=%d -DGT_V=%d", r, v);
    st = clf_ocl_build(o, srcs, lens, 2, prog);
    memcpy(o->build_options, saved, sizeof saved);
    for (int i = 0; i < 3 && st == CLF_OK; i++) {
        k[i] = clCreateKernel(*prog, names[i], &err);
        CLF_CL_CHECK_ERR(clCreateKernel, err);
    }
cleanup:
    return st;
}

static const int tiles[][2] = {{6, 4}, {4, 4}, {8, 3}, {7, 4}, {12, 2}, {14, 2}, {8, 2},
                               {5, 4}, {16, 1}, {3, 4}};

/* Times one tile candidate with its kernels swapped into the backend. */
static double try_tile(search *s, operands *ops, int n, double *base, int r, int v)
{
    static const clf_ocl_kernel slot[3] = {CLF_K_gemm_pack_a, CLF_K_gemm_pack_b,
                                           CLF_K_gemm_tile};
    clf_ocl *o = s->o;
    cl_program prog = NULL;
    cl_kernel k[3] = {NULL, NULL, NULL}, keep[3];
    int keep_r = o->gemm_r, keep_v = o->gemm_v;
    double sc = INFINITY;

    if (build_tile(o, r, v, &prog, k) == CLF_OK) {
        for (int i = 0; i < 3; i++) {
            keep[i] = o->kernels[slot[i]];
            o->kernels[slot[i]] = k[i];
        }
        o->gemm_r = r;
        o->gemm_v = v;
        sc = score(s, ops, n, base, false);
        for (int i = 0; i < 3; i++)
            o->kernels[slot[i]] = keep[i];
        o->gemm_r = keep_r;
        o->gemm_v = keep_v;
    }
    for (int i = 0; i < 3; i++)
        if (k[i])
            clReleaseKernel(k[i]);
    if (prog)
        clReleaseProgram(prog);
    return sc;
}

static clf_status tune_tile(search *s, clf_tune *best)
{
    const shape all[] = {{1024, 1024, 1024, false}, {2048, 64, 576, false},
                         {384, 384, 384, false}};
    int n = s->opts->quick ? 1 : 3, count = sizeof tiles / sizeof tiles[0];
    operands ops[3];
    double base[3] = {0}, best_sc = INFINITY;
    clf_status st = CLF_OK;

    for (int i = 0; i < n && st == CLF_OK; i++)
        st = operands_make(s->be, all[i], &ops[i]);
    for (int c = 0; st == CLF_OK && c < (s->opts->quick ? 4 : count); c++) {
        double sc = try_tile(s, ops, n, base, tiles[c][0], tiles[c][1]);

        say(s, "gemm_tile %2d x %2d: %s%.3f (relative time, lower is better)", tiles[c][0],
            16 * tiles[c][1], isfinite(sc) ? "" : "failed ", isfinite(sc) ? sc : 0.0);
        if (sc < best_sc) {
            best_sc = sc;
            best->gemm_r = tiles[c][0];
            best->gemm_v = tiles[c][1];
        }
    }
    for (int i = 0; i < n; i++)
        operands_free(s->be, &ops[i]);
    return st;
}

static clf_status tune_slice(search *s, clf_tune *best)
{
    static const int slices[] = {1024, 256, 512, 2048, 4096};
    const shape all[] = {{12, 10, 150528, false}, {12, 4, 150528, false}};
    int n = s->opts->quick ? 1 : 2, keep = s->o->k_slice;
    operands ops[2];
    double base[2] = {0}, best_sc = INFINITY;
    clf_status st = CLF_OK;

    for (int i = 0; i < n && st == CLF_OK; i++)
        st = operands_make(s->be, all[i], &ops[i]);
    for (int c = 0; st == CLF_OK && c < 5; c++) {
        double sc;

        s->o->k_slice = slices[c];
        sc = score(s, ops, n, base, false);
        say(s, "gemm_k_slices slice %4d: %.3f", slices[c], isfinite(sc) ? sc : 0.0);
        if (sc < best_sc) {
            best_sc = sc;
            best->k_slice = slices[c];
        }
    }
    s->o->k_slice = keep;
    for (int i = 0; i < n; i++)
        operands_free(s->be, &ops[i]);
    return st;
}

/* ---- CLBlast ----------------------------------------------------------- */

typedef struct candidate {
    const char *kernel;
    int n;
    const char *names[16];
    size_t values[16];
} candidate;

#define XGEMM_NAMES                                                            \
    {"GEMMK", "KREG", "KWG", "KWI", "MDIMA", "MDIMC", "MWG", "NDIMB", "NDIMC", "NWG", "SA", \
     "SB", "STRM", "STRN", "VWM", "VWN"}
#define DIRECT_NAMES                                                           \
    {"KWID", "MDIMAD", "MDIMCD", "NDIMBD", "NDIMCD", "PADA", "PADB", "VWMD", "VWND", "WGD"}

/* Valid by CLBlast's constraints (MWG % (MDIMC VWM) == 0, NWG % (NDIMC
 * VWN) == 0, the same with MDIMA and NDIMB, KWG % (MDIMC NDIMC / MDIMA)
 * == 0, KWG % KWI == 0; likewise for the direct kernel with WGD). The
 * first of each group is CLBlast's default. */
static const candidate xgemm[] = {
    {"Xgemm", 16, XGEMM_NAMES, {0, 1, 32, 2, 16, 16, 64, 16, 16, 64, 0, 0, 0, 0, 2, 2}},
    {"Xgemm", 16, XGEMM_NAMES, {0, 1, 16, 2, 8, 8, 32, 8, 8, 32, 0, 0, 0, 0, 4, 4}},
    {"Xgemm", 16, XGEMM_NAMES, {0, 1, 32, 2, 8, 8, 64, 8, 8, 64, 0, 0, 0, 0, 8, 8}},
    {"Xgemm", 16, XGEMM_NAMES, {0, 1, 16, 1, 4, 4, 64, 4, 4, 64, 0, 0, 1, 0, 8, 8}},
    {"Xgemm", 16, XGEMM_NAMES, {0, 1, 32, 8, 8, 8, 128, 8, 8, 128, 0, 0, 1, 0, 8, 8}},
    {"Xgemm", 16, XGEMM_NAMES, {0, 1, 32, 2, 16, 16, 64, 16, 16, 64, 1, 1, 0, 0, 2, 2}},
};
static const candidate direct[] = {
    {"XgemmDirect", 10, DIRECT_NAMES, {2, 8, 8, 8, 8, 1, 1, 1, 1, 32}},
    {"XgemmDirect", 10, DIRECT_NAMES, {2, 8, 8, 8, 8, 1, 1, 4, 4, 32}},
    {"XgemmDirect", 10, DIRECT_NAMES, {2, 4, 4, 4, 4, 1, 1, 4, 4, 16}},
    {"XgemmDirect", 10, DIRECT_NAMES, {8, 8, 8, 8, 8, 0, 0, 8, 8, 64}},
};
static const candidate helpers[] = {
    {"Copy", 4, {"COPY_DIMX", "COPY_DIMY", "COPY_VW", "COPY_WPT"}, {8, 8, 1, 1}},
    {"Copy", 4, {"COPY_DIMX", "COPY_DIMY", "COPY_VW", "COPY_WPT"}, {16, 8, 4, 4}},
    {"Pad", 4, {"PAD_DIMX", "PAD_DIMY", "PAD_WPTX", "PAD_WPTY"}, {8, 8, 1, 1}},
    {"Pad", 4, {"PAD_DIMX", "PAD_DIMY", "PAD_WPTX", "PAD_WPTY"}, {16, 8, 4, 2}},
    {"Transpose", 4, {"TRA_DIM", "TRA_PAD", "TRA_SHUFFLE", "TRA_WPT"}, {8, 0, 0, 1}},
    {"Transpose", 4, {"TRA_DIM", "TRA_PAD", "TRA_SHUFFLE", "TRA_WPT"}, {16, 1, 0, 4}},
    {"Padtranspose", 3, {"PADTRA_PAD", "PADTRA_TILE", "PADTRA_WPT"}, {0, 8, 1}},
    {"Padtranspose", 3, {"PADTRA_PAD", "PADTRA_TILE", "PADTRA_WPT"}, {1, 16, 2}},
};

static bool apply(const search *s, const candidate *c)
{
    return CLBlastOverrideParameters(s->o->device, c->kernel, CLBlastPrecisionSingle,
                                     (size_t)c->n, (const char **)c->names, c->values) == 0;
}

/* Tries a group of candidates for one kernel; applies and records the
 * best (nothing is recorded when every one failed). */
static void tune_group(search *s, const candidate *cs, int count, operands *op, clf_tune *best)
{
    double base = 0.0, best_sc = INFINITY;
    int pick = -1;

    for (int c = 0; c < count; c++) {
        double sc = apply(s, &cs[c]) ? score(s, op, 1, &base, true) : INFINITY;

        say(s, "CLBlast %s candidate %d: %s%.3f", cs[c].kernel, c + 1,
            isfinite(sc) ? "" : "failed ", isfinite(sc) ? sc : 0.0);
        if (sc < best_sc) {
            best_sc = sc;
            pick = c;
        }
    }
    if (pick < 0 || best->n_clblast == CLF_TUNE_MAX_KERNELS)
        return;
    apply(s, &cs[pick]);
    clf_clblast_params *p = &best->clblast[best->n_clblast++];
    snprintf(p->kernel, sizeof p->kernel, "%s", cs[pick].kernel);
    p->n = cs[pick].n;
    for (int j = 0; j < p->n; j++) {
        snprintf(p->names[j], sizeof p->names[j], "%s", cs[pick].names[j]);
        p->values[j] = cs[pick].values[j];
    }
}

/* Xgemm and the helpers on a transposed 512^3 (CLBlast's indirect path:
 * helper kernels pad and transpose around Xgemm), XgemmDirect on 128^3. */
static clf_status tune_clblast(search *s, clf_tune *best)
{
    operands big, small;
    clf_status st = operands_make(s->be, (shape){512, 512, 512, true}, &big);

    if (st == CLF_OK)
        st = operands_make(s->be, (shape){128, 128, 128, true}, &small);
    if (st != CLF_OK) {
        operands_free(s->be, &big);
        return st;
    }
    tune_group(s, xgemm, s->opts->quick ? 2 : 6, &big, best);
    tune_group(s, direct, s->opts->quick ? 2 : 4, &small, best);
    for (int h = 0; h < 8; h += 2)
        tune_group(s, helpers + h, 2, &big, best);
    operands_free(s->be, &big);
    operands_free(s->be, &small);
    return CLF_OK;
}

clf_status clf_opencl_tune(clf_backend *be, const clf_tune_opts *opts, clf_tune *best)
{
    search s = {be, NULL, opts, opts->quick ? 3 : 5};
    clf_status st;

    if (!be || strcmp(be->ops->kind, "opencl") != 0) {
        CLF_LOG_ERROR("tune: only OpenCL devices have GEMM parameters to tune");
        return CLF_ERR_UNSUPPORTED;
    }
    s.o = clf_ocl_of(be);
    clf_tune_default(best);
    st = CLF_OK;
    if (s.o->cpu_kernels) {
        st = tune_tile(&s, best);
        if (st == CLF_OK)
            st = tune_slice(&s, best);
    } else {
        say(&s, "gemm_tile and gemm_k_slices run on CPU devices only: not tuned");
    }
    if (st == CLF_OK && opts->clblast)
        st = tune_clblast(&s, best);
    return st;
}
