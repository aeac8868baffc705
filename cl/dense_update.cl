/* A Dense layer's parameter gradients and the optimizer step on them in
 * one pass (backend.h, dense_update): the gradient of each weight is
 * formed in registers and used at once, so W, its slots and the batch are
 * each read once and the gradient is never stored.
 *
 * For weight (p, j), input p < in, unit j (the bias is row p == in, with
 * an input of 1):
 *   g = sum_r x[r][p] * dy[r][j]          (r in batch order)
 * then the update, written operation by operation as the adam and sgd
 * kernels (and the cpu backend) write it. Slots: adam m (s0) and v (s1);
 * sgd with momentum its velocity (s0); plain sgd none (may be NULL).
 *
 * When units <= 16 and the batch has at most 32 rows, work-item q owns
 * DU_SPAN blocks of 16 rows of W,
 * rows [128q, 128q + 128), as far as whole blocks go (long runs of X's
 * rows, cache lines not shared between cores); the work-items after
 * them own one leftover row each, and the last one the bias. */

#define OPT_ADAM 0
#define DU_ROWS 16      /* rows of W per work-item */
#define DU_SPAN 8       /* blocks of 16 rows per work-item */
#define DU_MAX_BATCH 32 /* batch rows the blocks' path keeps in private memory */

typedef struct opt_args {
    int kind;
    float lr, b1, b2, eps, momentum;
    int nesterov;
} opt_args;

/* One optimizer step on 16 weights with gradients g. */
void step16(const opt_args *o, float16 g, float16 *w, float16 *m, float16 *v)
{
    if (o->kind == OPT_ADAM) {
        *m += (g - *m) * (1.0f - o->b1);
        *v += (g * g - *v) * (1.0f - o->b2);
        *w -= o->lr * *m / (sqrt(*v) + o->eps);
    } else if (o->momentum == 0.0f) {
        *w -= o->lr * g;
    } else {
        *m = o->momentum * *m - o->lr * g;
        *w += o->nesterov ? o->momentum * *m - o->lr * g : *m;
    }
}

/* The first n (1..16) floats at p as a float16; other lanes are 0. */
float16 load_part(const global float *p, uint n)
{
    float t[16];

    if (n == 16)
        return vload16(0, p);
    for (uint j = 0; j < 16; j++)
        t[j] = j < n ? p[j] : 0.0f;
    return vload16(0, t);
}

/* Stores the first n (1..16) lanes of v at p. */
void store_part(float16 v, global float *p, uint n)
{
    float t[16];

    if (n == 16) {
        vstore16(v, 0, p);
        return;
    }
    vstore16(v, 0, t);
    for (uint j = 0; j < n; j++)
        p[j] = t[j];
}

/* One row of W (or the bias) with its slots, in blocks of 16 units. xp is
 * x + p (column p of X), NULL for the bias. */
void update_row(const opt_args *o, uint rows, uint units, const global float *xp, uint ldx,
                const global float *dy, global float *w, global float *m, global float *v)
{
    bool slot0 = o->kind == OPT_ADAM || o->momentum != 0.0f;

    for (uint j0 = 0; j0 < units; j0 += 16) {
        uint nj = min(16u, units - j0);
        float16 g = 0.0f, wv, mv = 0.0f, vv = 0.0f;

        for (uint r = 0; r < rows; r++)
            g += (xp ? xp[r * ldx] : 1.0f) * load_part(dy + r * units + j0, nj);
        wv = load_part(w + j0, nj);
        if (slot0)
            mv = load_part(m + j0, nj);
        if (o->kind == OPT_ADAM)
            vv = load_part(v + j0, nj);
        step16(o, g, &wv, &mv, &vv);
        store_part(wv, w + j0, nj);
        if (slot0)
            store_part(mv, m + j0, nj);
        if (o->kind == OPT_ADAM)
            store_part(vv, v + j0, nj);
    }
}

/* 16 rows of W when units <= 16, with dY's rows as float16s. The block's
 * weights are 16 * units contiguous floats, a whole number of float16s:
 * the gradients go into a private copy of that layout (each row's float16
 * store spills into the next row's place, which that row then
 * overwrites), and the update runs over it in full vectors. */
void update_block(const opt_args *o, uint rows, uint units, const global float *x, uint ldx,
                  const float16 *dyv, global float *w, global float *m, global float *v)
{
    bool slot0 = o->kind == OPT_ADAM || o->momentum != 0.0f;
    float g[DU_ROWS * 16 + 16];
    uint chunks = units; /* 16 * units floats = units float16s */
    float16 acc[DU_ROWS];

#pragma unroll
    for (uint i = 0; i < DU_ROWS; i++)
        acc[i] = 0.0f;
    /* batch rows outside, so the 16 sums are independent chains */
    for (uint r = 0; r < rows; r++) {
        float16 d = dyv[r];

#pragma unroll
        for (uint i = 0; i < DU_ROWS; i++)
            acc[i] += x[r * ldx + i] * d;
    }
    for (uint i = 0; i < DU_ROWS; i++)
        vstore16(acc[i], 0, g + i * units);
    for (uint c = 0; c < chunks; c++) {
        float16 wv = vload16(c, w), mv = 0.0f, vv = 0.0f;

        if (slot0)
            mv = vload16(c, m);
        if (o->kind == OPT_ADAM)
            vv = vload16(c, v);
        step16(o, vload16(c, g), &wv, &mv, &vv);
        vstore16(wv, c, w);
        if (slot0)
            vstore16(mv, c, m);
        if (o->kind == OPT_ADAM)
            vstore16(vv, c, v);
    }
}

kernel void dense_update(uint rows, uint in, uint units, global const float *x, uint xo,
                         uint ldx, global const float *dy, uint dyo, int kind, float lr,
                         float b1, float b2, float eps, float momentum, int nesterov,
                         global float *w, global float *s0, global float *s1, int has_bias,
                         global float *b, global float *bs0, global float *bs1)
{
    opt_args o = {kind, lr, b1, b2, eps, momentum, nesterov};
    bool fast = units <= 16 && rows <= DU_MAX_BATCH;
    uint q = get_global_id(0), blocks = fast ? in / DU_ROWS : 0;
    uint spans = (blocks + DU_SPAN - 1) / DU_SPAN;
    uint p = blocks * DU_ROWS + (q - spans);

    x += xo;
    dy += dyo;
    if (q < spans) {
        float16 dyv[DU_MAX_BATCH]; /* dY, one row per float16, loaded once */

        for (uint r = 0; r < rows; r++)
            dyv[r] = load_part(dy + r * units, units);
        for (uint k = q * DU_SPAN; k < min(blocks, (q + 1) * DU_SPAN); k++) {
            uint at = k * DU_ROWS * units;

            update_block(&o, rows, units, x + k * DU_ROWS, ldx, dyv, w + at,
                         s0 ? s0 + at : s0, s1 ? s1 + at : s1);
        }
    } else if (p < in) {
        uint at = p * units;

        update_row(&o, rows, units, x + p, ldx, dy, w + at, s0 ? s0 + at : s0,
                   s1 ? s1 + at : s1);
    } else if (p == in && has_bias) {
        update_row(&o, rows, units, NULL, ldx, dy, b, bs0, bs1);
    }
}
