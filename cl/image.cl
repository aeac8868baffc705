/* Image tensors: uint8 pixels to floats, and zero padding (NHWC). */

/* Work-item (p, b) turns pixel p of image b (c bytes of an HWC image)
 * into c floats v * scale + shift, written HWC or, with chw, one per
 * channel plane of the image. */
kernel void u8_to_float(uint hw, uint c, int chw, float scale, float shift,
                        global const uchar *src, uint so, global float *dst, uint dso)
{
    uint p = get_global_id(0), b = get_global_id(1);

    if (p >= hw)
        return;
    uint in = so + (b * hw + p) * c, base = dso + b * hw * c;

    for (uint ch = 0; ch < c; ch++) {
        uint at = chw ? base + ch * hw + p : base + p * c + ch;
        dst[at] = (float)src[in + ch] * scale + shift;
    }
}

/* One output element of y (n x oh x ow x c) per work-item: a copy of x
 * shifted by (top, left), or zero in the border. */
kernel void zero_pad(uint total, uint h, uint w, uint c, uint top, uint left, uint oh,
                     uint ow, global const float *x, uint xo, global float *y, uint yo)
{
    uint i = get_global_id(0);

    if (i >= total)
        return;
    uint ch = i % c, px = i / c % ow, py = i / c / ow % oh, b = i / c / ow / oh;
    int iy = (int)py - (int)top, ix = (int)px - (int)left;
    float v = 0.0f;

    if (iy >= 0 && iy < (int)h && ix >= 0 && ix < (int)w)
        v = x[xo + ((b * h + (uint)iy) * w + (uint)ix) * c + ch];
    y[yo + i] = v;
}

/* u8_to_float's common case, RGB images to channel planes (CHW), for
 * CPUs: work-item (q, b) turns pixels [16q, 16q + 16) of image b into
 * three float16 stores from three 16-byte loads. A last block shorter
 * than 16 pixels goes one pixel at a time. Same arithmetic as
 * u8_to_float (multiply, then add: FP_CONTRACT is off). */
kernel void rgb_to_planes(uint hw, float scale, float shift, global const uchar *src, uint so,
                          global float *dst, uint dso)
{
    uint p0 = get_global_id(0) * 16, b = get_global_id(1);

    if (p0 >= hw)
        return;
    global const uchar *s = src + so + (b * hw + p0) * 3;
    global float *d = dst + dso + b * hw * 3 + p0;

    if (p0 + 16 > hw) {
        for (uint p = 0; p < hw - p0; p++)
            for (uint ch = 0; ch < 3; ch++)
                d[ch * hw + p] = (float)s[p * 3 + ch] * scale + shift;
        return;
    }
    uchar16 x = vload16(0, s), y = vload16(1, s), z = vload16(2, s);
    uchar16 r = (uchar16)(x.s0, x.s3, x.s6, x.s9, x.sc, x.sf, y.s2, y.s5, y.s8, y.sb, y.se,
                          z.s1, z.s4, z.s7, z.sa, z.sd);
    uchar16 g = (uchar16)(x.s1, x.s4, x.s7, x.sa, x.sd, y.s0, y.s3, y.s6, y.s9, y.sc, y.sf,
                          z.s2, z.s5, z.s8, z.sb, z.se);
    uchar16 bl = (uchar16)(x.s2, x.s5, x.s8, x.sb, x.se, y.s1, y.s4, y.s7, y.sa, y.sd, z.s0,
                           z.s3, z.s6, z.s9, z.sc, z.sf);

    vstore16(convert_float16(r) * scale + shift, 0, d);
    vstore16(convert_float16(g) * scale + shift, 0, d + hw);
    vstore16(convert_float16(bl) * scale + shift, 0, d + 2 * hw);
}
