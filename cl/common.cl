/* Shared by every kernel file; built first, into the same program.
 * OpenCL C 1.2, float32 only: nothing here needs fp64. */

/* Keep the rounding of each operation, as the cpu backend does: a fused
 * multiply-add would make results depend on the compiler. */
#pragma OPENCL FP_CONTRACT OFF

#define CLF_ACT_RELU 1

/* The fused activation: ReLU clamps to [0, hi]; any other kind is the
 * identity. Written like the cpu backend's, so NaN becomes 0 in both. */
float clf_act(float x, int kind, float hi)
{
    if (kind == CLF_ACT_RELU) {
        x = x > 0.0f ? x : 0.0f;
        x = x < hi ? x : hi;
    }
    return x;
}

/* Sum of v over a one-dimensional work-group whose size is a power of
 * two; every work-item gets the result. red holds one float per item. */
float clf_group_sum(local float *red, float v)
{
    uint t = get_local_id(0);

    red[t] = v;
    barrier(CLK_LOCAL_MEM_FENCE);
    for (uint h = get_local_size(0) / 2; h > 0; h /= 2) {
        if (t < h)
            red[t] += red[t + h];
        barrier(CLK_LOCAL_MEM_FENCE);
    }
    v = red[0];
    barrier(CLK_LOCAL_MEM_FENCE); /* red may be reused right away */
    return v;
}

/* Maximum of v over the work-group, as clf_group_sum. */
float clf_group_max(local float *red, float v)
{
    uint t = get_local_id(0);

    red[t] = v;
    barrier(CLK_LOCAL_MEM_FENCE);
    for (uint h = get_local_size(0) / 2; h > 0; h /= 2) {
        if (t < h)
            red[t] = fmax(red[t], red[t + h]);
        barrier(CLK_LOCAL_MEM_FENCE);
    }
    v = red[0];
    barrier(CLK_LOCAL_MEM_FENCE);
    return v;
}
