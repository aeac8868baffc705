/* clfit bench gemm: SGEMM GFLOP/s of the backend's gemm op (row-major,
 * C = op(A) op(B)) for the seed model's skinny shapes and square ones. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "backend/backend.h"
#include "clfit/log.h"

#include "args.h"
#include "bench.h"
#include "commands.h"
#include "core/rng.h"

typedef struct gemm_shape {
    int m, n, k;
    bool ta, tb;
} gemm_shape;

enum { MAX_SHAPES = 32 };

/* The seed's shapes (forward X W, dW = X^T dY, dX = dY W^T, 10 and 4
 * classes) and square ones. */
static const gemm_shape default_shapes[] = {
    {12, 10, 150528, false, false}, {12, 4, 150528, false, false},
    {150528, 10, 12, true, false},  {12, 150528, 10, false, true},
    {256, 256, 256, false, false},  {512, 512, 512, false, false},
    {1024, 1024, 1024, false, false},
};

typedef struct gemm_opts {
    const char *device;
    gemm_shape shapes[MAX_SHAPES];
    int n_shapes, repeat;
} gemm_opts;

enum { OPT_DEVICE = 256, OPT_SHAPE, OPT_REPEAT };

static const struct option gemm_options[] = {
    {"device", required_argument, NULL, OPT_DEVICE},
    {"shape", required_argument, NULL, OPT_SHAPE},
    {"repeat", required_argument, NULL, OPT_REPEAT},
    {NULL, 0, NULL, 0},
};

/* "MxNxK" or "MxNxK:TT" (TA TB each N or T). */
static bool parse_shape(const char *v, gemm_shape *s)
{
    char t[3] = "NN";
    int used = 0;

    if (sscanf(v, "%dx%dx%d%n", &s->m, &s->n, &s->k, &used) != 3 || s->m < 1 || s->n < 1 ||
        s->k < 1 || s->m > 1 << 20 || s->n > 1 << 20 || s->k > 1 << 20 ||
        (v[used] && (sscanf(v + used, ":%2[NT]", t) != 1 || strlen(v + used) != 3))) {
        usage_error("--shape", "'%s' is not MxNxK or MxNxK:TT (each side 1..2^20)", v);
        return false;
    }
    s->ta = t[0] == 'T';
    s->tb = t[1] == 'T';
    return true;
}

static int parse_gemm(int argc, char **argv, gemm_opts *o)
{
    long n;
    int c;

    memset(o, 0, sizeof *o);
    o->repeat = 5;
    optind = 1;
    while ((c = next_option(argc, argv, gemm_options)) != -1) {
        if (c == '?')
            return EXIT_USAGE;
        if (c == OPT_DEVICE && valid_device_spec("--device", optarg))
            o->device = optarg;
        else if (c == OPT_REPEAT && parse_int("--repeat", optarg, 1, 1000, &n))
            o->repeat = (int)n;
        else if (c == OPT_SHAPE && o->n_shapes < MAX_SHAPES &&
                 parse_shape(optarg, &o->shapes[o->n_shapes]))
            o->n_shapes++;
        else
            return c == OPT_SHAPE && o->n_shapes == MAX_SHAPES
                       ? usage_error("--shape", "at most %d shapes", MAX_SHAPES)
                       : EXIT_USAGE;
    }
    if (optind != argc)
        return usage_error("bench gemm", "takes no positional arguments");
    if (o->n_shapes == 0) {
        o->n_shapes = (int)(sizeof default_shapes / sizeof default_shapes[0]);
        memcpy(o->shapes, default_shapes, sizeof default_shapes);
    }
    return 0;
}

/* A device buffer of n floats, uniform in [-1, 1). */
static clf_status random_buf(clf_backend *be, size_t n, uint64_t seed, clf_buf **out)
{
    float *h = malloc(n * sizeof *h);
    clf_status st;
    clf_rng r;

    if (!h)
        return CLF_ERR_NOMEM;
    clf_rng_seed(&r, seed);
    for (size_t i = 0; i < n; i++)
        h[i] = (float)((double)(clf_rng_next(&r) >> 11) * 0x1p-52 - 1.0);
    st = be->ops->buf_new(be, n * sizeof *h, "bench", out);
    if (st == CLF_OK)
        st = be->ops->write(be, *out, 0, h, n * sizeof *h);
    free(h);
    return st;
}

static clf_status gemm_once(clf_backend *be, const gemm_shape *s, clf_buf *a, clf_buf *b,
                            clf_buf *c)
{
    int lda = s->ta ? s->m : s->k, ldb = s->tb ? s->k : s->n;
    clf_status st = be->ops->gemm(be, s->ta, s->tb, s->m, s->n, s->k, 1.0f, a, 0, lda, b, 0,
                                  ldb, 0.0f, c, 0, s->n);

    return st == CLF_OK ? be->ops->finish(be) : st;
}

/* Median time of `repeat` calls after one untimed call (which builds
 * whatever the library builds lazily). */
static clf_status time_shape(clf_backend *be, const gemm_shape *s, int repeat, double *ms)
{
    clf_buf *a = NULL, *b = NULL, *c = NULL;
    double t[1000];
    clf_status st = random_buf(be, (size_t)s->m * (size_t)s->k, 1, &a);

    if (st == CLF_OK)
        st = random_buf(be, (size_t)s->k * (size_t)s->n, 2, &b);
    if (st == CLF_OK)
        st = random_buf(be, (size_t)s->m * (size_t)s->n, 3, &c);
    if (st == CLF_OK)
        st = gemm_once(be, s, a, b, c);
    for (int i = 0; i < repeat && st == CLF_OK; i++) {
        double t0 = bench_now();

        st = gemm_once(be, s, a, b, c);
        t[i] = (bench_now() - t0) * 1e3;
    }
    *ms = st == CLF_OK ? bench_median(t, (size_t)repeat) : 0.0;
    be->ops->buf_free(be, a);
    be->ops->buf_free(be, b);
    be->ops->buf_free(be, c);
    return st;
}

int bench_gemm(int argc, char **argv)
{
    gemm_opts o;
    clf_backend *be;
    clf_status st = CLF_OK;
    int rc = parse_gemm(argc, argv, &o);

    if (rc)
        return rc;
    be = open_device(o.device);
    if (!be)
        return 1;
    for (int i = 0; i < o.n_shapes && st == CLF_OK; i++) {
        const gemm_shape *s = &o.shapes[i];
        double ms, gf;
        char name[96];

        st = time_shape(be, s, o.repeat, &ms);
        if (st != CLF_OK)
            break;
        gf = 2.0 * s->m * s->n * (double)s->k / (ms * 1e-3) * 1e-9;
        printf("sgemm %dx%dx%d %c%c: %.3f ms, %.1f GFLOP/s (median of %d)\n", s->m, s->n,
               s->k, s->ta ? 'T' : 'N', s->tb ? 'T' : 'N', ms, gf, o.repeat);
        snprintf(name, sizeof name, "sgemm_gflops_%dx%dx%d_%c%c", s->m, s->n, s->k,
                 s->ta ? 'T' : 'N', s->tb ? 'T' : 'N');
        bench_result(name, gf, "GFLOP/s");
    }
    clf_backend_close(be);
    if (st != CLF_OK)
        fprintf(stderr, "clfit: bench gemm failed: %s\n", clf_status_message(st));
    return st == CLF_OK ? 0 : 1;
}
