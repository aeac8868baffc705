/* Compile-time fusion of static layers, and the derived data it needs.
 *
 * Three rewrites, each only between static layers where the first one's
 * output has no other reader and is not kept for reading:
 * - ZeroPadding2D -> Conv2D / DepthwiseConv2D: the convolution reads the
 *   unpadded map with its top/left padding increased. Exact: the op reads
 *   zeros outside its input, and padding at the bottom/right only has to
 *   exist in the output size, which the layer shape already has.
 * - Conv -> BatchNormalization: with s = gamma / sqrt(var + eps),
 *   BN(conv(x, w) + b) = conv(x, w * s) + (b - mean) * s + beta, per
 *   output channel. The BN becomes an alias of the convolution.
 * - op -> ReLU / ReLU6 (an Activation layer): the op before it (a
 *   convolution, possibly through a folded BN; Add; Dense; an unfolded
 *   BN's channel_affine) applies the clamp; the Activation becomes an alias.
 * A BatchNormalization that is not folded runs as channel_affine with
 * scale s and shift beta - mean * s. Both kinds of derived data are
 * computed in double from the Keras tensors (wherever they live) and
 * rounded once to float.
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "clfit/log.h"
#include "core/alloc.h"
#include "model/model_internal.h"

static bool is_conv(clf_layer_kind k)
{
    return k == CLF_LAYER_CONV2D || k == CLF_LAYER_DEPTHWISE_CONV2D;
}

/* Layer i's only live reader, or -1 when it has none or several. */
static int only_reader(const clf_model *m, int i)
{
    if (m->layers[i].fanout != 1)
        return -1;
    for (int j = i + 1; j < m->desc.n_layers; j++) {
        const clf_layer_desc *d = &m->desc.layers[j];

        if (!m->layers[j].live)
            continue;
        for (int k = 0; k < d->n_inputs; k++)
            if (d->inputs[k] == i)
                return j;
    }
    return -1;
}

/* i's output may be rewritten in place of its reader's: static, one
 * reader, not kept for reading. */
static bool private_static(const clf_model *m, int i)
{
    const clf_layer *l = &m->layers[i];

    return l->live && l->stat && !l->keep && only_reader(m, i) >= 0;
}

static void fold_padding(clf_model *m, int c)
{
    clf_layer *l = &m->layers[c];
    int p = l->d->inputs[0];
    clf_layer *pad = &m->layers[p];

    if (pad->d->kind != CLF_LAYER_ZERO_PADDING2D || !private_static(m, p))
        return;
    pad->skip = true;
    l->src = pad->d->inputs[0];
    l->pad[0] += pad->d->pad[0];
    l->pad[1] += pad->d->pad[2];
}

static void fold_bn(clf_model *m, int b)
{
    int c = m->desc.layers[b].inputs[0];
    clf_layer *conv = &m->layers[c];

    if (!is_conv(conv->d->kind) || !private_static(m, c) || conv->act.kind != CLF_ACT_NONE)
        return;
    conv->fold = b;
    m->layers[b].alias = true;
}

/* The layer whose op writes p's output: p, or the convolution a BN at p
 * is folded into. -1 when that op cannot take an activation. */
static int act_owner(const clf_model *m, int p)
{
    const clf_layer *l = &m->layers[p];

    if (l->d->kind == CLF_LAYER_BATCH_NORM && l->alias)
        return l->d->inputs[0];
    switch (l->d->kind) {
    case CLF_LAYER_CONV2D:
    case CLF_LAYER_DEPTHWISE_CONV2D:
    case CLF_LAYER_BATCH_NORM:
    case CLF_LAYER_ADD:
    case CLF_LAYER_DENSE:
        return p;
    default:
        return -1;
    }
}

static void fuse_relu(clf_model *m, int a)
{
    clf_layer *l = &m->layers[a];
    int p = l->d->inputs[0], o;

    if (l->d->activation != CLF_ACTIVATION_RELU || l->alias || !private_static(m, p))
        return;
    o = act_owner(m, p);
    if (o < 0 || m->layers[o].act.kind != CLF_ACT_NONE)
        return;
    m->layers[o].act = l->act;
    l->alias = true;
}

void clf_fuse_layers(clf_model *m)
{
    for (int i = 0; i < m->desc.n_layers; i++)
        m->layers[i].fold = -1;
    if (m->no_fold)
        return;
    for (int i = 1; i < m->desc.n_layers; i++) {
        clf_layer *l = &m->layers[i];

        if (!l->live || !l->stat)
            continue;
        if (is_conv(l->d->kind))
            fold_padding(m, i);
        else if (l->d->kind == CLF_LAYER_BATCH_NORM)
            fold_bn(m, i);
        else if (l->d->kind == CLF_LAYER_ACTIVATION)
            fuse_relu(m, i);
    }
}

/* ---- derived data ---- */

/* Index of layer i's tensor called "<layer>/<var>", or -1. */
static int layer_tensor(const clf_model *m, int i, const char *var)
{
    const clf_layer *l = &m->layers[i];

    for (int k = 0; k < l->n_params; k++) {
        const char *name = m->params[l->param0 + k].name;
        const char *slash = strrchr(name, '/');

        if (slash && strcmp(slash + 1, var) == 0)
            return l->param0 + k;
    }
    return -1;
}

