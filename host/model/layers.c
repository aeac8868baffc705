/* The layer kinds the runtime runs: build (check + shape + parameters),
 * forward and backward side by side, every op through the backend table.
 *
 * Backward of layer l reads l->grad (d loss / d output, N x size) and
 * writes its inputs' grads (only those with needs_grad) and its own
 * parameters' gradients. Compile guarantees that a layer whose output
 * needs a gradient has one consumer, so every grad is written, never
 * accumulated.
 */
#include <limits.h>
#include <math.h>

#include "clfit/log.h"
#include "model/model_internal.h"

#define OPS (m->be->ops)
static const clf_layer_desc *desc(const clf_model *m, int i)
{
    return &m->desc.layers[i];
}

static clf_layer *input(clf_model *m, int i, int k)
{
    return &m->layers[desc(m, i)->inputs[k]];
}

/* Sets the shape and per-row size, refusing sizes a gemm cannot index. */
clf_status clf_layer_set_shape(clf_model *m, int i, int rank, const int *dim)
{
    clf_layer *l = &m->layers[i];
    long long size = 1;

    for (int k = 0; k < rank; k++) {
        if (dim[k] < 1 || dim[k] > CLF_MAX_DIM) {
            CLF_LOG_ERROR("model: layer '%s' would have dimension %d of size %d (allowed "
                          "1..%d)", desc(m, i)->name, k + 1, dim[k], CLF_MAX_DIM);
            return CLF_ERR_SHAPE;
        }
        size *= dim[k];
        if (size > INT_MAX) {
            CLF_LOG_ERROR("model: layer '%s' outputs more than %d values per image",
                          desc(m, i)->name, INT_MAX);
            return CLF_ERR_SHAPE;
        }
        l->shape.dim[k] = dim[k];
    }
    l->shape.rank = rank;
    l->size = (size_t)size;
    return CLF_OK;
}

static clf_status same_shape(clf_model *m, int i)
{
    clf_layer *x = input(m, i, 0);

    return clf_layer_set_shape(m, i, x->shape.rank, x->shape.dim);
}

clf_status clf_layer_one_input(const clf_model *m, int i)
{
    if (desc(m, i)->n_inputs != 1) {
        CLF_LOG_ERROR("model: layer '%s' (%s) takes one input, not %d", desc(m, i)->name,
                      clf_layer_kind_name(desc(m, i)->kind), desc(m, i)->n_inputs);
        return CLF_ERR_ARG;
    }
    return CLF_OK;
}

/* Activation (linear / relu with a cap / softmax) of layer i as an op
 * argument. Softmax is only allowed on the output: the loss applies it. */
clf_status clf_layer_act(clf_model *m, int i, clf_act *act)
{
    const clf_layer_desc *d = desc(m, i);

    act->kind = CLF_ACT_NONE;
    act->max = INFINITY;
    switch (d->activation) {
    case CLF_ACTIVATION_LINEAR:
        return CLF_OK;
    case CLF_ACTIVATION_RELU:
        if (!(d->relu_max > 0.0f)) {
            CLF_LOG_ERROR("model: layer '%s' has relu max_value %g; it must be above 0",
                          d->name, (double)d->relu_max);
            return CLF_ERR_ARG;
        }
        act->kind = CLF_ACT_RELU;
        act->max = d->relu_max;
        return CLF_OK;
    case CLF_ACTIVATION_SOFTMAX:
        if (i == m->desc.output)
            return CLF_OK;
        CLF_LOG_ERROR("model: layer '%s' applies a softmax but is not the output layer; "
                      "clfit supports softmax only as the final activation", d->name);
        return CLF_ERR_UNSUPPORTED;
    }
    CLF_LOG_ERROR("model: layer '%s' has an unknown activation (%d)", d->name,
                  (int)d->activation);
    return CLF_ERR_ARG;
}

/* ---- InputLayer: its output is filled by the batch loaders ---- */

