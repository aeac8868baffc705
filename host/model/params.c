/* Parameter tensors: creation, Glorot init, and copying values, gradients
 * and optimizer state between the host and wherever they live. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "clfit/log.h"
#include "core/alloc.h"
#include "core/rng.h"
#include "model/model_internal.h"

clf_status clf_param_add(clf_model *m, int index, const char *what, int rank,
                         const int *shape, bool trainable, clf_param **out)
{
    const char *layer = m->desc.layers[index].name;
    clf_param *p;
    size_t count = 1;
    clf_status st;

    for (int i = 0; i < rank; i++)
        if (shape[i] < 1 || !clf_mul_size(count, (size_t)shape[i], &count)) {
            CLF_LOG_ERROR("model: tensor %s/%s has an unusable shape", layer, what);
            return CLF_ERR_SHAPE;
        }
    st = clf_realloc_array((void **)&m->params, (size_t)m->n_params + 1, sizeof *m->params,
                           "model parameters");
    if (st != CLF_OK)
        return st;
    p = &m->params[m->n_params];
    memset(p, 0, sizeof *p);
    snprintf(p->name, sizeof p->name, "%s/%s", layer, what);
    p->layer = index;
    p->rank = rank;
    memcpy(p->shape, shape, (size_t)rank * sizeof *shape);
    p->count = count;
    p->trainable = trainable;
    p->host = clf_calloc_array(count, sizeof(float), p->name);
    if (!p->host)
        return CLF_ERR_NOMEM;
    m->n_params++;
    *out = p;
    return CLF_OK;
}

/* Keras's glorot_uniform: U(-limit, limit), limit = sqrt(6 / (in + out)).
 * Each layer draws from its own stream, so one layer's weights do not
 * depend on the layers before it. */
void clf_param_glorot(const clf_model *m, clf_param *p, int fan_in, int fan_out)
{
    float limit = (float)sqrt(6.0 / ((double)fan_in + (double)fan_out));
    clf_rng r;

    /* 2u - 1 is exact in float and at most 1, so |w| <= limit holds
     * after rounding too */
    clf_rng_seed(&r, m->seed ^ (0x9e3779b97f4a7c15ULL * (uint64_t)(p->layer + 1)));
    for (size_t i = 0; i < p->count; i++)
        p->host[i] = (2.0f * clf_rng_uniform(&r) - 1.0f) * limit;
}

void clf_params_free(clf_model *m)
{
    for (int i = 0; i < m->n_params; i++) {
        clf_param *p = &m->params[i];

        free(p->host);
        if (!m->be)
            continue;
        m->be->ops->buf_free(m->be, p->w);
        m->be->ops->buf_free(m->be, p->g);
        m->be->ops->buf_free(m->be, p->slot[0]);
        m->be->ops->buf_free(m->be, p->slot[1]);
    }
    free(m->params);
    m->params = NULL;
    m->n_params = 0;
}

size_t clf_model_tensor_count(const clf_model *m)
{
    return (size_t)m->n_params;
}

static clf_param *lookup(const clf_model *m, size_t index, size_t count, const char *op)
{
    clf_param *p;

    if (index >= (size_t)m->n_params) {
        CLF_LOG_ERROR("model %s: tensor index %zu is outside 0..%d", op, index,
                      m->n_params - 1);
        return NULL;
    }
    p = &m->params[index];
    if (count != p->count) {
        CLF_LOG_ERROR("model %s: tensor %s holds %zu values, not %zu", op, p->name, p->count,
                      count);
        return NULL;
    }
    return p;
}

clf_status clf_model_tensor_info(const clf_model *m, size_t index, clf_tensor_info *out)
{
    const clf_param *p;

    if (index >= (size_t)m->n_params) {
        CLF_LOG_ERROR("model: tensor index %zu is outside 0..%d", index, m->n_params - 1);
        return CLF_ERR_ARG;
    }
    p = &m->params[index];
    memset(out, 0, sizeof *out);
    out->name = p->name;
    out->rank = p->rank;
    memcpy(out->shape, p->shape, sizeof p->shape);
    out->count = p->count;
    out->trainable = p->trainable;
    return CLF_OK;
}

