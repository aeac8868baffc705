/* Optimizer updates (the formulas of backend.h, operation by operation
 * as the cpu backend writes them) and inverted dropout. */

kernel void adam(uint n, global float *w, uint wo, global const float *g, uint go,
                 global float *m, uint mo, global float *v, uint vo, float lr_t, float b1,
                 float b2, float eps)
{
    uint i = get_global_id(0);

    if (i >= n)
        return;
    float gi = g[go + i];
    float mi = m[mo + i], vi = v[vo + i];

    mi += (gi - mi) * (1.0f - b1);
    vi += (gi * gi - vi) * (1.0f - b2);
    m[mo + i] = mi;
    v[vo + i] = vi;
    w[wo + i] -= lr_t * mi / (sqrt(vi) + eps);
}

/* Plain SGD when has_vel is 0; else momentum, optionally Nesterov. */
kernel void sgd(uint n, global float *w, uint wo, global const float *g, uint go,
                global float *vel, uint vo, int has_vel, float lr, float momentum,
                int nesterov)
{
    uint i = get_global_id(0);

    if (i >= n)
        return;
    float gi = g[go + i];
    if (!has_vel) {
        w[wo + i] -= lr * gi;
        return;
    }
    float u = momentum * vel[vo + i] - lr * gi;
    vel[vo + i] = u;
    w[wo + i] += nesterov ? momentum * u - lr * gi : u;
}

/* clf_mask_hash of backend.h, bit for bit in 32-bit unsigned arithmetic. */
uint clf_mask_hash(uint seed, uint i)
{
    uint x = i * 0x9e3779b9u ^ seed;

    x ^= x >> 16;
    x *= 0x7feb352du;
    x ^= x >> 15;
    x *= 0x846ca68bu;
    x ^= x >> 16;
    return x;
}

/* y[i] = x[i] * scale where the mask keeps element i, else 0; the host
 * passes scale = 1 / (1 - rate). The top 24 bits of the hash scaled by
 * 2^-24 are exact in float, so both backends keep the same elements. */
kernel void dropout(uint n, float rate, uint seed, float scale, global const float *x, uint xo,
                    global float *y, uint yo)
{
    uint i = get_global_id(0);

    if (i >= n)
        return;
    float u = (float)(clf_mask_hash(seed, i) >> 8) * (1.0f / 16777216.0f);
    y[yo + i] = u >= rate ? x[xo + i] * scale : 0.0f;
}
