/* Building a runnable model from a graph description: structural checks,
 * which layers the output depends on, per-layer shapes and parameters,
 * and where the logits are. */
#include <stdlib.h>
#include <string.h>

#include "clfit/log.h"
#include "core/alloc.h"
#include "model/model_internal.h"

/* One layer's name, kind, input count and edges (inputs come earlier). */
static clf_status check_layer(const clf_graph_desc *g, int i)
{
    const clf_layer_desc *l = &g->layers[i];
    bool is_input = l->kind == CLF_LAYER_INPUT;

    if (!memchr(l->name, 0, sizeof l->name) || !l->name[0]) {
        CLF_LOG_ERROR("model: layer %d has an empty or unterminated name", i);
        return CLF_ERR_ARG;
    }
    if ((unsigned)l->kind >= CLF_LAYER_KIND_COUNT_ || l->n_inputs < (is_input ? 0 : 1) ||
        l->n_inputs > (is_input ? 0 : CLF_MAX_INPUTS)) {
        CLF_LOG_ERROR("model: layer '%s' has kind %d and %d inputs, which is not valid",
                      l->name, (int)l->kind, l->n_inputs);
        return CLF_ERR_ARG;
    }
    for (int k = 0; k < l->n_inputs; k++)
        if (l->inputs[k] < 0 || l->inputs[k] >= i) {
            CLF_LOG_ERROR("model: layer '%s' takes layer index %d as input; inputs must "
                          "come earlier (0..%d)", l->name, l->inputs[k], i - 1);
            return CLF_ERR_ARG;
        }
    for (int j = 0; j < i; j++)
        if (strcmp(g->layers[j].name, l->name) == 0) {
            CLF_LOG_ERROR("model: two layers are named '%s'", l->name);
            return CLF_ERR_ARG;
        }
    return CLF_OK;
}

/* Structure only: counts, names, edges. Layer attributes are checked by
 * each kind's build. */
static clf_status check_structure(const clf_graph_desc *g)
{
    if (!g || !g->layers || g->n_layers < 1 || g->n_layers > CLF_MAX_LAYERS) {
        CLF_LOG_ERROR("model: a graph needs 1..%d layers, got %d", CLF_MAX_LAYERS,
                      g ? g->n_layers : 0);
        return CLF_ERR_ARG;
    }
    if (g->output < 0 || g->output >= g->n_layers) {
        CLF_LOG_ERROR("model: output layer index %d is outside 0..%d", g->output,
                      g->n_layers - 1);
        return CLF_ERR_ARG;
    }
    if (g->layers[0].kind != CLF_LAYER_INPUT) {
        CLF_LOG_ERROR("model: the first layer must be an InputLayer, not %s",
                      clf_layer_kind_name(g->layers[0].kind));
        return CLF_ERR_ARG;
    }
    for (int i = 0; i < g->n_layers; i++) {
        clf_status st = check_layer(g, i);

        if (st != CLF_OK)
            return st;
    }
    return CLF_OK;
}

/* Marks the layers the output depends on and counts their consumers. */
static void mark_live(clf_model *m)
{
    int n = m->desc.n_layers;

    m->layers[m->desc.output].live = true;
    for (int i = n - 1; i >= 0; i--) {
        const clf_layer_desc *d = &m->desc.layers[i];

        if (!m->layers[i].live)
            continue;
        for (int k = 0; k < d->n_inputs; k++) {
            m->layers[d->inputs[k]].live = true;
            m->layers[d->inputs[k]].fanout++;
        }
    }
}

static clf_status build_layers(clf_model *m)
{
    for (int i = 0; i < m->desc.n_layers; i++) {
        const clf_layer_desc *d = &m->desc.layers[i];
        const clf_layer_impl *impl = clf_layer_impl_of(d->kind);
        clf_status st;

        m->layers[i].d = d;
        m->layers[i].param0 = m->n_params;
        if (!m->layers[i].live)
            continue;
        if (d->kind == CLF_LAYER_INPUT && i != 0) {
            CLF_LOG_ERROR("model: layer '%s' is a second input; clfit models take one "
                          "image input", d->name);
            return CLF_ERR_UNSUPPORTED;
        }
        if (!impl) {
            CLF_LOG_ERROR("model: layer '%s' (%s) is not supported by the model runtime "
                          "yet", d->name, clf_layer_kind_name(d->kind));
            return CLF_ERR_UNSUPPORTED;
        }
        st = impl->build(m, i);
        if (st != CLF_OK)
            return st;
        m->layers[i].n_params = m->n_params - m->layers[i].param0;
    }
    return CLF_OK;
}

/* The output must be a softmax; its input (or the Dense before the
 * softmax) holds the logits the loss reads. */
