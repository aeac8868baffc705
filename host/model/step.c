/* A step: batch in, forward, loss, backward, update, metrics out.
 * Everything is checked on the host before the first op is enqueued. */
#include <stdlib.h>
#include <string.h>

#include "clfit/log.h"
#include "core/rng.h"
#include "model/model_internal.h"

#define OPS (m->be->ops)
clf_status clf_model_check_batch(const clf_model *m, const int32_t *labels, int n)
{
    if (!m->ready) {
        CLF_LOG_ERROR("model: compile the model before running it");
        return CLF_ERR_ARG;
    }
    if (n < 1 || n > m->max_batch) {
        CLF_LOG_ERROR("model: a batch of %d images; it must hold 1..%d (the batch size "
                      "given to compile)", n, m->max_batch);
        return CLF_ERR_ARG;
    }
    for (int i = 0; labels && i < n; i++)
        if (labels[i] < 0 || labels[i] >= m->classes) {
            CLF_LOG_ERROR("model: label %d at position %d of the batch is outside "
                          "[0, %d) (the model has %d classes)", (int)labels[i], i,
                          m->classes, m->classes);
            return CLF_ERR_ARG;
        }
    return CLF_OK;
}

/* v * scale + shift for each preprocessing mode. */
static void pixel_scale(clf_preprocess pre, float *scale, float *shift)
{
    *scale = pre == CLF_PREPROCESS_UNIT ? 1.0f / 255.0f
             : pre == CLF_PREPROCESS_SYMMETRIC ? 1.0f / 127.5f : 1.0f;
    *shift = pre == CLF_PREPROCESS_SYMMETRIC ? -1.0f : 0.0f;
}

clf_status clf_model_load_images(clf_model *m, const uint8_t *images, int n)
{
    size_t bytes = (size_t)n * (size_t)m->in_h * (size_t)m->in_w * 3;
    clf_tref x = m->layers[0].out;
    float scale, shift;

    if (!m->image_input) {
        CLF_LOG_ERROR("model: input '%s' is not an RGB image, (3, H, W) or (H, W, 3), so "
                      "it cannot take images", m->desc.layers[0].name);
        return CLF_ERR_UNSUPPORTED;
    }
    pixel_scale(m->pre, &scale, &shift);
    TRY(OPS->write(m->be, m->images, 0, images, bytes));
    return OPS->u8_to_float(m->be, n, m->in_h, m->in_w, 3, m->input_chw, scale, shift,
                            m->images, 0, x.buf, x.off);
}

clf_status clf_model_load_floats(clf_model *m, const float *x, int n)
{
    clf_tref in = m->layers[0].out;
    size_t count = (size_t)n * m->layers[0].size;

    return OPS->write(m->be, in.buf, in.off * sizeof(float), x, count * sizeof(float));
}

clf_status clf_model_load_labels(clf_model *m, const int32_t *labels, int n)
{
    return OPS->write(m->be, m->labels, 0, labels, (size_t)n * sizeof *labels);
}

/* Derived from (model seed, step, layer) so a resumed run draws the same
 * masks as an uninterrupted one. */
uint32_t clf_model_dropout_seed(const clf_model *m, int index)
{
    clf_rng r;

    clf_rng_seed(&r, m->seed ^ (m->step * 0xd1b54a32d192ed03ULL) ^
                         ((uint64_t)(index + 1) << 44));
    return (uint32_t)(clf_rng_next(&r) >> 32);
}

/* Static layers first (in inference mode, C rows at a time), then the
 * rest on all n rows (plan.c). */
clf_status clf_model_forward(clf_model *m, int n, bool training)
{
    TRY(clf_model_static_forward(m, n));
    return clf_model_dynamic_forward(m, n, training);
}

/* Softmax cross-entropy of the logits. The gradient is of the mean loss
 * over these n rows (scale 1/n), as Keras's "sum over batch size". */
clf_status clf_model_loss(clf_model *m, int n, bool grad)
{
    clf_layer *lg = &m->layers[m->logits];
    clf_buf *g = grad && lg->needs_grad ? lg->grad.buf : NULL;

    return OPS->softmax_xent(m->be, n, m->classes, lg->out.buf, lg->out.off, m->labels, 0,
                             1.0f / (float)n, g, lg->grad.off, m->stats, 0);
}

clf_status clf_model_backward(clf_model *m, int n)
{
    for (int i = m->logits; i > 0; i--) {
        const clf_layer_impl *impl;

        if (!m->layers[i].live || !m->layers[i].needs_grad)
            continue;
        impl = clf_layer_impl_of(m->desc.layers[i].kind);
        TRY(impl->backward(m, i, n));
    }
    return CLF_OK;
}

clf_status clf_model_update(clf_model *m)
{
    m->step++;
    for (int i = 0; i < m->n_params; i++) {
        clf_param *p = &m->params[i];

        if (p->trainable && !p->stepped)
            TRY(clf_optimizer_apply(m->be, &m->opt, m->step, p));
        p->stepped = false;
    }
    return CLF_OK;
}

