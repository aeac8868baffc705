/* Compile: which layers need gradients, which are static and what fuses
 * (fuse.c), device storage for activations (plan.c), gradients, weights
 * and optimizer state, and the upload of the weights. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "clfit/log.h"
#include "core/alloc.h"
#include "model/model_internal.h"

static const char *const preprocess_names[] = {"unit", "symmetric", "none"};

const char *clf_preprocess_name(clf_preprocess p)
{
    if ((unsigned)p > CLF_PREPROCESS_NONE)
        return NULL;
    return preprocess_names[p];
}

clf_status clf_preprocess_parse(const char *name, clf_preprocess *out)
{
    for (int i = 0; i <= CLF_PREPROCESS_NONE; i++)
        if (name && strcmp(name, preprocess_names[i]) == 0) {
            *out = (clf_preprocess)i;
            return CLF_OK;
        }
    CLF_LOG_ERROR("unknown preprocessing '%s': use unit ([0,1]), symmetric ([-1,1]) or "
                  "none (0..255)", name ? name : "(null)");
    return CLF_ERR_ARG;
}

clf_status clf_model_new_buf(clf_model *m, size_t count, size_t elem, const char *what,
                             clf_buf **out)
{
    size_t bytes;
    clf_status st;

    *out = NULL;
    if (!clf_mul_size(count, elem, &bytes)) {
        CLF_LOG_ERROR("model: %s needs %zu x %zu bytes, which overflows", what, count, elem);
        return CLF_ERR_OVERFLOW;
    }
    st = clf_realloc_array((void **)&m->bufs, (size_t)m->n_bufs + 1, sizeof *m->bufs,
                           "model buffers");
    if (st != CLF_OK)
        return st;
    st = m->be->ops->buf_new(m->be, bytes, what, out);
    if (st == CLF_OK)
        m->bufs[m->n_bufs++] = *out;
    return st;
}

/* Gradients flow into a layer's output when a trainable tensor lies at or
 * before it. Such a layer needs a backward, and its output one consumer:
 * summing gradients from several (a residual branch inside the trained
 * part) is not implemented. */
static clf_status mark_grads(clf_model *m)
{
    for (int i = 0; i < m->desc.n_layers; i++) {
        clf_layer *l = &m->layers[i];
        const clf_layer_desc *d = l->d;

        if (!l->live)
            continue;
        l->needs_grad = i == 0 && m->input_grad;
        for (int k = 0; k < l->n_params; k++)
            l->needs_grad |= m->params[l->param0 + k].trainable;
        for (int k = 0; k < d->n_inputs; k++)
            l->needs_grad |= m->layers[d->inputs[k]].needs_grad;
        if (l->needs_grad && !clf_layer_impl_of(d->kind)->backward) {
            CLF_LOG_ERROR("model: layer '%s' (%s) runs forward only, and gradients would "
                          "have to flow through it; freeze it and the layers before it",
                          d->name, clf_layer_kind_name(d->kind));
            return CLF_ERR_UNSUPPORTED;
        }
        if (l->needs_grad && l->fanout > 1) {
            CLF_LOG_ERROR("model: layer '%s' feeds %d layers and gradients must flow back "
                          "through it; training such a branch is not supported yet (freeze "
                          "the layers up to it)", d->name, l->fanout);
            return CLF_ERR_UNSUPPORTED;
        }
    }
    return CLF_OK;
}

static clf_status param_buf(clf_model *m, clf_param *p, const char *suffix, clf_buf **out)
{
    char what[CLF_PARAM_NAME_MAX + 16];

    snprintf(what, sizeof what, "%s%s", p->name, suffix);
    return m->be->ops->buf_new(m->be, p->count * sizeof(float), what, out);
}

