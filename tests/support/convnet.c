/* The small convolutional net of convnet.h and its float64 reference. */
#include "support/convnet.h"

#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "core/rng.h"

static clf_layer_desc *push(convnet *t, clf_layer_kind kind, const char *name, int in)
{
    clf_layer_desc *l = &t->layers[t->g.n_layers];

    clf_layer_desc_init(l, kind, name);
    l->trainable = false;
    if (in >= 0) {
        l->n_inputs = 1;
        l->inputs[0] = in;
    }
    l->bn_axis = -1;
    t->g.output = t->g.n_layers++;
    return l;
}

static clf_layer_desc *conv(convnet *t, clf_layer_kind kind, const char *name, int in, int k)
{
    clf_layer_desc *l = push(t, kind, name, in);

    l->kernel[0] = l->kernel[1] = k;
    l->use_bias = false;
    return l;
}

static void relu(convnet *t, const char *name, int in, float max)
{
    clf_layer_desc *l = push(t, CLF_LAYER_ACTIVATION, name, in);

    l->activation = CLF_ACTIVATION_RELU;
    l->relu_max = max;
}

void convnet_init(convnet *t, int s, int classes)
{
    clf_layer_desc *l;

    memset(t, 0, sizeof *t);
    t->g.layers = t->layers;
    snprintf(t->g.name, sizeof t->g.name, "convnet");
    l = push(t, CLF_LAYER_INPUT, "input", -1);
    l->input_rank = 3;
    l->input_shape[0] = l->input_shape[1] = s;
    l->input_shape[2] = 3;
    l = push(t, CLF_LAYER_ZERO_PADDING2D, "pad", 0);
    l->pad[1] = l->pad[3] = 1;                                 /* 1 */
    l = conv(t, CLF_LAYER_CONV2D, "conv", 1, 3);               /* 2 */
    l->filters = 8;
    l->strides[0] = l->strides[1] = 2;
    push(t, CLF_LAYER_BATCH_NORM, "conv_bn", 2);               /* 3 */
    relu(t, "conv_relu", 3, 6.0f);                             /* 4 */
    l = conv(t, CLF_LAYER_DEPTHWISE_CONV2D, "dw", 4, 3);       /* 5 */
    l->depth_multiplier = 2;
    l->padding_same = l->use_bias = true;
    push(t, CLF_LAYER_BATCH_NORM, "dw_bn", 5);                 /* 6 */
    relu(t, "dw_relu", 6, INFINITY);                           /* 7 */
    l = conv(t, CLF_LAYER_CONV2D, "dil", 7, 3);                /* 8 */
    l->filters = 8;
    l->dilation[0] = l->dilation[1] = 2;
    l->padding_same = true;
    push(t, CLF_LAYER_BATCH_NORM, "dil_bn", 8);                /* 9 */
    l = push(t, CLF_LAYER_ADD, "add", 4);                      /* 10 */
    l->n_inputs = 2, l->inputs[1] = 9;
    relu(t, "add_relu", 10, 6.0f);                             /* 11 */
    push(t, CLF_LAYER_BATCH_NORM, "add_bn", 11);               /* 12 */
    l = push(t, CLF_LAYER_AVG_POOL2D, "pool", 12);             /* 13 */
    l->strides[0] = l->strides[1] = 2;
    l->padding_same = true;
    push(t, CLF_LAYER_FLATTEN, "flatten", 13);                 /* 14 */
    l = push(t, CLF_LAYER_DENSE, "dense", 14);                 /* 15 */
    l->units = classes;
    l->activation = CLF_ACTIVATION_SOFTMAX;
    l->trainable = true;
}

static float draw(clf_rng *r, float lo, float hi)
{
    return lo + (hi - lo) * (float)clf_rng_uniform(r);
}

static bool ends_with(const char *s, const char *tail)
{
    size_t n = strlen(s), k = strlen(tail);

    return n >= k && strcmp(s + n - k, tail) == 0;
}

clf_model *convnet_model(const convnet *t, uint64_t seed)
{
    clf_model *m;
    clf_rng r;

    assert_int_equal(clf_model_from_desc(&t->g, 7, &m), CLF_OK);
    clf_rng_seed(&r, seed);
    for (size_t k = 0; k < clf_model_tensor_count(m); k++) {
        clf_tensor_info info;
        float *v, a;

        assert_int_equal(clf_model_tensor_info(m, k, &info), CLF_OK);
        v = malloc(info.count * sizeof *v);
        assert_non_null(v);
        a = info.rank > 1 ? 1.0f / sqrtf((float)(info.count / (size_t)info.shape[info.rank - 1]))
                          : 0.2f;
        for (size_t i = 0; i < info.count; i++) {
            if (ends_with(info.name, "gamma"))
                v[i] = draw(&r, 0.5f, 1.5f);
            else if (ends_with(info.name, "moving_mean"))
                v[i] = draw(&r, -0.3f, 0.3f);
            else if (ends_with(info.name, "moving_variance"))
                v[i] = draw(&r, 0.3f, 1.3f);
            else
                v[i] = draw(&r, -a, a);
        }
        assert_int_equal(clf_model_tensor_write(m, k, v, info.count), CLF_OK);
        free(v);
    }
    return m;
}

