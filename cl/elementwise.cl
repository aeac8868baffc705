/* Elementwise ops of convolutional models: residual add and the
 * per-channel affine map of an unfolded batch normalization. */

/* y = act(a + b); y may alias a or b. */
kernel void add_act(uint n, global const float *a, uint ao, global const float *b, uint bo,
                    int act, float hi, global float *y, uint yo)
{
    uint i = get_global_id(0);

    if (i >= n)
        return;
    y[yo + i] = clf_act(a[ao + i] + b[bo + i], act, hi);
}

/* y[r][j] = act(x[r][j] * scale[j] + shift[j]) over total = rows * c. */
kernel void channel_affine(uint total, uint c, global const float *x, uint xo,
                           global const float *scale, uint so, global const float *shift,
                           uint sho, int act, float hi, global float *y, uint yo)
{
    uint i = get_global_id(0);

    if (i >= total)
        return;
    uint j = i % c;
    y[yo + i] = clf_act(x[xo + i] * scale[so + j] + shift[sho + j], act, hi);
}
