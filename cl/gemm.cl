/* GEMM for the skinny shapes of small dense models, where CLBlast's
 * kernels leave most of the device idle (its kernels tile m and n, and
 * these have m or n of 4 to 12):
 *   D = alpha * op(A) op(B) + beta * D,  op(A) m x k, op(B) k x n, n <= 16.
 * D is C (row-major) or, with ct, C's transpose: the host computes a
 * thin-m product as C^T = op(B)^T op(A)^T. beta == 0 ignores what C held.
 * A work-item owns one row of D and keeps its n sums in one float16, so
 * every step is one vector multiply-add, also where the compiler does not
 * vectorize across work-items (PoCL on CPUs, with loops inside). */

/* Element (i, p) of op(A). */
float op_a(global const float *a, uint ao, uint lda, int ta, uint i, uint p)
{
    return a[ao + (ta ? p * lda + i : i * lda + p)];
}

/* Row p of op(B) as a float16: its n <= 16 elements start at b[at], step
 * floats apart (1 when B is not transposed, ldb when it is). Lanes past n
 * hold garbage (possibly NaN from memory past the matrix) and are never
 * stored. Never reads past the buffer's b_len floats. */
float16 b_row(global const float *b, uint at, uint step, uint n, uint b_len)
{
    float t[16];

    if (step == 1 && at + 16 <= b_len)
        return vload16(0, b + at);
    for (uint j = 0; j < 16; j++)
        t[j] = j < n ? b[at + j * step] : 0.0f;
    return vload16(0, t);
}

/* Row i of op(A) op(B) over p in [k0, k1). */
float16 row_sums(global const float *a, uint ao, uint lda, int ta, global const float *b,
                 uint bo, uint ldb, int tb, uint n, uint b_len, uint i, uint k0, uint k1)
{
    uint p_step = tb ? 1 : ldb, j_step = tb ? ldb : 1;
    float16 acc = 0.0f;

    for (uint p = k0; p < k1; p++)
        acc += op_a(a, ao, lda, ta, i, p) * b_row(b, bo + p * p_step, j_step, n, b_len);
    return acc;
}

void store_d(global float *c, uint co, uint ldc, int ct, uint i, uint j, float alpha,
             float sum, float beta)
{
    uint at = co + (ct ? j * ldc + i : i * ldc + j);

    c[at] = alpha * sum + (beta == 0.0f ? 0.0f : beta * c[at]);
}

#define SMALL_K_ROWS 4

/* Short k (a weight gradient X^T dY over a batch): work-item r owns rows
 * [r * SMALL_K_ROWS, (r + 1) * SMALL_K_ROWS) of D, all of k; each row of
 * op(B) it loads serves all of them. */
kernel void gemm_small_k(uint m, uint n, uint k, int ta, int tb, int ct, float alpha,
                         global const float *a, uint ao, uint lda, global const float *b,
                         uint bo, uint ldb, uint b_len, float beta, global float *c, uint co,
                         uint ldc)
{
    uint i0 = get_global_id(0) * SMALL_K_ROWS;
    float16 acc[SMALL_K_ROWS];
    float out[16];

    if (i0 >= m)
        return;
    uint rows = min((uint)SMALL_K_ROWS, m - i0);

    for (uint r = 0; r < SMALL_K_ROWS; r++)
        acc[r] = 0.0f;
    for (uint p = 0; p < k; p++) {
        float16 bv = b_row(b, bo + (tb ? p : p * ldb), tb ? ldb : 1, n, b_len);

        for (uint r = 0; r < rows; r++)
            acc[r] += op_a(a, ao, lda, ta, i0 + r, p) * bv;
    }
    for (uint r = 0; r < rows; r++) {
        vstore16(acc[r], 0, out);
        for (uint j = 0; j < n; j++)
            store_d(c, co, ldc, ct, i0 + r, j, alpha, out[j], beta);
    }
}

/* Few rows, long k (a dense layer's forward over 150528 inputs): work-item
 * t = q * m + i sums row i over k in [q * slice, (q + 1) * slice) into
 * part[q][i][0..n). */
kernel void gemm_split_k(uint m, uint n, uint k, uint slice, int ta, int tb,
                         global const float *a, uint ao, uint lda, global const float *b,
                         uint bo, uint ldb, uint b_len, uint slices, global float *part)
{
    uint t = get_global_id(0);
    float out[16];

    if (t >= m * slices)
        return;
    uint q = t / m, i = t % m, k0 = q * slice;
    vstore16(row_sums(a, ao, lda, ta, b, bo, ldb, tb, n, b_len, i, k0, min(k, k0 + slice)), 0,
             out);
    for (uint j = 0; j < n; j++)
        part[t * n + j] = out[j];
}

/* D from the slices' partial sums, added in slice order (so the result
 * is the same on every run). */
