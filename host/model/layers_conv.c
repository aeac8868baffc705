/* The convolutional layer kinds of a pretrained base: Conv2D,
 * DepthwiseConv2D, BatchNormalization (inference mode: the moving
 * statistics, always), ZeroPadding2D and AveragePooling2D run forward
 * only; GlobalAveragePooling2D also has a backward, so a trained head may
 * use it. Feature maps are (H, W, C) per image, NHWC in a batch.
 *
 * Compile may fold a BatchNormalization into the convolution before it
 * and a ZeroPadding2D into the convolution after it (fuse.c); the
 * forwards here read the result: l->src, l->pad and the derived l->dw /
 * l->db.
 */
#include <math.h>

#include "clfit/log.h"
#include "model/model_internal.h"

#define OPS (m->be->ops)
static const clf_layer_desc *desc(const clf_model *m, int i)
{
    return &m->desc.layers[i];
}

static const char *kind_name(const clf_model *m, int i)
{
    return clf_layer_kind_name(desc(m, i)->kind);
}

/* One input that is a feature map (H, W, C). */
static clf_status need_map(clf_model *m, int i, clf_layer **x)
{
    TRY(clf_layer_one_input(m, i));
    *x = &m->layers[desc(m, i)->inputs[0]];
    if ((*x)->shape.rank != 3) {
        CLF_LOG_ERROR("model: layer '%s' (%s) needs a feature map (height, width, "
                      "channels) as input; '%s' gives rank %d", desc(m, i)->name,
                      kind_name(m, i), desc(m, desc(m, i)->inputs[0])->name,
                      (*x)->shape.rank);
        return CLF_ERR_SHAPE;
    }
    return CLF_OK;
}

static bool in_range(int v)
{
    return v >= 1 && v <= CLF_MAX_DIM;
}

/* Output size and leading padding along one axis (TensorFlow's rules). */
static clf_status window(clf_model *m, int i, int axis, int k, int s, int d, int *out,
                         int *pad)
{
    const clf_layer_desc *l = desc(m, i);
    const clf_layer *x = &m->layers[l->inputs[0]];
    int in = x->shape.dim[axis];

    if (!in_range(k) || !in_range(s) || !in_range(d)) {
        CLF_LOG_ERROR("model: layer '%s' (%s) has window %d, stride %d, dilation %d along "
                      "its %s; each must be in 1..%d", l->name, kind_name(m, i), k, s, d,
                      axis ? "width" : "height", CLF_MAX_DIM);
        return CLF_ERR_ARG;
    }
    if (!clf_window_out(in, k, s, d, l->padding_same, out, pad)) {
        CLF_LOG_ERROR("model: layer '%s' (%s): its %dx%d window (padding valid) does not "
                      "fit its %dx%dx%d input from '%s'; use a larger image size or cut "
                      "the model before this layer", l->name, kind_name(m, i),
                      l->kind == CLF_LAYER_AVG_POOL2D ? l->pool[0] : l->kernel[0],
                      l->kind == CLF_LAYER_AVG_POOL2D ? l->pool[1] : l->kernel[1],
                      x->shape.dim[0], x->shape.dim[1], x->shape.dim[2],
                      desc(m, l->inputs[0])->name);
        return CLF_ERR_SHAPE;
    }
    return CLF_OK;
}

/* ---- Conv2D and DepthwiseConv2D: y = act(conv(x, w) + b) ---- */

static clf_status conv_channels(clf_model *m, int i, int c, int *oc)
{
    const clf_layer_desc *d = desc(m, i);
    long long n = d->kind == CLF_LAYER_CONV2D ? d->filters
                                              : (long long)c * d->depth_multiplier;

    if (d->kind == CLF_LAYER_DEPTHWISE_CONV2D && !in_range(d->depth_multiplier)) {
        CLF_LOG_ERROR("model: layer '%s' has depth_multiplier %d; it must be in 1..%d",
                      d->name, d->depth_multiplier, CLF_MAX_DIM);
        return CLF_ERR_ARG;
    }
    if (n < 1 || n > CLF_MAX_DIM) {
        CLF_LOG_ERROR("model: layer '%s' (%s) would have %lld output channels (allowed "
                      "1..%d)", d->name, kind_name(m, i), n, CLF_MAX_DIM);
        return CLF_ERR_ARG;
    }
    *oc = (int)n;
    return CLF_OK;
}

