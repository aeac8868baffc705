/* Convolutions over NHWC input. The host packs clf_conv_shape into an
 * int16: n h w c oh ow oc kh kw sh sw dh dw pad_top pad_left mult. */

/* Input row and column of kernel tap (ky, kx) for output pixel (oy, ox);
 * either may fall outside the input. */
int tap_y(int16 g, uint oy, int ky)
{
    return (int)oy * g.s9 - g.sd + ky * g.sb;
}

int tap_x(int16 g, uint ox, int kx)
{
    return (int)ox * g.sa - g.se + kx * g.sc;
}

/* Index of x[b][iy][ix][ci] for an (iy, ix) inside the input. */
uint at_input(int16 g, uint b, int iy, int ix, uint ci)
{
    return ((b * (uint)g.s1 + (uint)iy) * (uint)g.s2 + (uint)ix) * (uint)g.s3 + ci;
}

/* Rows [p0, p0 + pixels) of the im2col matrix: row p is output pixel p,
 * its kdim = kh * kw * c columns in (ky, kx, ci) order, the order of
 * Keras's (kh, kw, c, oc) kernel. Reads outside the input are zero. */
kernel void im2col(int16 g, uint p0, uint pixels, global const float *x, uint xo,
                   global float *cols)
{
    uint i = get_global_id(0);
    uint c = (uint)g.s3, kw = (uint)g.s8, ow = (uint)g.s5, oh = (uint)g.s4;
    uint kdim = (uint)g.s7 * kw * c;

    if (i >= pixels * kdim)
        return;
    uint p = p0 + i / kdim, q = i % kdim;
    uint ci = q % c, kx = q / c % kw, ky = q / c / kw;
    uint ox = p % ow, oy = p / ow % oh, b = p / ow / oh;
    int iy = tap_y(g, oy, (int)ky), ix = tap_x(g, ox, (int)kx);
    float v = 0.0f;

    if (iy >= 0 && iy < g.s1 && ix >= 0 && ix < g.s2)
        v = x[xo + at_input(g, b, iy, ix, ci)];
    cols[i] = v;
}

/* One output element per work-item: channel o = ci * mult + m reads input
 * channel ci through weight (ky, kx, o); then bias and activation. Taps
 * are summed in (ky, kx) order like the cpu backend. */
kernel void depthwise_conv(int16 g, uint total, global const float *x, uint xo,
                           global const float *wt, uint wo, global const float *bias, uint bo,
                           int has_bias, int act, float hi, global float *y, uint yo)
{
    uint i = get_global_id(0);

    if (i >= total)
        return;
    uint oc = (uint)g.s6, ow = (uint)g.s5, oh = (uint)g.s4, kw = (uint)g.s8;
    uint o = i % oc, pix = i / oc;
    uint ox = pix % ow, oy = pix / ow % oh, b = pix / ow / oh, ci = o / (uint)g.sf;
    float s = 0.0f;

    for (int ky = 0; ky < g.s7; ky++) {
        int iy = tap_y(g, oy, ky);

        if (iy < 0 || iy >= g.s1)
            continue;
        for (int kx = 0; kx < g.s8; kx++) {
            int ix = tap_x(g, ox, kx);

            if (ix < 0 || ix >= g.s2)
                continue;
            s += x[xo + at_input(g, b, iy, ix, ci)] * wt[wo + ((uint)ky * kw + (uint)kx) * oc + o];
        }
    }
    y[yo + i] = clf_act(s + (has_bias ? bias[bo + o] : 0.0f), act, hi);
}

/* ---- For CPU devices: a work-item walks an output row, 16 channels at
 * a time in a float16 (NHWC keeps them next to each other). ---- */

/* Depthwise with multiplier 1 and c % 16 == 0: work-item (cb, oy, b) owns
 * channels [16 cb, 16 cb + 16) of output row oy of image b. The kh x kw
 * (at most 5 x 5) weights of its channels stay in registers; each output
 * pixel is one vector load and multiply-add per tap inside the input.
 * Taps are summed in (ky, kx) order like the cpu backend and the
 * per-element kernel, each a separate multiply and add. */
