/* Dense-layer helpers: bias + activation, its backward, bias gradients
 * (column sums) and the beta-scaling GEMM needs when k == 0. */

/* c[r][j] = beta * c[r][j] over an m x n block with leading dim ld;
 * beta == 0 writes zeros whatever c held (NaN included). */
kernel void scale_rows(uint m, uint n, uint ld, float beta, global float *c, uint co)
{
    uint i = get_global_id(0);

    if (i >= m * n)
        return;
    uint at = co + i / n * ld + i % n;
    c[at] = beta == 0.0f ? 0.0f : beta * c[at];
}

/* x[r][j] = act(x[r][j] + bias[j]) over `total` = rows * cols elements. */
kernel void bias_act(uint total, uint cols, global float *x, uint xo,
                     global const float *bias, uint bo, int has_bias, int act, float hi)
{
    uint i = get_global_id(0);

    if (i >= total)
        return;
    float b = has_bias ? bias[bo + i % cols] : 0.0f;
    x[xo + i] = clf_act(x[xo + i] + b, act, hi);
}

/* dy[i] = 0 where the activation's output y was clamped. */
kernel void act_backward(uint n, float hi, global const float *y, uint yo, global float *dy,
                         uint dyo)
{
    uint i = get_global_id(0);

    if (i >= n)
        return;
    float v = y[yo + i];
    if (!(v > 0.0f && v < hi))
        dy[dyo + i] = 0.0f;
}

/* y[j] = beta * y[j] + sum_r x[r][j]. A work-group is a tile of
 * local_size(0) columns by local_size(1) row lanes (a power of two); each
 * lane sums every local_size(1)-th row, then the lanes are added up. */
kernel void col_sum(uint rows, uint cols, global const float *x, uint xo, float beta,
                    global float *y, uint yo, local float *part)
{
    uint tx = get_local_id(0), ty = get_local_id(1);
    uint lx = get_local_size(0), ly = get_local_size(1);
    uint j = get_group_id(0) * lx + tx;
    float s = 0.0f;

    if (j < cols)
        for (uint r = ty; r < rows; r += ly)
            s += x[xo + r * cols + j];
    part[ty * lx + tx] = s;
    barrier(CLK_LOCAL_MEM_FENCE);
    for (uint h = ly / 2; h > 0; h /= 2) {
        if (ty < h)
            part[ty * lx + tx] += part[(ty + h) * lx + tx];
        barrier(CLK_LOCAL_MEM_FENCE);
    }
    if (ty == 0 && j < cols)
        y[yo + j] = (beta == 0.0f ? 0.0f : beta * y[yo + j]) + part[tx];
}
