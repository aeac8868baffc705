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