uint8_t *convnet_images(int s, int n, uint64_t seed)
{
    size_t bytes = (size_t)n * s * s * 3;
    uint8_t *img = malloc(bytes);
    clf_rng r;

    assert_non_null(img);
    clf_rng_seed(&r, seed);
    for (size_t i = 0; i < bytes; i++)
        img[i] = (uint8_t)clf_rng_below(&r, 256);
    return img;
}

/* ---- the reference ---- */

static double *tensor(clf_model *m, int layer, const char *var)
{
    char name[CLF_PARAM_NAME_MAX];
    clf_tensor_info info;
    size_t k;
    float *f;
    double *d;

    snprintf(name, sizeof name, "%s/%s", m->desc.layers[layer].name, var);
    if (clf_model_tensor_find(m, name, &k) != CLF_OK)
        return NULL;
    assert_int_equal(clf_model_tensor_info(m, k, &info), CLF_OK);
    f = malloc(info.count * sizeof *f);
    d = malloc(info.count * sizeof *d);
    assert_true(f && d);
    assert_int_equal(clf_model_tensor_read(m, k, f, info.count), CLF_OK);
    for (size_t i = 0; i < info.count; i++)
        d[i] = f[i];
    free(f);
    return d;
}

/* TensorFlow's 'same' padding before the first element. */
static int same_pad(int in, int out, int k, int s, int d)
{
    int total = (out - 1) * s + (k - 1) * d + 1 - in;

    return total > 0 ? total / 2 : 0;
}

typedef struct map {
    int h, w, c;
} map;

static map shape_of(const clf_model *m, int i)
{
    const clf_shape *s = &m->layers[i].shape;

    return (map){s->dim[0], s->dim[1], s->dim[2]};
}

static void ref_conv(clf_model *m, int i, const double *x, double *y)
{
    const clf_layer_desc *d = &m->desc.layers[i];
    bool dw = d->kind == CLF_LAYER_DEPTHWISE_CONV2D;
    double *w = tensor(m, i, dw ? "depthwise_kernel" : "kernel"), *b = tensor(m, i, "bias");
    map in = shape_of(m, d->inputs[0]), out = shape_of(m, i);
    int mult = dw ? d->depth_multiplier : 1, kh = d->kernel[0], kw = d->kernel[1];
    int pt = d->padding_same ? same_pad(in.h, out.h, kh, d->strides[0], d->dilation[0]) : 0;
    int pl = d->padding_same ? same_pad(in.w, out.w, kw, d->strides[1], d->dilation[1]) : 0;

    for (int oy = 0; oy < out.h; oy++)
        for (int ox = 0; ox < out.w; ox++)
            for (int o = 0; o < out.c; o++) {
                double sum = b ? b[o] : 0.0;

                for (int ky = 0; ky < kh; ky++)
                    for (int kx = 0; kx < kw; kx++) {
                        int iy = oy * d->strides[0] - pt + ky * d->dilation[0];
                        int ix = ox * d->strides[1] - pl + kx * d->dilation[1];
                        const double *px = x + ((size_t)iy * in.w + ix) * in.c;
                        const double *wk = w + ((size_t)ky * kw + kx) * in.c * (dw ? mult : out.c);

                        if (iy < 0 || iy >= in.h || ix < 0 || ix >= in.w)
                            continue;
                        if (dw)
                            sum += px[o / mult] * wk[o];
                        else
                            for (int ci = 0; ci < in.c; ci++)
                                sum += px[ci] * wk[(size_t)ci * out.c + o];
                    }
                y[((size_t)oy * out.w + ox) * out.c + o] = sum;
            }
    free(w);
    free(b);
}

static void ref_bn(clf_model *m, int i, const double *x, double *y)
{
    double *g = tensor(m, i, "gamma"), *be = tensor(m, i, "beta");
    double *mu = tensor(m, i, "moving_mean"), *var = tensor(m, i, "moving_variance");
    const clf_layer *l = &m->layers[i];
    size_t c = (size_t)l->shape.dim[l->shape.rank - 1];
    double eps = m->desc.layers[i].bn_epsilon;

    for (size_t k = 0; k < l->size; k++) {
        size_t ch = k % c;

        y[k] = (x[k] - mu[ch]) / sqrt(var[ch] + eps) * (g ? g[ch] : 1.0) + (be ? be[ch] : 0.0);
    }
    free(g);
    free(be);
    free(mu);
    free(var);
}

static void ref_pad(const clf_model *m, int i, const double *x, double *y)
{
    const clf_layer_desc *d = &m->desc.layers[i];
    map in = shape_of(m, d->inputs[0]), out = shape_of(m, i);

    memset(y, 0, m->layers[i].size * sizeof *y);
    for (int r = 0; r < in.h; r++)
        memcpy(y + ((size_t)(r + d->pad[0]) * out.w + d->pad[2]) * in.c,
               x + (size_t)r * in.w * in.c, (size_t)in.w * in.c * sizeof *y);
}