/* Tensor var of layer i into dst (c floats), or `absent` everywhere. */
static clf_status read_or(clf_model *m, int i, const char *var, float absent, float *dst,
                          size_t c)
{
    int t = layer_tensor(m, i, var);

    if (t < 0) {
        for (size_t k = 0; k < c; k++)
            dst[k] = absent;
        return CLF_OK;
    }
    return clf_model_tensor_read(m, (size_t)t, dst, c);
}

/* Per channel: scale = gamma / sqrt(var + eps), shift = beta - mean * scale
 * (as doubles in scale_d / shift_d). */
static clf_status bn_affine(clf_model *m, int b, size_t c, double *scale, double *shift)
{
    float *t = clf_malloc_array(4 * c, sizeof *t, "batch norm statistics");
    const clf_layer_desc *d = &m->desc.layers[b];
    clf_status st = t ? CLF_OK : CLF_ERR_NOMEM;

    if (st == CLF_OK)
        st = read_or(m, b, "gamma", 1.0f, t, c);
    if (st == CLF_OK)
        st = read_or(m, b, "beta", 0.0f, t + c, c);
    if (st == CLF_OK)
        st = read_or(m, b, "moving_mean", 0.0f, t + 2 * c, c);
    if (st == CLF_OK)
        st = read_or(m, b, "moving_variance", 1.0f, t + 3 * c, c);
    for (size_t k = 0; k < c && st == CLF_OK; k++) {
        double v = (double)t[3 * c + k] + (double)d->bn_epsilon;

        if (!(v > 0.0)) {
            CLF_LOG_ERROR("model: BatchNormalization '%s': moving_variance + epsilon is %g "
                          "at channel %zu; it must be above 0", d->name, v, k);
            st = CLF_ERR_ARG;
            break;
        }
        scale[k] = (double)t[k] / sqrt(v);
        shift[k] = (double)t[c + k] - (double)t[2 * c + k] * scale[k];
    }
    free(t);
    return st;
}

/* Device buffer *b of n floats (made on first use), filled from v. */
static clf_status put_derived(clf_model *m, clf_buf **b, const float *v, size_t n,
                              const char *what)
{
    if (!*b)
        TRY(clf_model_new_buf(m, n, sizeof(float), what, b));
    return m->be->ops->write(m->be, *b, 0, v, n * sizeof(float));
}

static clf_status derive_affine(clf_model *m, int b, const double *scale, const double *shift,
                                float *tmp, size_t c)
{
    clf_layer *l = &m->layers[b];

    for (size_t k = 0; k < c; k++)
        tmp[k] = (float)scale[k];
    TRY(put_derived(m, &l->dw, tmp, c, "batch norm scale"));
    for (size_t k = 0; k < c; k++)
        tmp[k] = (float)shift[k];
    return put_derived(m, &l->db, tmp, c, "batch norm shift");
}

/* Kernel (..., oc) times scale per output channel; bias (b - mean) * s
 * + beta = b * s + shift. */
static clf_status derive_folded(clf_model *m, int cv, const double *scale,
                                const double *shift, size_t oc)
{
    clf_layer *l = &m->layers[cv];
    const clf_param *k = &m->params[l->param0];
    float *w = clf_malloc_array(k->count + oc, sizeof *w, "folded kernel");
    float *bias = w ? w + k->count : NULL;
    clf_status st = w ? CLF_OK : CLF_ERR_NOMEM;

    if (st == CLF_OK)
        st = clf_model_tensor_read(m, (size_t)l->param0, w, k->count);
    if (st == CLF_OK)
        st = read_or(m, cv, "bias", 0.0f, bias, oc);
    if (st == CLF_OK) {
        for (size_t e = 0; e < k->count; e++)
            w[e] = (float)((double)w[e] * scale[e % oc]);
        for (size_t o = 0; o < oc; o++)
            bias[o] = (float)((double)bias[o] * scale[o] + shift[o]);
        st = put_derived(m, &l->dw, w, k->count, "folded kernel");
    }
    if (st == CLF_OK)
        st = put_derived(m, &l->db, bias, oc, "folded bias");
    free(w);
    return st;
}

static clf_status derive_bn(clf_model *m, int b)
{
    clf_layer *l = &m->layers[b];
    size_t c = (size_t)l->shape.dim[l->shape.rank - 1];
    double *scale = clf_malloc_array(2 * c, sizeof *scale, "batch norm scale");
    float *tmp = clf_malloc_array(c, sizeof *tmp, "batch norm scale");
    clf_status st = scale && tmp ? CLF_OK : CLF_ERR_NOMEM;

    if (st == CLF_OK)
        st = bn_affine(m, b, c, scale, scale + c);
    if (st == CLF_OK && l->alias)
        st = derive_folded(m, l->d->inputs[0], scale, scale + c, c);
    else if (st == CLF_OK)
        st = derive_affine(m, b, scale, scale + c, tmp, c);
    free(scale);
    free(tmp);
    return st;
}

clf_status clf_fuse_derive(clf_model *m)
{
    for (int i = 1; i < m->desc.n_layers; i++) {
        const clf_layer *l = &m->layers[i];

        if (l->live && l->d->kind == CLF_LAYER_BATCH_NORM)
            TRY(derive_bn(m, i));
    }
    m->derived_stale = false;
    return CLF_OK;
}