clf_status clf_model_backward_update(clf_model *m, int n)
{
    clf_status st;

    m->fused_t = m->step + 1;
    st = clf_model_backward(m, n);
    m->fused_t = 0;
    if (st != CLF_OK) {
        for (int i = 0; i < m->n_params; i++)
            m->params[i].stepped = false;
        return st;
    }
    return clf_model_update(m);
}

clf_status clf_model_read_output(clf_model *m, int layer, int n, float *dst)
{
    clf_layer *l;

    if (!m->ready || layer < 0 || layer >= m->desc.n_layers || !m->layers[layer].live ||
        n < 1 || n > m->max_batch) {
        CLF_LOG_ERROR("model: cannot read %d rows of layer %d", n, layer);
        return CLF_ERR_ARG;
    }
    l = &m->layers[layer];
    if (l->skip || !l->full) {
        CLF_LOG_ERROR("model: the output of layer '%s' is not kept after a forward (its "
                      "storage is shared or folded away); mark it with "
                      "clf_model_keep_output before compile", l->d->name);
        return CLF_ERR_ARG;
    }
    return OPS->read(m->be, l->out.buf, l->out.off * sizeof(float), dst,
                     (size_t)n * l->size * sizeof(float));
}

clf_status clf_model_read_input_grad(clf_model *m, int n, float *dst)
{
    clf_layer *in = &m->layers[0];

    if (!in->needs_grad) {
        CLF_LOG_ERROR("model: the input gradient was not asked for before compile");
        return CLF_ERR_ARG;
    }
    return OPS->read(m->be, in->grad.buf, in->grad.off * sizeof(float), dst,
                     (size_t)n * in->size * sizeof(float));
}

static clf_status batch_in(clf_model *m, const uint8_t *images, const int32_t *labels, int n)
{
    TRY(clf_model_check_batch(m, labels, n));
    if (!images) {
        CLF_LOG_ERROR("model: no images given");
        return CLF_ERR_ARG;
    }
    TRY(clf_model_load_images(m, images, n));
    return labels ? clf_model_load_labels(m, labels, n) : CLF_OK;
}

clf_status clf_model_train_batch(clf_model *m, const uint8_t *images, const int32_t *labels,
                                 int n)
{
    if (!labels) {
        CLF_LOG_ERROR("model: training needs labels");
        return CLF_ERR_ARG;
    }
    TRY(batch_in(m, images, labels, n));
    TRY(clf_model_forward(m, n, true));
    TRY(clf_model_loss(m, n, true));
    TRY(clf_model_backward_update(m, n));
    m->folded.count += (size_t)n;
    return CLF_OK;
}

clf_status clf_model_test_batch(clf_model *m, const uint8_t *images, const int32_t *labels,
                                int n)
{
    if (!labels) {
        CLF_LOG_ERROR("model: evaluation needs labels");
        return CLF_ERR_ARG;
    }
    TRY(batch_in(m, images, labels, n));
    TRY(clf_model_forward(m, n, false));
    TRY(clf_model_loss(m, n, false));
    m->folded.count += (size_t)n;
    return CLF_OK;
}

clf_status clf_model_probs(clf_model *m, int n, float *probs)
{
    clf_layer *lg = &m->layers[m->logits];

    TRY(clf_model_forward(m, n, false));
    TRY(OPS->softmax(m->be, n, m->classes, lg->out.buf, lg->out.off, m->probs, 0));
    return OPS->read(m->be, m->probs, 0, probs, (size_t)n * m->classes * sizeof *probs);
}

clf_status clf_model_predict_batch(clf_model *m, const uint8_t *images, int n, float *probs)
{
    if (!probs) {
        CLF_LOG_ERROR("model: no array given for the probabilities");
        return CLF_ERR_ARG;
    }
    TRY(batch_in(m, images, NULL, n));
    return clf_model_probs(m, n, probs);
}

/* The device keeps float sums of one stretch of steps; each read folds
 * them into the host's double totals and restarts them at zero, so long
 * epochs do not lose precision in a float accumulator. */
clf_status clf_model_metrics(clf_model *m, clf_metrics *out)
{
    float s[2];

    if (!m->ready) {
        memset(out, 0, sizeof *out);
        return CLF_ERR_ARG;
    }
    TRY(OPS->read(m->be, m->stats, 0, s, sizeof s));
    TRY(OPS->fill(m->be, m->stats, 0, 2, 0.0f));
    m->folded.loss_sum += s[0];
    m->folded.correct += s[1];
    *out = m->folded;
    return CLF_OK;
}

clf_status clf_model_reset_metrics(clf_model *m)
{
    memset(&m->folded, 0, sizeof m->folded);
    if (!m->ready)
        return CLF_OK;
    return OPS->fill(m->be, m->stats, 0, 2, 0.0f);
}

clf_status clf_model_set_metrics(clf_model *m, const clf_metrics *mt)
{
    TRY(clf_model_reset_metrics(m));
    m->folded = *mt;
    return CLF_OK;
}