/* Keras's tensors: kernel (kh, kw, c, filters) or depthwise_kernel
 * (kh, kw, c, mult), then bias (output channels); Glorot-uniform kernels
 * with Keras's fans (receptive field x input / output depth). */
static clf_status conv_params(clf_model *m, int i, int c, int oc)
{
    const clf_layer_desc *d = desc(m, i);
    bool dw = d->kind == CLF_LAYER_DEPTHWISE_CONV2D;
    int last = dw ? d->depth_multiplier : oc;
    int shape[4] = {d->kernel[0], d->kernel[1], c, last};
    int field = d->kernel[0] * d->kernel[1];
    clf_param *p;

    TRY(clf_param_add(m, i, dw ? "depthwise_kernel" : "kernel", 4, shape, d->trainable, &p));
    clf_param_glorot(m, p, field * (dw ? 1 : c), field * last);
    if (d->use_bias)
        TRY(clf_param_add(m, i, "bias", 1, &oc, d->trainable, &p));
    return CLF_OK;
}

static clf_status conv_build(clf_model *m, int i)
{
    const clf_layer_desc *d = desc(m, i);
    clf_layer *l = &m->layers[i], *x;
    int dim[3];

    TRY(need_map(m, i, &x));
    for (int a = 0; a < 2; a++)
        TRY(window(m, i, a, d->kernel[a], d->strides[a], d->dilation[a], &dim[a],
                   &l->pad[a]));
    TRY(conv_channels(m, i, x->shape.dim[2], &dim[2]));
    TRY(clf_layer_set_shape(m, i, 3, dim));
    TRY(clf_layer_act(m, i, &l->act));
    l->src = d->inputs[0];
    return conv_params(m, i, x->shape.dim[2], dim[2]);
}

/* The op's geometry: input from l->src, padding l->pad. */
static clf_conv_shape conv_geometry(const clf_model *m, int i, int n)
{
    const clf_layer *l = &m->layers[i], *x = &m->layers[l->src];
    const clf_layer_desc *d = l->d;
    clf_conv_shape s;

    s.n = n;
    s.h = x->shape.dim[0], s.w = x->shape.dim[1], s.c = x->shape.dim[2];
    s.oh = l->shape.dim[0], s.ow = l->shape.dim[1], s.oc = l->shape.dim[2];
    s.kh = d->kernel[0], s.kw = d->kernel[1];
    s.sh = d->strides[0], s.sw = d->strides[1];
    s.dh = d->dilation[0], s.dw = d->dilation[1];
    s.pad_top = l->pad[0], s.pad_left = l->pad[1];
    s.mult = d->kind == CLF_LAYER_DEPTHWISE_CONV2D ? d->depth_multiplier : 1;
    return s;
}

static clf_status conv_forward(clf_model *m, int i, int n, bool training)
{
    clf_layer *l = &m->layers[i], *x = &m->layers[l->src];
    clf_conv_shape s = conv_geometry(m, i, n);
    clf_buf *w = m->params[l->param0].w, *b = NULL;

    (void)training;
    if (l->dw) {
        w = l->dw; /* a BatchNormalization folded in */
        b = l->db;
    } else if (l->n_params > 1) {
        b = m->params[l->param0 + 1].w;
    }
    if (l->d->kind == CLF_LAYER_DEPTHWISE_CONV2D)
        return OPS->depthwise_conv2d(m->be, &s, x->out.buf, x->out.off, w, 0, b, 0, l->act,
                                     l->out.buf, l->out.off);
    return OPS->conv2d(m->be, &s, x->out.buf, x->out.off, w, 0, b, 0, l->act, l->out.buf,
                       l->out.off);
}

/* ---- BatchNormalization, inference: y = (x - mean) * gamma / sqrt(var +
 * eps) + beta per channel, from the moving statistics ---- */

