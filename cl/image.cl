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