static clf_status input_build(clf_model *m, int i)
{
    const clf_layer_desc *d = desc(m, i);

    if (d->input_rank < 1 || d->input_rank > 3) {
        CLF_LOG_ERROR("model: input '%s' has rank %d; ranks 1..3 are supported", d->name,
                      d->input_rank);
        return CLF_ERR_UNSUPPORTED;
    }
    return clf_layer_set_shape(m, i, d->input_rank, d->input_shape);
}

static clf_status no_forward(clf_model *m, int i, int n, bool training)
{
    (void)m, (void)i, (void)n, (void)training;
    return CLF_OK;
}

static clf_status no_backward(clf_model *m, int i, int n)
{
    (void)m, (void)i, (void)n;
    return CLF_OK;
}

/* ---- Flatten: a reshape; Keras's row-major order is the stored one ---- */

static clf_status flatten_build(clf_model *m, int i)
{
    int size;

    TRY(clf_layer_one_input(m, i));
    size = (int)input(m, i, 0)->size;
    m->layers[i].alias = true;
    return clf_layer_set_shape(m, i, 1, &size);
}

/* ---- Dense: Y = act(X W + b), X is N x I, W is I x U ---- */

static clf_status dense_build(clf_model *m, int i)
{
    const clf_layer_desc *d = desc(m, i);
    clf_layer *x;
    clf_param *p;
    int units = d->units;

    TRY(clf_layer_one_input(m, i));
    x = input(m, i, 0);
    if (x->shape.rank != 1) {
        CLF_LOG_ERROR("model: Dense layer '%s' takes a rank-%d tensor; only vectors are "
                      "supported (add a Flatten before it)", d->name, x->shape.rank);
        return CLF_ERR_UNSUPPORTED;
    }
    TRY(clf_layer_set_shape(m, i, 1, &units));
    TRY(clf_layer_act(m, i, &m->layers[i].act));

    int kshape[2] = {(int)x->size, units};
    TRY(clf_param_add(m, i, "kernel", 2, kshape, d->trainable, &p));
    clf_param_glorot(m, p, kshape[0], units);
    if (d->use_bias)
        TRY(clf_param_add(m, i, "bias", 1, &units, d->trainable, &p));
    return CLF_OK;
}

static clf_status dense_forward(clf_model *m, int i, int n, bool training)
{
    clf_layer *l = &m->layers[i], *x = input(m, i, 0);
    clf_param *w = &m->params[l->param0];
    clf_buf *bias = l->n_params > 1 ? m->params[l->param0 + 1].w : NULL;
    int in = (int)x->size, units = (int)l->size;

    (void)training;
    TRY(OPS->gemm(m->be, false, false, n, units, in, 1.0f, x->out.buf, x->out.off, in, w->w,
                  0, units, 0.0f, l->out.buf, l->out.off, units));
    if (!bias && l->act.kind == CLF_ACT_NONE)
        return CLF_OK;
    return OPS->bias_act(m->be, n, units, l->out.buf, l->out.off, bias, 0, l->act);
}

/* Inside a training step: dX from the old W first, then the parameters'
 * gradients and update in one pass (backend dense_update). */
static clf_status dense_backward_fused(clf_model *m, int i, int n)
{
    clf_layer *l = &m->layers[i], *x = input(m, i, 0);
    clf_param *w = &m->params[l->param0];
    clf_param *b = l->n_params > 1 ? &m->params[l->param0 + 1] : NULL;
    int in = (int)x->size, units = (int)l->size;
    clf_tref dy = l->grad;
    clf_opt_step opt;

    if (x->needs_grad)
        TRY(OPS->gemm(m->be, false, true, n, in, units, 1.0f, dy.buf, dy.off, units, w->w, 0,
                      units, 0.0f, x->grad.buf, x->grad.off, in));
    clf_optimizer_step_args(&m->opt, m->fused_t, &opt);
    TRY(OPS->dense_update(m->be, n, in, units, x->out.buf, x->out.off, in, dy.buf, dy.off,
                          &opt, w->w, w->slot, b ? b->w : NULL, b ? b->slot : NULL));
    w->stepped = true;
    if (b)
        b->stepped = true;
    return CLF_OK;
}