static clf_status bn_check(clf_model *m, int i, const clf_layer *x)
{
    const clf_layer_desc *d = desc(m, i);

    if (d->bn_axis != -1 && d->bn_axis != x->shape.rank) {
        CLF_LOG_ERROR("model: BatchNormalization '%s' normalizes axis %d; only the channel "
                      "axis (-1 or %d for its rank-%d input) is supported", d->name,
                      d->bn_axis, x->shape.rank, x->shape.rank);
        return CLF_ERR_UNSUPPORTED;
    }
    if (!(d->bn_epsilon >= 0.0f) || !isfinite(d->bn_epsilon)) {
        CLF_LOG_ERROR("model: BatchNormalization '%s' has epsilon %g; it must be a finite "
                      "number >= 0", d->name, (double)d->bn_epsilon);
        return CLF_ERR_ARG;
    }
    return CLF_OK;
}

static clf_status bn_param(clf_model *m, int i, const char *what, int c, bool trainable,
                           float value)
{
    clf_param *p;

    TRY(clf_param_add(m, i, what, 1, &c, trainable, &p));
    for (size_t k = 0; k < p->count; k++)
        p->host[k] = value;
    return CLF_OK;
}

/* Keras's order and initial values: gamma 1, beta 0, moving_mean 0,
 * moving_variance 1; the moving statistics are never trainable. */
static clf_status bn_build(clf_model *m, int i)
{
    const clf_layer_desc *d = desc(m, i);
    clf_layer *l = &m->layers[i], *x;
    int c;

    TRY(clf_layer_one_input(m, i));
    x = &m->layers[d->inputs[0]];
    TRY(bn_check(m, i, x));
    c = x->shape.dim[x->shape.rank - 1];
    if (d->bn_scale)
        TRY(bn_param(m, i, "gamma", c, d->trainable, 1.0f));
    if (d->bn_center)
        TRY(bn_param(m, i, "beta", c, d->trainable, 0.0f));
    TRY(bn_param(m, i, "moving_mean", c, false, 0.0f));
    TRY(bn_param(m, i, "moving_variance", c, false, 1.0f));
    l->act = (clf_act){CLF_ACT_NONE, INFINITY};
    return clf_layer_set_shape(m, i, x->shape.rank, x->shape.dim);
}

/* Folded into its convolution (an alias), else one channel_affine with
 * the derived scale and shift. */
static clf_status bn_forward(clf_model *m, int i, int n, bool training)
{
    clf_layer *l = &m->layers[i], *x = &m->layers[l->d->inputs[0]];
    int c = l->shape.dim[l->shape.rank - 1];
    int rows = n * (int)(l->size / (size_t)c);

    (void)training;
    if (l->alias)
        return CLF_OK;
    return OPS->channel_affine(m->be, rows, c, x->out.buf, x->out.off, l->dw, 0, l->db, 0,
                               l->act, l->out.buf, l->out.off);
}

/* ---- ZeroPadding2D: (top, bottom, left, right) rows and columns ---- */

static clf_status pad_build(clf_model *m, int i)
{
    const clf_layer_desc *d = desc(m, i);
    clf_layer *x;
    long long h, w;

    TRY(need_map(m, i, &x));
    for (int k = 0; k < 4; k++)
        if (d->pad[k] < 0 || d->pad[k] > CLF_MAX_DIM) {
            CLF_LOG_ERROR("model: ZeroPadding2D '%s' pads by %d; padding must be in 0..%d",
                          d->name, d->pad[k], CLF_MAX_DIM);
            return CLF_ERR_ARG;
        }
    h = (long long)x->shape.dim[0] + d->pad[0] + d->pad[1];
    w = (long long)x->shape.dim[1] + d->pad[2] + d->pad[3];
    if (h > CLF_MAX_DIM || w > CLF_MAX_DIM) {
        CLF_LOG_ERROR("model: ZeroPadding2D '%s' would output %lldx%lld, beyond %d",
                      d->name, h, w, CLF_MAX_DIM);
        return CLF_ERR_SHAPE;
    }
    return clf_layer_set_shape(m, i, 3, (int[3]){(int)h, (int)w, x->shape.dim[2]});
}

