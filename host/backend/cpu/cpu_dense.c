/* Reference ops of dense layers: bias + activation, their gradients,
 * softmax and the fused softmax cross-entropy. */
#include "cpu.h"

#include <math.h>

#include "clfit/log.h"
#include "cpu_fpenv.h"

clf_status clf_cpu_bias_act(clf_backend *be, int rows, int cols, clf_buf *x, size_t xo,
                            clf_buf *bias, size_t bo, clf_act act)
{
    size_t n = (size_t)rows * (size_t)cols;
    float *X = clf_cpu_f32(x, xo, n, "bias_act");
    const float *B = bias ? clf_cpu_f32(bias, bo, (size_t)cols, "bias_act bias") : NULL;

    (void)be;
    if (!X || (bias && !B))
        return CLF_ERR_ARG;
    for (int r = 0; r < rows; r++) {
        float *row = X + (size_t)r * cols;

        for (int j = 0; j < cols; j++)
            row[j] = clf_cpu_act(act, row[j] + (B ? B[j] : 0.0f));
    }
    return CLF_OK;
}

clf_status clf_cpu_act_backward(clf_backend *be, size_t n, clf_act act, clf_buf *y, size_t yo,
                                clf_buf *dy, size_t dyo)
{
    const float *Y = clf_cpu_f32(y, yo, n, "act_backward y");
    float *D = clf_cpu_f32(dy, dyo, n, "act_backward dy");

    (void)be;
    if (!Y || !D)
        return CLF_ERR_ARG;
    if (act.kind == CLF_ACT_NONE)
        return CLF_OK;
    for (size_t i = 0; i < n; i++)
        if (!(Y[i] > 0.0f && Y[i] < act.max))
            D[i] = 0.0f;
    return CLF_OK;
}

clf_status clf_cpu_col_sum(clf_backend *be, int rows, int cols, clf_buf *x, size_t xo,
                           float beta, clf_buf *y, size_t yo)
{
    const float *X = clf_cpu_f32(x, xo, (size_t)rows * (size_t)cols, "col_sum x");
    float *Y = clf_cpu_f32(y, yo, (size_t)cols, "col_sum y");

    (void)be;
    if (!X || !Y)
        return CLF_ERR_ARG;
    for (int j = 0; j < cols; j++) {
        float s = 0.0f;

        for (int r = 0; r < rows; r++)
            s += X[(size_t)r * cols + j];
        Y[j] = (beta == 0.0f ? 0.0f : beta * Y[j]) + s;
    }
    return CLF_OK;
}

/* max and log(sum(exp(x - max))) of one row */
static void row_logsumexp(const float *x, int cols, float *max_out, float *lse_out)
{
    float mx = x[0];
    double s = 0.0;

    for (int j = 1; j < cols; j++)
        mx = x[j] > mx ? x[j] : mx;
    for (int j = 0; j < cols; j++)
        s += exp((double)x[j] - mx);
    *max_out = mx;
    *lse_out = (float)log(s);
}

clf_status clf_cpu_softmax(clf_backend *be, int rows, int cols, clf_buf *x, size_t xo,
                           clf_buf *y, size_t yo)
{
    size_t n = (size_t)rows * (size_t)cols;
    const float *X = clf_cpu_f32(x, xo, n, "softmax x");
    float *Y = clf_cpu_f32(y, yo, n, "softmax y");

    (void)be;
    if (!X || !Y || cols <= 0)
        return CLF_ERR_ARG;
    for (int r = 0; r < rows; r++) {
        const float *xr = X + (size_t)r * cols;
        float *yr = Y + (size_t)r * cols;
        float mx, lse;

        row_logsumexp(xr, cols, &mx, &lse);
        for (int j = 0; j < cols; j++)
            yr[j] = (float)exp((double)xr[j] - mx - lse);
    }
    return CLF_OK;
}

static int row_argmax(const float *x, int cols)
{
    int best = 0;

    for (int j = 1; j < cols; j++)
        if (x[j] > x[best])
            best = j;
    return best;
}

static clf_status softmax_xent(int rows, int cols, clf_buf *logits, size_t lo,
                               clf_buf *labels, size_t lbo, float grad_scale, clf_buf *grad,
                               size_t go, clf_buf *stats, size_t so)
{
    size_t n = (size_t)rows * (size_t)cols;
    const float *X = clf_cpu_f32(logits, lo, n, "softmax_xent logits");
    const int32_t *L = clf_cpu_i32(labels, lbo, (size_t)rows, "softmax_xent labels");
    float *G = grad ? clf_cpu_f32(grad, go, n, "softmax_xent grad") : NULL;
    float *S = clf_cpu_f32(stats, so, 2, "softmax_xent stats");
    float loss = 0.0f, correct = 0.0f;

    if (!X || !L || !S || (grad && !G) || cols <= 0)
        return CLF_ERR_ARG;
    for (int r = 0; r < rows; r++) {
        const float *xr = X + (size_t)r * cols;
        int label = L[r];
        float mx, lse;

        if (label < 0 || label >= cols) {
            CLF_LOG_ERROR("softmax_xent: label %d of row %d is outside [0, %d)", label, r,
                          cols);
            return CLF_ERR_ARG;
        }
        row_logsumexp(xr, cols, &mx, &lse);
        loss += lse - (xr[label] - mx);
        correct += row_argmax(xr, cols) == label ? 1.0f : 0.0f;
        if (!G)
            continue;
        for (int j = 0; j < cols; j++) {
            float p = (float)exp((double)xr[j] - mx - lse);
            G[(size_t)r * cols + j] = (p - (j == label ? 1.0f : 0.0f)) * grad_scale;
        }
    }
    S[0] += loss;
    S[1] += correct;
    return CLF_OK;
}

clf_status clf_cpu_softmax_xent(clf_backend *be, int rows, int cols, clf_buf *logits,
                                size_t lo, clf_buf *labels, size_t lbo, float grad_scale,
                                clf_buf *grad, size_t go, clf_buf *stats, size_t so)
{
    clf_fpenv env = clf_fpenv_flush_begin();
    clf_status st = softmax_xent(rows, cols, logits, lo, labels, lbo, grad_scale, grad, go,
                                 stats, so);

    (void)be;
    clf_fpenv_flush_end(env);
    return st;
}