static clf_status dense_backward(clf_model *m, int i, int n)
{
    clf_layer *l = &m->layers[i], *x = input(m, i, 0);
    clf_param *w = &m->params[l->param0];
    clf_param *b = l->n_params > 1 ? &m->params[l->param0 + 1] : NULL;
    int in = (int)x->size, units = (int)l->size;
    clf_tref dy = l->grad;

    /* dY *= act'(Y), from the stored output */
    if (l->act.kind != CLF_ACT_NONE)
        TRY(OPS->act_backward(m->be, (size_t)n * units, l->act, l->out.buf, l->out.off,
                              dy.buf, dy.off));
    if (w->trainable && m->fused_t)
        return dense_backward_fused(m, i, n);
    if (w->trainable) {
        /* dW = X^T dY (I x U); db = column sums of dY */
        TRY(OPS->gemm(m->be, true, false, in, units, n, 1.0f, x->out.buf, x->out.off, in,
                      dy.buf, dy.off, units, 0.0f, w->g, 0, units));
        if (b)
            TRY(OPS->col_sum(m->be, n, units, dy.buf, dy.off, 0.0f, b->g, 0));
    }
    if (!x->needs_grad)
        return CLF_OK;
    /* dX = dY W^T (N x I) */
    return OPS->gemm(m->be, false, true, n, in, units, 1.0f, dy.buf, dy.off, units, w->w, 0,
                     units, 0.0f, x->grad.buf, x->grad.off, in);
}

/* ---- Dropout: inverted dropout in training, the identity otherwise ---- */

static clf_status dropout_build(clf_model *m, int i)
{
    float rate = desc(m, i)->rate;

    TRY(clf_layer_one_input(m, i));
    if (!(rate >= 0.0f && rate < 1.0f)) {
        CLF_LOG_ERROR("model: Dropout layer '%s' has rate %g; it must be in [0, 1)",
                      desc(m, i)->name, (double)rate);
        return CLF_ERR_ARG;
    }
    return same_shape(m, i);
}

static clf_status dropout_forward(clf_model *m, int i, int n, bool training)
{
    clf_layer *l = &m->layers[i], *x = input(m, i, 0);
    float rate = desc(m, i)->rate;
    size_t count = (size_t)n * l->size;

    if (!training || rate == 0.0f)
        return OPS->copy(m->be, x->out.buf, x->out.off, l->out.buf, l->out.off, count);
    return OPS->dropout(m->be, count, rate, clf_model_dropout_seed(m, i), x->out.buf,
                        x->out.off, l->out.buf, l->out.off);
}

/* The same mask (same seed, same element indices) on the gradient. */
static clf_status dropout_backward(clf_model *m, int i, int n)
{
    clf_layer *l = &m->layers[i], *x = input(m, i, 0);
    float rate = desc(m, i)->rate;
    size_t count = (size_t)n * l->size;

    if (!x->needs_grad)
        return CLF_OK;
    if (rate == 0.0f)
        return OPS->copy(m->be, l->grad.buf, l->grad.off, x->grad.buf, x->grad.off, count);
    return OPS->dropout(m->be, count, rate, clf_model_dropout_seed(m, i), l->grad.buf,
                        l->grad.off, x->grad.buf, x->grad.off);
}

/* ---- Activation / ReLU: linear is an alias, softmax is the loss's ---- */

static clf_status activation_build(clf_model *m, int i)
{
    clf_layer *l = &m->layers[i];

    TRY(clf_layer_one_input(m, i));
    TRY(clf_layer_act(m, i, &l->act));
    l->alias = l->act.kind == CLF_ACT_NONE;
    return same_shape(m, i);
}

static clf_status activation_forward(clf_model *m, int i, int n, bool training)
{
    clf_layer *l = &m->layers[i], *x = input(m, i, 0);

    (void)training;
    if (l->alias)
        return CLF_OK;
    TRY(OPS->copy(m->be, x->out.buf, x->out.off, l->out.buf, l->out.off, (size_t)n * l->size));
    return OPS->bias_act(m->be, n, (int)l->size, l->out.buf, l->out.off, NULL, 0, l->act);
}