/* Keras: a window over the edge averages only what lies inside. */
static void ref_pool(const clf_model *m, int i, const double *x, double *y)
{
    const clf_layer_desc *d = &m->desc.layers[i];
    map in = shape_of(m, d->inputs[0]), out = shape_of(m, i);
    int pt = d->padding_same ? same_pad(in.h, out.h, d->pool[0], d->strides[0], 1) : 0;
    int pl = d->padding_same ? same_pad(in.w, out.w, d->pool[1], d->strides[1], 1) : 0;

    for (int oy = 0; oy < out.h; oy++)
        for (int ox = 0; ox < out.w; ox++)
            for (int c = 0; c < out.c; c++) {
                double sum = 0.0;
                int count = 0;

                for (int py = 0; py < d->pool[0]; py++)
                    for (int px = 0; px < d->pool[1]; px++) {
                        int iy = oy * d->strides[0] - pt + py, ix = ox * d->strides[1] - pl + px;

                        if (iy < 0 || iy >= in.h || ix < 0 || ix >= in.w)
                            continue;
                        sum += x[((size_t)iy * in.w + ix) * in.c + c];
                        count++;
                    }
                y[((size_t)oy * out.w + ox) * out.c + c] = sum / count;
            }
}

static void ref_dense(clf_model *m, int i, const double *x, double *y)
{
    double *w = tensor(m, i, "kernel"), *b = tensor(m, i, "bias");
    size_t in = m->layers[m->desc.layers[i].inputs[0]].size, u = m->layers[i].size;

    for (size_t j = 0; j < u; j++) {
        y[j] = b ? b[j] : 0.0;
        for (size_t k = 0; k < in; k++)
            y[j] += x[k] * w[k * u + j];
        if (m->desc.layers[i].activation == CLF_ACTIVATION_RELU)
            y[j] = fmin(fmax(y[j], 0.0), m->desc.layers[i].relu_max);
    }
    free(w);
    free(b);
}

static void ref_layer(clf_model *m, int i, double **out)
{
    const clf_layer_desc *d = &m->desc.layers[i];
    const double *x = out[d->inputs[0]];
    double *y = out[i];
    size_t n = m->layers[i].size;

    switch (d->kind) {
    case CLF_LAYER_CONV2D:
    case CLF_LAYER_DEPTHWISE_CONV2D: ref_conv(m, i, x, y); break;
    case CLF_LAYER_BATCH_NORM: ref_bn(m, i, x, y); break;
    case CLF_LAYER_ZERO_PADDING2D: ref_pad(m, i, x, y); break;
    case CLF_LAYER_AVG_POOL2D: ref_pool(m, i, x, y); break;
    case CLF_LAYER_DENSE: ref_dense(m, i, x, y); break;
    case CLF_LAYER_ADD:
        for (size_t k = 0; k < n; k++)
            y[k] = x[k] + out[d->inputs[1]][k];
        break;
    case CLF_LAYER_ACTIVATION:
        for (size_t k = 0; k < n; k++)
            y[k] = d->activation == CLF_ACTIVATION_RELU ? fmin(fmax(x[k], 0.0), d->relu_max)
                                                       : x[k];
        break;
    case CLF_LAYER_GLOBAL_AVG_POOL2D: {
        map in = shape_of(m, d->inputs[0]);

        for (int c = 0; c < in.c; c++) {
            y[c] = 0.0;
            for (int p = 0; p < in.h * in.w; p++)
                y[c] += x[(size_t)p * in.c + c] / (in.h * in.w);
        }
        break;
    }
    default: /* Flatten, Dropout at inference */
        memcpy(y, x, n * sizeof *y);
    }
}

double **convnet_ref(clf_model *m, const uint8_t *image)
{
    double **out = calloc((size_t)m->desc.n_layers, sizeof *out);

    assert_non_null(out);
    for (int i = 0; i < m->desc.n_layers; i++) {
        out[i] = calloc(m->layers[i].size ? m->layers[i].size : 1, sizeof **out);
        assert_non_null(out[i]);
    }
    for (size_t k = 0; k < m->layers[0].size; k++)
        out[0][k] = image[k] / 255.0;
    for (int i = 1; i < m->desc.n_layers; i++)
        if (m->layers[i].live)
            ref_layer(m, i, out);
    return out;
}

void convnet_ref_free(const clf_model *m, double **out)
{
    for (int i = 0; out && i < m->desc.n_layers; i++)
        free(out[i]);
    free(out);
}

double convnet_error(const float *x, const double *ref, size_t n)
{
    double big = 0.0, diff = 0.0;

    for (size_t i = 0; i < n; i++) {
        big = fmax(big, fabs(ref[i]));
        diff = fmax(diff, fabs(x[i] - ref[i]));
    }
    return big > 0.0 ? diff / big : diff;
}