kernel void gemm_split_k_sum(uint m, uint n, uint slices, global const float *part,
                             float alpha, float beta, int ct, global float *c, uint co,
                             uint ldc)
{
    uint t = get_global_id(0), mn = m * n;

    if (t >= mn)
        return;
    float s = 0.0f;

    for (uint q = 0; q < slices; q++)
        s += part[q * mn + t];
    store_d(c, co, ldc, ct, t / n, t % n, alpha, s, beta);
}

/* ---- For CPU devices: few work-items, each a long vector loop ---- */

#define KS_ROWS 16 /* rows of A per work-item */

/* Row p of B, columns [j0, j0 + 16), as a float16; lanes past n (or past
 * the buffer's b_len floats) are 0 and never stored. */
float16 b_cols16(global const float *b, uint at, uint cols, uint b_len)
{
    float t[16];

    if (cols >= 16 || at + 16 <= b_len)
        return vload16(0, b + at);
    for (uint j = 0; j < 16; j++)
        t[j] = j < cols ? b[at + j] : 0.0f;
    return vload16(0, t);
}

/* C = A B for a long k and few rows (the dense forward X W), A m x k, B
 * k x n, both as stored. Work-item (q, rb, cb) sums rows
 * [16 rb, 16 rb + 16) of A times columns [16 cb, 16 cb + 16) of B over
 * k in [q * slice, (q + 1) * slice) into part[q][i][j] (m x n per
 * slice); gemm_split_k_sum adds the slices. Each row of B it loads
 * serves 16 rows of A, and A's rows stream once, so B is read once per
 * row block instead of once per row. Rows past m repeat the last row and
 * are not stored, which keeps the loop free of branches. */
kernel void gemm_k_slices(uint m, uint n, uint k, uint slice, global const float *a, uint ao,
                          uint lda, global const float *b, uint bo, uint ldb, uint b_len,
                          global float *part)
{
    uint q = get_global_id(0), i0 = get_global_id(1) * KS_ROWS, j0 = get_global_id(2) * 16;
    uint k0 = q * slice, k1 = min(k, k0 + slice);
    global const float *ar[KS_ROWS];
    float16 acc[KS_ROWS];
    float out[16];

    if (k0 >= k || i0 >= m || j0 >= n)
        return;
#pragma unroll
    for (uint r = 0; r < KS_ROWS; r++) {
        ar[r] = a + ao + min(i0 + r, m - 1) * lda;
        acc[r] = 0.0f;
    }
    for (uint p = k0; p < k1; p++) {
        float16 bv = b_cols16(b, bo + p * ldb + j0, n - j0, b_len);

#pragma unroll
        for (uint r = 0; r < KS_ROWS; r++)
            acc[r] = fma((float16)ar[r][p], bv, acc[r]);
    }
    for (uint r = 0; r < KS_ROWS && i0 + r < m; r++) {
        vstore16(acc[r], 0, out);
        for (uint j = 0; j < 16 && j0 + j < n; j++)
            part[(q * m + i0 + r) * n + j0 + j] = out[j];
    }
}

/* ---- gemm_tile: C = act(alpha A B + beta C + bias) for CPU devices ----
 * Row-major A (m x k) and B (k x n), as stored. gemm_pack_a and
 * gemm_pack_b first copy A into panels of GT_R rows and B into panels of
 * 16 GT_V columns, each k steps deep and contiguous, so the tile loop
 * streams both instead of striding through rows (often a multiple of
 * 4 KiB apart, which defeats the caches). Reading A in place instead was
 * measured too: slower even on MobileNetV2's pointwise convolutions
 * (rows of 96 to 960 floats), so A is always packed.
 * Work-item (ib, jb) of gemm_tile owns the GT_R x (16 GT_V) tile of C at
 * rows GT_R ib, columns 16 GT_V jb, and keeps it in GT_R * GT_V float16
 * registers over all of k: per step p, one broadcast of A[i][p] per row
 * times GT_V vector loads of the panel. The tile sizes are build options
 * (clfit tune measures which suit a device); the defaults suit AVX-512
 * (24 of its 32 vector registers). Rows past m repeat the last row (in
 * the packing) and are not stored; columns past n are zero. The bias and
 * activation, when given, are applied as the tile is stored (a
 * convolution's epilogue). */
#ifndef GT_R
#define GT_R 6
#endif
#ifndef GT_V
#define GT_V 4
#endif
#define GT_COLS (16 * GT_V)

/* Work-item p copies row p of B into every panel (16 floats at a time). */
kernel void gemm_pack_b(uint k, uint n, global const float *b, uint bo, uint ldb,
                        global float *panels, uint po)
{
    uint p = get_global_id(0);
    float t[16];

    if (p >= k)
        return;
    panels += po;
    global const float *row = b + bo + p * ldb;

    for (uint j = 0; j < n; j += 16) {
        global float *dst = panels + ((j / GT_COLS) * k + p) * GT_COLS + j % GT_COLS;

        if (j + 16 <= n) {
            vstore16(vload16(0, row + j), 0, dst);
            continue;
        }
        for (uint q = 0; q < 16; q++)
            t[q] = j + q < n ? row[j + q] : 0.0f;
        vstore16(vload16(0, t), 0, dst);
    }
    /* zero the rest of the last panel's row */
    for (uint j = (n + 15) / 16 * 16; j % GT_COLS; j += 16)
        vstore16((float16)0.0f, 0, panels + ((j / GT_COLS) * k + p) * GT_COLS + j % GT_COLS);
}