kernel void depthwise_rows16(int16 g, global const float *x, uint xo, global const float *wt,
                             uint wo, global const float *bias, uint bo, int has_bias, int act,
                             float hi, global float *y, uint yo)
{
    uint cb = get_global_id(0), oy = get_global_id(1), b = get_global_id(2);
    uint c = (uint)g.s3, ow = (uint)g.s5, kh = (uint)g.s7, kw = (uint)g.s8, ch = cb * 16;
    float16 w[25], bv = has_bias ? vload16(0, bias + bo + ch) : (float16)0.0f;

    if (ch >= c || oy >= (uint)g.s4 || b >= (uint)g.s0)
        return;
    for (uint t = 0; t < kh * kw; t++)
        w[t] = vload16(0, wt + wo + t * c + ch);
    global float *out = y + yo + ((b * (uint)g.s4 + oy) * ow) * c + ch;

    for (uint ox = 0; ox < ow; ox++, out += c) {
        float16 s = 0.0f;

        for (uint ky = 0; ky < kh; ky++) {
            int iy = tap_y(g, oy, (int)ky);

            if (iy < 0 || iy >= g.s1)
                continue;
            for (uint kx = 0; kx < kw; kx++) {
                int ix = tap_x(g, ox, (int)kx);

                if (ix >= 0 && ix < g.s2)
                    s += vload16(0, x + xo + at_input(g, b, iy, ix, ch)) * w[ky * kw + kx];
            }
        }
        s += bv;
        if (act == CLF_ACT_RELU)
            s = fmin(fmax(s, 0.0f), hi);
        vstore16(s, 0, out);
    }
}

/* Conv2D with few input channels (an RGB stem) and oc % 16 == 0, with no
 * im2col: work-item (ob, oy, b) owns output channels [16 ob, 16 ob + 16)
 * of row oy of image b and sums its taps (ky, kx, ci) in the order of the
 * im2col matrix's columns, one broadcast times one weight vector each. */
kernel void conv_direct16(int16 g, global const float *x, uint xo, global const float *wt,
                          uint wo, global const float *bias, uint bo, int has_bias, int act,
                          float hi, global float *y, uint yo)
{
    uint ob = get_global_id(0), oy = get_global_id(1), b = get_global_id(2);
    uint c = (uint)g.s3, ow = (uint)g.s5, oc = (uint)g.s6, kh = (uint)g.s7, kw = (uint)g.s8;
    uint o = ob * 16;

    if (o >= oc || oy >= (uint)g.s4 || b >= (uint)g.s0)
        return;
    float16 bv = has_bias ? vload16(0, bias + bo + o) : (float16)0.0f;
    global float *out = y + yo + ((b * (uint)g.s4 + oy) * ow) * oc + o;

    for (uint ox = 0; ox < ow; ox++, out += oc) {
        float16 s = 0.0f;

        for (uint ky = 0; ky < kh; ky++) {
            int iy = tap_y(g, oy, (int)ky);

            if (iy < 0 || iy >= g.s1)
                continue;
            for (uint kx = 0; kx < kw; kx++) {
                int ix = tap_x(g, ox, (int)kx);

                if (ix < 0 || ix >= g.s2)
                    continue;
                global const float *px = x + xo + at_input(g, b, iy, ix, 0);
                global const float *wk = wt + wo + ((ky * kw + kx) * c) * oc + o;

                for (uint ci = 0; ci < c; ci++)
                    s = fma((float16)px[ci], vload16(0, wk + ci * oc), s);
            }
        }
        s += bv;
        if (act == CLF_ACT_RELU)
            s = fmin(fmax(s, 0.0f), hi);
        vstore16(s, 0, out);
    }
}