clf_status clf_model_tensor_find(const clf_model *m, const char *name, size_t *index)
{
    for (int i = 0; i < m->n_params; i++)
        if (strcmp(m->params[i].name, name) == 0) {
            *index = (size_t)i;
            return CLF_OK;
        }
    CLF_LOG_DEBUG("model: no tensor named '%s'", name);
    return CLF_ERR_ARG;
}

clf_status clf_model_tensor_read(clf_model *m, size_t index, float *dst, size_t count)
{
    clf_param *p = lookup(m, index, count, "read");

    if (!p)
        return CLF_ERR_ARG;
    if (p->host) {
        memcpy(dst, p->host, count * sizeof *dst);
        return CLF_OK;
    }
    return m->be->ops->read(m->be, p->w, 0, dst, count * sizeof *dst);
}

clf_status clf_model_tensor_write(clf_model *m, size_t index, const float *src, size_t count)
{
    clf_param *p = lookup(m, index, count, "write");

    if (!p)
        return CLF_ERR_ARG;
    for (size_t i = 0; i < count; i++)
        if (!isfinite(src[i])) {
            CLF_LOG_ERROR("model: value %zu of tensor %s is %g; weights must be finite", i,
                          p->name, (double)src[i]);
            return CLF_ERR_ARG;
        }
    if (p->host) {
        memcpy(p->host, src, count * sizeof *src);
        return CLF_OK;
    }
    if (m->layers[p->layer].stat) {
        /* folded copies and cached features come from the old values */
        m->derived_stale = true;
        m->static_version++;
    }
    return m->be->ops->write(m->be, p->w, 0, src, count * sizeof *src);
}

/* A device buffer of a trainable tensor: its gradient or a state slot. */
static clf_buf *state_buf(clf_model *m, clf_param *p, int slot, const char *op)
{
    if (!m->ready) {
        CLF_LOG_ERROR("model %s: the model is not compiled", op);
        return NULL;
    }
    if (!p->trainable) {
        CLF_LOG_ERROR("model %s: tensor %s is frozen and has no gradient or optimizer "
                      "state", op, p->name);
        return NULL;
    }
    if (slot < 0)
        return p->g;
    if (slot >= m->n_slots) {
        CLF_LOG_ERROR("model %s: the optimizer has %d state slots, not slot %d", op,
                      m->n_slots, slot);
        return NULL;
    }
    return p->slot[slot];
}

static clf_status state_io(clf_model *m, size_t index, int slot, void *host, size_t count,
                           bool write, const char *op)
{
    clf_param *p = lookup(m, index, count, op);
    clf_buf *b = p ? state_buf(m, p, slot, op) : NULL;

    if (!b)
        return CLF_ERR_ARG;
    if (write)
        return m->be->ops->write(m->be, b, 0, host, count * sizeof(float));
    return m->be->ops->read(m->be, b, 0, host, count * sizeof(float));
}

clf_status clf_model_read_grad(clf_model *m, size_t tensor, float *dst, size_t count)
{
    return state_io(m, tensor, -1, dst, count, false, "read_grad");
}

clf_status clf_model_write_grad(clf_model *m, size_t tensor, const float *src, size_t count)
{
    return state_io(m, tensor, -1, (void *)src, count, true, "write_grad");
}

int clf_model_opt_slots(const clf_model *m)
{
    return m->ready ? m->n_slots : 0;
}

const char *clf_model_opt_slot_name(const clf_model *m, int slot)
{
    if (!m->ready || slot < 0 || slot >= m->n_slots)
        return NULL;
    if (m->opt.kind == CLF_OPT_ADAM)
        return slot == 0 ? "m" : "v";
    return "momentum";
}

clf_status clf_model_opt_read(clf_model *m, size_t tensor, int slot, float *dst,
                              size_t count)
{
    if (slot < 0)
        return CLF_ERR_ARG;
    return state_io(m, tensor, slot, dst, count, false, "opt_read");
}

clf_status clf_model_opt_write(clf_model *m, size_t tensor, int slot, const float *src,
                               size_t count)
{
    if (slot < 0)
        return CLF_ERR_ARG;
    return state_io(m, tensor, slot, (void *)src, count, true, "opt_write");
}

uint64_t clf_model_step(const clf_model *m)
{
    return m->step;
}

void clf_model_set_step(clf_model *m, uint64_t step)
{
    m->step = step;
}
