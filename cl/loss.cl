/* Softmax and the fused softmax + sparse categorical cross-entropy.
 * One work-group (a power of two in size) per row; the work-items stride
 * over the row's columns and meet in local-memory reductions. */

/* y_r = softmax(x_r), max-subtracted; y may alias x. */
kernel void softmax(uint cols, global const float *x, uint xo, global float *y, uint yo,
                    local float *red)
{
    uint t = get_local_id(0), step = get_local_size(0);
    uint row = xo + get_group_id(0) * cols, out = yo + get_group_id(0) * cols;
    float mx = -INFINITY, s = 0.0f;

    for (uint j = t; j < cols; j += step)
        mx = fmax(mx, x[row + j]);
    mx = clf_group_max(red, mx);
    for (uint j = t; j < cols; j += step)
        s += exp(x[row + j] - mx);
    s = clf_group_sum(red, s);
    for (uint j = t; j < cols; j += step)
        y[out + j] = exp(x[row + j] - mx) / s;
}

/* Index of the first maximum of the row: each work-item finds the first
 * maximum among its columns, then pairs are merged keeping the larger
 * value, or the smaller index on a tie. */
uint first_argmax(global const float *xr, uint cols, local float *val, local uint *idx)
{
    uint t = get_local_id(0), step = get_local_size(0);
    float best = -INFINITY;
    uint at = cols;

    for (uint j = t; j < cols; j += step)
        if (at == cols || xr[j] > best) {
            best = xr[j];
            at = j;
        }
    val[t] = best;
    idx[t] = at;
    barrier(CLK_LOCAL_MEM_FENCE);
    for (uint h = step / 2; h > 0; h /= 2) {
        if (t < h) {
            float v = val[t + h];
            uint k = idx[t + h];
            if (k < cols && (idx[t] == cols || v > val[t] || (v == val[t] && k < idx[t]))) {
                val[t] = v;
                idx[t] = k;
            }
        }
        barrier(CLK_LOCAL_MEM_FENCE);
    }
    at = idx[0];
    barrier(CLK_LOCAL_MEM_FENCE);
    return at;
}

/* Row r's loss logsumexp(x_r) - x_r[L] and whether its first arg-max is L
 * go to part[2r], part[2r + 1]; with has_grad, also
 * grad_r = (softmax(x_r) - onehot(L)) * grad_scale. A label outside
 * [0, cols) (the caller checks) gives a NaN loss instead of a stray read. */
kernel void xent_rows(uint cols, global const float *x, uint xo, global const int *labels,
                      uint lo, float grad_scale, int has_grad, global float *grad, uint go,
                      global float *part, local float *red, local uint *idx)
{
    uint r = get_group_id(0), t = get_local_id(0), step = get_local_size(0);
    uint row = xo + r * cols;
    int label = labels[lo + r];
    float mx = -INFINITY, s = 0.0f;

    for (uint j = t; j < cols; j += step)
        mx = fmax(mx, x[row + j]);
    mx = clf_group_max(red, mx);
    for (uint j = t; j < cols; j += step)
        s += exp(x[row + j] - mx);
    s = clf_group_sum(red, s);
    uint best = first_argmax(x + row, cols, red, idx);

    if (t == 0) {
        bool ok = label >= 0 && (uint)label < cols;
        part[2 * r] = ok ? log(s) - (x[row + label] - mx) : NAN;
        part[2 * r + 1] = ok && best == (uint)label ? 1.0f : 0.0f;
    }
    if (!has_grad)
        return;
    for (uint j = t; j < cols; j += step) {
        float p = exp(x[row + j] - mx) / s;
        grad[go + r * cols + j] = (p - (j == (uint)label ? 1.0f : 0.0f)) * grad_scale;
    }
}

/* stats[0] += sum of the rows' losses, stats[1] += their hits: one
 * work-group, so the sum is the same on every run. */
kernel void xent_reduce(uint rows, global const float *part, global float *stats, uint so,
                        local float *red)
{
    uint t = get_local_id(0), step = get_local_size(0);
    float loss = 0.0f, hits = 0.0f;

    for (uint r = t; r < rows; r += step) {
        loss += part[2 * r];
        hits += part[2 * r + 1];
    }
    loss = clf_group_sum(red, loss);
    hits = clf_group_sum(red, hits);
    if (t == 0) {
        stats[so] += loss;
        stats[so + 1] += hits;
    }
}
