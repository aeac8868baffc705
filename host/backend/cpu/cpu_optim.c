/* Reference optimizer updates, dropout and the image-to-tensor step. */
#include "cpu.h"

#include <math.h>

#include "cpu_fpenv.h"

clf_status clf_cpu_adam(clf_backend *be, size_t n, clf_buf *w, size_t wo, clf_buf *g,
                        size_t go, clf_buf *m, size_t mo, clf_buf *v, size_t vo, float lr_t,
                        float b1, float b2, float eps)
{
    float *W = clf_cpu_f32(w, wo, n, "adam w");
    const float *G = clf_cpu_f32(g, go, n, "adam g");
    float *M = clf_cpu_f32(m, mo, n, "adam m");
    float *V = clf_cpu_f32(v, vo, n, "adam v");

    clf_fpenv env;

    (void)be;
    if (!W || !G || !M || !V)
        return CLF_ERR_ARG;
    env = clf_fpenv_flush_begin();
    for (size_t i = 0; i < n; i++) {
        float gi = G[i];

        M[i] += (gi - M[i]) * (1.0f - b1);
        V[i] += (gi * gi - V[i]) * (1.0f - b2);
        W[i] -= lr_t * M[i] / (sqrtf(V[i]) + eps);
    }
    clf_fpenv_flush_end(env);
    return CLF_OK;
}

clf_status clf_cpu_sgd(clf_backend *be, size_t n, clf_buf *w, size_t wo, clf_buf *g,
                       size_t go, clf_buf *vel, size_t vo, float lr, float momentum,
                       bool nesterov)
{
    float *W = clf_cpu_f32(w, wo, n, "sgd w");
    const float *G = clf_cpu_f32(g, go, n, "sgd g");
    float *U = momentum != 0.0f ? clf_cpu_f32(vel, vo, n, "sgd velocity") : NULL;

    (void)be;
    if (!W || !G || (momentum != 0.0f && !U))
        return CLF_ERR_ARG;
    for (size_t i = 0; i < n; i++) {
        if (!U) {
            W[i] -= lr * G[i];
            continue;
        }
        U[i] = momentum * U[i] - lr * G[i];
        W[i] += nesterov ? momentum * U[i] - lr * G[i] : U[i];
    }
    return CLF_OK;
}

clf_status clf_cpu_dropout(clf_backend *be, size_t n, float rate, uint32_t seed, clf_buf *x,
                           size_t xo, clf_buf *y, size_t yo)
{
    const float *X = clf_cpu_f32(x, xo, n, "dropout x");
    float *Y = clf_cpu_f32(y, yo, n, "dropout y");
    float keep_scale = 1.0f / (1.0f - rate);

    (void)be;
    if (!X || !Y || !(rate >= 0.0f && rate < 1.0f))
        return CLF_ERR_ARG;
    for (size_t i = 0; i < n; i++)
        Y[i] = clf_dropout_keep(seed, (uint32_t)i, rate) ? X[i] * keep_scale : 0.0f;
    return CLF_OK;
}

clf_status clf_cpu_u8_to_float(clf_backend *be, int n_img, int h, int w, int c, bool chw,
                               float scale, float shift, clf_buf *src, size_t so,
                               clf_buf *dst, size_t dso)
{
    size_t per = (size_t)h * (size_t)w * (size_t)c;
    size_t n = per * (size_t)n_img;
    const unsigned char *S = clf_cpu_u8(src, so, n, "u8_to_float src");
    float *D = clf_cpu_f32(dst, dso, n, "u8_to_float dst");

    (void)be;
    if (!S || !D)
        return CLF_ERR_ARG;
    for (int b = 0; b < n_img; b++) {
        const unsigned char *s = S + per * b;
        float *d = D + per * b;

        for (size_t p = 0; p < (size_t)h * w; p++)
            for (int ch = 0; ch < c; ch++) {
                size_t di = chw ? (size_t)ch * h * w + p : p * c + ch;
                d[di] = (float)s[p * c + ch] * scale + shift;
            }
    }
    return CLF_OK;
}