/* Work-item (q, g) copies columns [256 q, 256 q + 256) of the row panels
 * [per g, per g + per) of A: panel ib holds A[GT_R ib + r][p] at
 * (ib k + p) GT_R + r, rows past m repeating the last one. Each row is
 * read in order and each panel written in order. */
kernel void gemm_pack_a(uint m, uint k, global const float *a, uint ao, uint lda,
                        global float *panels, uint per)
{
    uint p0 = get_global_id(0) * 256, p1 = min(k, p0 + 256);
    uint ib0 = get_global_id(1) * per, ib1 = min((m + GT_R - 1) / GT_R, ib0 + per);
    global const float *ar[GT_R];

    for (uint ib = ib0; ib < ib1 && p0 < k; ib++) {
        global float *out = panels + (ib * k + p0) * GT_R;

#pragma unroll
        for (int r = 0; r < GT_R; r++)
            ar[r] = a + ao + min(ib * GT_R + r, m - 1) * lda;
        for (uint p = p0; p < p1; p++)
#pragma unroll
            for (int r = 0; r < GT_R; r++)
                *out++ = ar[r][p];
    }
}

/* C's 16 columns at `at` (cols of them real) = act(alpha * v + beta * C
 * + bias); bias points at the tile's columns (NULL: none). */
void gt_store(global float *at, int cols, float16 v, float alpha, float beta,
              global const float *bias, int act, float hi)
{
    float t[16];

    if (cols >= 16) {
        v = alpha * v + (beta == 0.0f ? (float16)0.0f : beta * vload16(0, at));
        if (bias)
            v += vload16(0, bias);
        if (act == CLF_ACT_RELU)
            v = fmin(fmax(v, 0.0f), hi);
        vstore16(v, 0, at);
        return;
    }
    vstore16(v, 0, t);
    for (int j = 0; j < cols; j++)
        at[j] = clf_act(alpha * t[j] + (beta == 0.0f ? 0.0f : beta * at[j]) +
                            (bias ? bias[j] : 0.0f), act, hi);
}

/* One tile: row panel ib, column panel jb. */
void gt_tile(uint m, uint n, uint k, float alpha, global const float *apanels,
             global const float *bpanels, float beta, global float *c, uint co, uint ldc,
             global const float *bias, int act, float hi, uint ib, uint jb)
{
    uint i0 = ib * GT_R, j0 = jb * GT_COLS;
    float16 acc[GT_R][GT_V];
    global const float *ap = apanels + ib * k * GT_R;
    global const float *bp = bpanels + jb * k * GT_COLS;
    int cols = (int)(n - j0);

#pragma unroll
    for (int r = 0; r < GT_R; r++)
#pragma unroll
        for (int v = 0; v < GT_V; v++)
            acc[r][v] = 0.0f;
    for (uint p = 0; p < k; p++, ap += GT_R, bp += GT_COLS) {
        float16 bv[GT_V];

#pragma unroll
        for (int v = 0; v < GT_V; v++)
            bv[v] = vload16(v, bp);
#pragma unroll
        for (int r = 0; r < GT_R; r++) {
            float16 x = ap[r];

#pragma unroll
            for (int v = 0; v < GT_V; v++)
                acc[r][v] = fma(x, bv[v], acc[r][v]);
        }
    }
    bias = bias ? bias + j0 : 0;
#pragma unroll
    for (int r = 0; r < GT_R; r++)
#pragma unroll
        for (int v = 0; v < GT_V; v++)
            if (i0 + r < m && cols > 16 * v)
                gt_store(c + co + (i0 + r) * ldc + j0 + 16 * v, cols - 16 * v, acc[r][v],
                         alpha, beta, bias ? bias + 16 * v : 0, act, hi);
}

/* Work-item (g, jb): the tiles of column panel jb and row panels
 * [per g, per g + per), which share the B panel (it stays in cache). */
kernel void gemm_tile(uint m, uint n, uint k, float alpha, global const float *apanels,
                      global const float *bpanels, uint bpo, float beta, global float *c,
                      uint co, uint ldc, global const float *bias, uint bo, int has_bias,
                      int act, float hi, uint per)
{
    uint ib0 = get_global_id(0) * per, jb = get_global_id(1);
    uint ib1 = min((m + GT_R - 1) / GT_R, ib0 + per);

    if (jb * GT_COLS >= n)
        return;
    for (uint ib = ib0; ib < ib1; ib++)
        gt_tile(m, n, k, alpha, apanels, bpanels + bpo, beta, c, co, ldc,
                has_bias ? bias + bo : 0, act, hi, ib, jb);
}
