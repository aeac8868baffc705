/* Average pooling over NHWC input. avg_pool's int16 holds clf_pool_shape:
 * n h w c oh ow ph pw sh sw pad_top pad_left, then four zeros. */

/* Windows hanging over the edge average only the elements inside the
 * input, as Keras's padding "same" does. */
kernel void avg_pool(int16 g, uint total, global const float *x, uint xo, global float *y,
                     uint yo)
{
    uint i = get_global_id(0);

    if (i >= total)
        return;
    uint c = (uint)g.s3, ch = i % c, pix = i / c;
    int ox = (int)(pix % (uint)g.s5), oy = (int)(pix / (uint)g.s5 % (uint)g.s4);
    uint b = pix / (uint)g.s5 / (uint)g.s4;
    float s = 0.0f;
    int count = 0;

    for (int py = 0; py < g.s6; py++) {
        int iy = oy * g.s8 - g.sa + py;

        for (int px = 0; px < g.s7; px++) {
            int ix = ox * g.s9 - g.sb + px;

            if (iy < 0 || iy >= g.s1 || ix < 0 || ix >= g.s2)
                continue;
            s += x[xo + ((b * (uint)g.s1 + (uint)iy) * (uint)g.s2 + (uint)ix) * c + ch];
            count++;
        }
    }
    y[yo + i] = count ? s / (float)count : 0.0f;
}

/* y[b][ch] = mean over the hw pixels of x[b][p][ch]; one work-item per
 * output, adding pixels in order like the cpu backend. */
kernel void global_avg_pool(uint total, uint hw, uint c, global const float *x, uint xo,
                            global float *y, uint yo)
{
    uint i = get_global_id(0);

    if (i >= total)
        return;
    uint b = i / c, ch = i % c;
    float s = 0.0f;

    for (uint p = 0; p < hw; p++)
        s += x[xo + (b * hw + p) * c + ch];
    y[yo + i] = s / (float)hw;
}

/* dx[b][p][ch] = dy[b][ch] / hw over total = n * hw * c elements. */
kernel void global_avg_pool_backward(uint total, uint hw, uint c, global const float *dy,
                                     uint dyo, global float *dx, uint dxo)
{
    uint i = get_global_id(0);

    if (i >= total)
        return;
    uint ch = i % c, b = i / c / hw;
    dx[dxo + i] = dy[dyo + b * c + ch] / (float)hw;
}