static clf_status activation_backward(clf_model *m, int i, int n)
{
    clf_layer *l = &m->layers[i], *x = input(m, i, 0);
    size_t count = (size_t)n * l->size;

    if (l->alias || !x->needs_grad)
        return CLF_OK;
    TRY(OPS->copy(m->be, l->grad.buf, l->grad.off, x->grad.buf, x->grad.off, count));
    return OPS->act_backward(m->be, count, l->act, l->out.buf, l->out.off, x->grad.buf,
                             x->grad.off);
}

/* ---- Add: elementwise sum of inputs of one shape ---- */

static clf_status add_build(clf_model *m, int i)
{
    const clf_layer_desc *d = desc(m, i);
    clf_layer *a = input(m, i, 0);

    if (d->n_inputs < 2) {
        CLF_LOG_ERROR("model: Add layer '%s' needs at least 2 inputs, has %d", d->name,
                      d->n_inputs);
        return CLF_ERR_ARG;
    }
    for (int k = 1; k < d->n_inputs; k++) {
        clf_layer *b = input(m, i, k);
        bool same = a->shape.rank == b->shape.rank;

        for (int r = 0; same && r < a->shape.rank; r++)
            same = a->shape.dim[r] == b->shape.dim[r];
        if (!same) {
            CLF_LOG_ERROR("model: Add layer '%s' adds '%s' and '%s', whose shapes differ",
                          d->name, desc(m, d->inputs[0])->name, desc(m, d->inputs[k])->name);
            return CLF_ERR_SHAPE;
        }
    }
    m->layers[i].act = (clf_act){CLF_ACT_NONE, INFINITY};
    return same_shape(m, i);
}

/* A ReLU fused into the Add (fuse.c) is applied by the last sum. */
static clf_status add_forward(clf_model *m, int i, int n, bool training)
{
    clf_layer *l = &m->layers[i], *a = input(m, i, 0);
    clf_act none = {CLF_ACT_NONE, INFINITY};
    size_t count = (size_t)n * l->size;
    int last = desc(m, i)->n_inputs - 1;
    clf_tref acc = a->out;

    (void)training;
    for (int k = 1; k <= last; k++) {
        clf_layer *b = input(m, i, k);

        TRY(OPS->add(m->be, count, acc.buf, acc.off, b->out.buf, b->out.off,
                     k == last ? l->act : none, l->out.buf, l->out.off));
        acc = l->out;
    }
    return CLF_OK;
}

/* d(a + b)/da = 1: each input gets a copy of the gradient. */
static clf_status add_backward(clf_model *m, int i, int n)
{
    clf_layer *l = &m->layers[i];
    size_t count = (size_t)n * l->size;

    for (int k = 0; k < desc(m, i)->n_inputs; k++) {
        clf_layer *x = input(m, i, k);

        if (x->needs_grad)
            TRY(OPS->copy(m->be, l->grad.buf, l->grad.off, x->grad.buf, x->grad.off,
                          count));
    }
    return CLF_OK;
}

/* The convolutional kinds (Conv2D, DepthwiseConv2D, BatchNormalization,
 * ZeroPadding2D, the poolings) live in layers_conv.c. */
static const clf_layer_impl impls[CLF_LAYER_KIND_COUNT_] = {
    [CLF_LAYER_INPUT] = {input_build, no_forward, no_backward},
    [CLF_LAYER_FLATTEN] = {flatten_build, no_forward, no_backward},
    [CLF_LAYER_DENSE] = {dense_build, dense_forward, dense_backward},
    [CLF_LAYER_DROPOUT] = {dropout_build, dropout_forward, dropout_backward},
    [CLF_LAYER_ACTIVATION] = {activation_build, activation_forward, activation_backward},
    [CLF_LAYER_ADD] = {add_build, add_forward, add_backward},
};

const clf_layer_impl *clf_layer_impl_of(clf_layer_kind kind)
{
    if ((unsigned)kind >= CLF_LAYER_KIND_COUNT_)
        return NULL;
    if (!impls[kind].build)
        return clf_conv_layer_impl(kind);
    return &impls[kind];
}