/* Weights up (then the host copy goes), zeroed gradient and state. */
static clf_status alloc_params(clf_model *m)
{
    static const char *const slot_names[2] = {" state 0", " state 1"};
    const clf_backend_ops *ops = m->be->ops;

    for (int i = 0; i < m->n_params; i++) {
        clf_param *p = &m->params[i];
        clf_status st = param_buf(m, p, "", &p->w);

        if (st == CLF_OK)
            st = ops->write(m->be, p->w, 0, p->host, p->count * sizeof(float));
        if (st != CLF_OK)
            return st;
        free(p->host);
        p->host = NULL;
        if (!p->trainable)
            continue;
        st = param_buf(m, p, " gradient", &p->g);
        if (st == CLF_OK)
            st = ops->fill(m->be, p->g, 0, p->count, 0.0f);
        for (int s = 0; s < m->n_slots && st == CLF_OK; s++) {
            st = param_buf(m, p, slot_names[s], &p->slot[s]);
            if (st == CLF_OK)
                st = ops->fill(m->be, p->slot[s], 0, p->count, 0.0f);
        }
        if (st != CLF_OK)
            return st;
    }
    return CLF_OK;
}

/* The batch in (images, labels) and the results out (stats, probs). */
static clf_status alloc_io(clf_model *m)
{
    size_t b = (size_t)m->max_batch, pixels = 0;
    clf_status st;

    if (m->image_input && !clf_mul4_size(b, (size_t)m->in_h, (size_t)m->in_w, 3, &pixels)) {
        CLF_LOG_ERROR("model: a batch of %zu images of %dx%d overflows", b, m->in_h,
                      m->in_w);
        return CLF_ERR_OVERFLOW;
    }
    if (m->image_input) {
        st = clf_model_new_buf(m, pixels, 1, "image batch", &m->images);
        if (st != CLF_OK)
            return st;
    }
    st = clf_model_new_buf(m, b, sizeof(int32_t), "label batch", &m->labels);
    if (st == CLF_OK)
        st = clf_model_new_buf(m, 2, sizeof(float), "loss and accuracy sums", &m->stats);
    if (st == CLF_OK)
        st = clf_model_new_buf(m, b * (size_t)m->classes, sizeof(float), "probabilities",
                               &m->probs);
    if (st == CLF_OK)
        st = m->be->ops->fill(m->be, m->stats, 0, 2, 0.0f);
    return st;
}

static clf_status check_compile(const clf_model *m, const clf_backend *be,
                                const clf_optimizer *opt, clf_preprocess pre, int max_batch)
{
    if (m->be) {
        CLF_LOG_ERROR("model: already compiled; build a new model to compile again");
        return CLF_ERR_ARG;
    }
    if (!be || !opt) {
        CLF_LOG_ERROR("model compile: no backend or no optimizer given");
        return CLF_ERR_ARG;
    }
    if (!clf_preprocess_name(pre)) {
        CLF_LOG_ERROR("model compile: unknown preprocessing mode %d", (int)pre);
        return CLF_ERR_ARG;
    }
    if (max_batch < 1 || max_batch > CLF_MAX_BATCH) {
        CLF_LOG_ERROR("model compile: batch size %d is outside 1..%d", max_batch,
                      CLF_MAX_BATCH);
        return CLF_ERR_ARG;
    }
    return clf_optimizer_check(opt);
}

clf_status clf_model_compile(clf_model *m, clf_backend *be, const clf_optimizer *opt,
                             clf_preprocess pre, int max_batch)
{
    clf_status st = check_compile(m, be, opt, pre, max_batch);

    if (st == CLF_OK)
        st = mark_grads(m);
    if (st != CLF_OK)
        return st;
    m->be = be;
    m->opt = *opt;
    m->pre = pre;
    m->max_batch = max_batch;
    m->n_slots = clf_optimizer_slots(opt);
    if (clf_model_param_count(m, true) == 0)
        CLF_LOG_WARN("model: no trainable parameters; training steps will not change it");
    clf_plan_mark_static(m);
    clf_fuse_layers(m);
    st = clf_plan_storage(m);
    if (st == CLF_OK)
        st = alloc_params(m);
    if (st == CLF_OK)
        st = clf_fuse_derive(m);
    if (st == CLF_OK)
        st = alloc_io(m);
    if (st != CLF_OK) {
        CLF_LOG_ERROR("model: compile on %s failed; this model cannot be used",
                      be->desc.name);
        return st;
    }
    m->ready = true;
    return CLF_OK;
}