static clf_status find_logits(clf_model *m)
{
    const clf_layer_desc *o = &m->desc.layers[m->desc.output];
    const clf_layer *lg;

    if (o->kind == CLF_LAYER_DENSE && o->activation == CLF_ACTIVATION_SOFTMAX) {
        m->logits = m->desc.output;
    } else if (o->kind == CLF_LAYER_ACTIVATION && o->activation == CLF_ACTIVATION_SOFTMAX) {
        m->logits = o->inputs[0];
    } else {
        CLF_LOG_ERROR("model: the output layer '%s' (%s) does not end in a softmax. clfit "
                      "trains with sparse categorical cross-entropy on probabilities, so "
                      "the model must end in Dense(..., activation='softmax') or "
                      "Activation('softmax')", o->name, clf_layer_kind_name(o->kind));
        return CLF_ERR_UNSUPPORTED;
    }
    lg = &m->layers[m->logits];
    if (lg->shape.rank != 1) {
        CLF_LOG_ERROR("model: the softmax of layer '%s' takes a rank-%d tensor; only a "
                      "vector of class scores (rank 1) is supported; add a Flatten",
                      o->name, lg->shape.rank);
        return CLF_ERR_UNSUPPORTED;
    }
    m->classes = lg->shape.dim[0];
    return CLF_OK;
}

static void find_image_input(clf_model *m)
{
    const clf_layer_desc *in = &m->desc.layers[0];
    const int *s = in->input_shape;

    if (in->input_rank != 3)
        return;
    if (in->channels_first && s[0] == 3) {
        m->image_input = m->input_chw = true;
        m->in_h = s[1], m->in_w = s[2];
    } else if (!in->channels_first && s[2] == 3) {
        m->image_input = true;
        m->in_h = s[0], m->in_w = s[1];
    }
}

static clf_status copy_desc(clf_model *m, const clf_graph_desc *g)
{
    m->desc = *g;
    m->desc.name[sizeof m->desc.name - 1] = 0;
    m->desc.layers = clf_malloc_array((size_t)g->n_layers, sizeof *g->layers, "model graph");
    m->layers = clf_calloc_array((size_t)g->n_layers, sizeof *m->layers, "model layers");
    if (!m->desc.layers || !m->layers)
        return CLF_ERR_NOMEM;
    memcpy(m->desc.layers, g->layers, (size_t)g->n_layers * sizeof *g->layers);
    return CLF_OK;
}

clf_status clf_model_from_desc(const clf_graph_desc *g, uint64_t seed, clf_model **out)
{
    clf_model *m;
    clf_status st;

    *out = NULL;
    st = check_structure(g);
    if (st != CLF_OK)
        return st;
    m = calloc(1, sizeof *m);
    if (!m) {
        CLF_LOG_ERROR("model: out of memory");
        return CLF_ERR_NOMEM;
    }
    m->seed = seed;
    m->cache_limit = SIZE_MAX;
    st = copy_desc(m, g);
    if (st == CLF_OK) {
        mark_live(m);
        st = build_layers(m);
    }
    if (st == CLF_OK)
        st = find_logits(m);
    if (st != CLF_OK) {
        clf_model_free(m);
        return st;
    }
    find_image_input(m);
    *out = m;
    return CLF_OK;
}

clf_status clf_model_create(const char *spec, int height, int width, int classes,
                            uint64_t seed, clf_model **out)
{
    clf_graph_desc g;
    clf_status st;

    *out = NULL;
    st = clf_builtin_desc(spec, height, width, classes, &g);
    if (st == CLF_OK)
        st = clf_model_from_desc(&g, seed, out);
    clf_graph_desc_free(&g);
    return st;
}

void clf_model_free(clf_model *m)
{
    if (!m)
        return;
    clf_params_free(m);
    if (m->be) {
        const clf_backend_ops *ops = m->be->ops;

        for (int i = 0; i < m->n_bufs; i++)
            ops->buf_free(m->be, m->bufs[i]);
    }
    free(m->bufs);
    free(m->feats);
    clf_feature_cache_free(m->cache);
    free(m->layers);
    free(m->desc.layers);
    free(m);
}

const clf_graph_desc *clf_model_desc(const clf_model *m)
{
    return &m->desc;
}

void clf_model_want_input_grad(clf_model *m)
{
    m->input_grad = true;
}

void clf_model_keep_output(clf_model *m, int layer)
{
    if (layer >= 0 && layer < m->desc.n_layers)
        m->layers[layer].keep = true;
}

int clf_model_classes(const clf_model *m)
{
    return m->classes;
}

bool clf_model_input_size(const clf_model *m, int *height, int *width)
{
    *height = m->image_input ? m->in_h : 0;
    *width = m->image_input ? m->in_w : 0;
    return m->image_input;
}

size_t clf_model_param_count(const clf_model *m, bool trainable_only)
{
    size_t total = 0;

    for (int i = 0; i < m->n_params; i++)
        if (!trainable_only || m->params[i].trainable)
            total += m->params[i].count;
    return total;
}