static clf_status pad_forward(clf_model *m, int i, int n, bool training)
{
    clf_layer *l = &m->layers[i], *x = &m->layers[l->d->inputs[0]];
    const int *p = l->d->pad;

    (void)training;
    if (l->skip)
        return CLF_OK; /* folded into the convolution that reads it */
    return OPS->zero_pad(m->be, n, x->shape.dim[0], x->shape.dim[1], x->shape.dim[2], p[0],
                         p[1], p[2], p[3], x->out.buf, x->out.off, l->out.buf, l->out.off);
}

/* ---- AveragePooling2D: 'same' windows average what lies inside ---- */

static clf_status avg_pool_build(clf_model *m, int i)
{
    const clf_layer_desc *d = desc(m, i);
    clf_layer *l = &m->layers[i], *x;
    int dim[3];

    TRY(need_map(m, i, &x));
    for (int a = 0; a < 2; a++)
        TRY(window(m, i, a, d->pool[a], d->strides[a], 1, &dim[a], &l->pad[a]));
    dim[2] = x->shape.dim[2];
    return clf_layer_set_shape(m, i, 3, dim);
}

static clf_status avg_pool_forward(clf_model *m, int i, int n, bool training)
{
    clf_layer *l = &m->layers[i], *x = &m->layers[l->d->inputs[0]];
    const clf_layer_desc *d = l->d;
    clf_pool_shape s;

    (void)training;
    s.n = n;
    s.h = x->shape.dim[0], s.w = x->shape.dim[1], s.c = x->shape.dim[2];
    s.oh = l->shape.dim[0], s.ow = l->shape.dim[1];
    s.ph = d->pool[0], s.pw = d->pool[1];
    s.sh = d->strides[0], s.sw = d->strides[1];
    s.pad_top = l->pad[0], s.pad_left = l->pad[1];
    return OPS->avg_pool(m->be, &s, x->out.buf, x->out.off, l->out.buf, l->out.off);
}

/* ---- GlobalAveragePooling2D: (H, W, C) -> (C), and its backward ---- */

static clf_status gap_build(clf_model *m, int i)
{
    clf_layer *x;

    TRY(need_map(m, i, &x));
    return clf_layer_set_shape(m, i, 1, &x->shape.dim[2]);
}

static clf_status gap_forward(clf_model *m, int i, int n, bool training)
{
    clf_layer *l = &m->layers[i], *x = &m->layers[l->d->inputs[0]];
    int hw = x->shape.dim[0] * x->shape.dim[1];

    (void)training;
    return OPS->global_avg_pool(m->be, n, hw, (int)l->size, x->out.buf, x->out.off,
                                l->out.buf, l->out.off);
}

static clf_status gap_backward(clf_model *m, int i, int n)
{
    clf_layer *l = &m->layers[i], *x = &m->layers[l->d->inputs[0]];
    int hw = x->shape.dim[0] * x->shape.dim[1];

    if (!x->needs_grad)
        return CLF_OK;
    return OPS->global_avg_pool_backward(m->be, n, hw, (int)l->size, l->grad.buf,
                                         l->grad.off, x->grad.buf, x->grad.off);
}

static const clf_layer_impl impls[CLF_LAYER_KIND_COUNT_] = {
    [CLF_LAYER_CONV2D] = {conv_build, conv_forward, NULL},
    [CLF_LAYER_DEPTHWISE_CONV2D] = {conv_build, conv_forward, NULL},
    [CLF_LAYER_BATCH_NORM] = {bn_build, bn_forward, NULL},
    [CLF_LAYER_ZERO_PADDING2D] = {pad_build, pad_forward, NULL},
    [CLF_LAYER_AVG_POOL2D] = {avg_pool_build, avg_pool_forward, NULL},
    [CLF_LAYER_GLOBAL_AVG_POOL2D] = {gap_build, gap_forward, gap_backward},
};

const clf_layer_impl *clf_conv_layer_impl(clf_layer_kind kind)
{
    if ((unsigned)kind >= CLF_LAYER_KIND_COUNT_ || !impls[kind].build)
        return NULL;
    return &impls[kind];
}
