/* Transfer models: a pretrained TF.js layers model, cut after a named
 * layer and frozen, with its weights, and a head on top (built-in spec or
 * Keras JSON). The result is one graph; layers [0, base_end) are the
 * base's, which the summary shows as one row. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "clfit/log.h"
#include "core/alloc.h"
#include "io/graph_shapes.h"
#include "io/keras_json.h"
#include "io/tfjs_weights.h"
#include "io/weight_set.h"
#include "model/model_internal.h"

/* Everything read from the files, freed together. */
typedef struct parts {
    clf_graph_desc g;    /* base, then head */
    clf_shape *shapes;   /* the base's layer shapes */
    clf_weight_set ws;
    int base_n;
    char base_name[CLF_NAME_MAX];
} parts;

static void parts_free(parts *p)
{
    clf_graph_desc_free(&p->g);
    free(p->shapes);
    clf_weight_set_free(&p->ws);
}

/* The base's input becomes (height, width, 3); anything but an RGB
 * channels-last image input is refused. */
static clf_status set_input(const char *path, clf_graph_desc *g, int height, int width)
{
    clf_layer_desc *in = &g->layers[0];

    if (in->input_rank != 3 || in->channels_first || in->input_shape[2] != 3) {
        CLF_LOG_ERROR("%s: input '%s' does not take RGB images (height, width, 3); clfit "
                      "can only feed such images to a base", path, in->name);
        return CLF_ERR_UNSUPPORTED;
    }
    if (height < 1 || width < 1 || height > CLF_MAX_DIM || width > CLF_MAX_DIM) {
        CLF_LOG_ERROR("model: image size %dx%d is not usable", height, width);
        return CLF_ERR_ARG;
    }
    in->input_shape[0] = height;
    in->input_shape[1] = width;
    for (int i = 0; i < g->n_layers; i++)
        g->layers[i].trainable = false;
    return CLF_OK;
}

/* Reads, cuts, freezes and shapes the base and checks its weights. */
static clf_status load_base(const char *path, const char *cut, int height, int width,
                            parts *p)
{
    clf_graph_desc full;

    TRY(clf_keras_json_read(path, &full));
    snprintf(p->base_name, sizeof p->base_name, "%s", full.name[0] ? full.name : "base");
    if (cut) {
        clf_status st = clf_graph_cut(&full, cut, &p->g);

        clf_graph_desc_free(&full);
        TRY(st);
    } else {
        p->g = full;
    }
    TRY(set_input(path, &p->g, height, width));
    p->base_n = p->g.n_layers;
    p->shapes = clf_malloc_array((size_t)p->g.n_layers, sizeof *p->shapes, "shapes");
    if (!p->shapes)
        return CLF_ERR_NOMEM;
    if (clf_graph_shapes_hw(&p->g, height, width, p->shapes) != CLF_OK) {
        CLF_LOG_ERROR("%s cannot take %dx%d images (see the layer above); choose another "
                      "--image-size or cut it earlier", path, height, width);
        return CLF_ERR_SHAPE;
    }
    TRY(clf_tfjs_weights_read(path, &p->ws));
    return clf_weight_set_check(&p->g, p->shapes, &p->ws);
}

/* ---- a head from a Keras JSON file ---- */

static bool same_shape(const clf_layer_desc *in, const clf_shape *top)
{
    if (in->input_rank == 0)
        return true; /* a Sequential written without an input shape */
    if (in->input_rank != top->rank)
        return false;
    for (int k = 0; k < top->rank; k++)
        if (in->input_shape[k] != 0 && in->input_shape[k] != top->dim[k])
            return false;
    return true;
}

static clf_status check_head(const char *file, const clf_graph_desc *h, const parts *p)
{
    const clf_shape *top = &p->shapes[p->base_n - 1];
    char want[64];

    if (!same_shape(&h->layers[0], top)) {
        CLF_LOG_ERROR("%s: the head's input '%s' does not match the base's output '%s' of "
                      "shape %s; give the head that input shape (or none)", file,
                      h->layers[0].name, p->g.layers[p->base_n - 1].name,
                      clf_shape_str(top, want, sizeof want));
        return CLF_ERR_SHAPE;
    }
    for (int i = 1; i < h->n_layers; i++)
        if (clf_graph_find(&p->g, h->layers[i].name) >= 0) {
            CLF_LOG_ERROR("%s: head layer '%s' has the name of a base layer; rename it",
                          file, h->layers[i].name);
            return CLF_ERR_ARG;
        }
    return CLF_OK;
}

/* Appends the head's layers after the base; its input is the base's
 * output, other indices move by base_n - 1. */
static clf_status append_json_head(const char *file, parts *p)
{
    clf_graph_desc h;
    clf_status st;
    int at = p->g.n_layers;

    TRY(clf_keras_json_read(file, &h));
    st = check_head(file, &h, p);
    if (st == CLF_OK)
        st = clf_realloc_array((void **)&p->g.layers, (size_t)at + (size_t)h.n_layers - 1,
                               sizeof *p->g.layers, "model layers");
    for (int i = 1; i < h.n_layers && st == CLF_OK; i++) {
        clf_layer_desc *l = &p->g.layers[at + i - 1];

        *l = h.layers[i];
        for (int k = 0; k < l->n_inputs; k++)
            l->inputs[k] = l->inputs[k] == 0 ? p->base_n - 1 : l->inputs[k] + at - 1;
    }
    if (st == CLF_OK) {
        p->g.n_layers = at + h.n_layers - 1;
        p->g.output = h.output + at - 1;
    }
    clf_graph_desc_free(&h);
    return st;
}

static bool is_json(const char *spec)
{
    size_t n = strlen(spec);

    return n > 5 && strcmp(spec + n - 5, ".json") == 0;
}

static clf_status add_head(const char *head, int classes, parts *p)
{
    p->g.output = p->base_n - 1;
    if (!head)
        return CLF_OK;
    snprintf(p->g.name, sizeof p->g.name, "sequential");
    if (is_json(head))
        return append_json_head(head, p);
    return clf_builtin_head(head, classes, &p->g);
}

/* ---- weights ---- */

/* Copies the base's pretrained tensors into the model (before compile). */
static clf_status load_weights(clf_model *m, const parts *p)
{
    for (int i = 0; i < m->n_params; i++) {
        clf_param *t = &m->params[i];
        const char *layer = m->desc.layers[t->layer].name;
        const char *var = strrchr(t->name, '/') + 1;
        const clf_named_tensor *w;

        if (t->layer >= p->base_n)
            continue;
        w = clf_weight_set_find_var(&p->ws, layer, var);
        if (!w || w->count != t->count) {
            CLF_LOG_ERROR("model: pretrained tensor %s is missing or has %zu values, not "
                          "%zu", t->name, w ? w->count : 0, t->count);
            return CLF_ERR_FORMAT;
        }
        memcpy(t->host, w->data, t->count * sizeof *t->host);
    }
    return CLF_OK;
}

static clf_status check_classes(const clf_model *m, const char *head, int classes)
{
    if (clf_model_classes(m) == classes)
        return CLF_OK;
    CLF_LOG_ERROR("model: %s ends in %d classes, but %d are wanted",
                  head ? head : "the base", clf_model_classes(m), classes);
    return CLF_ERR_SHAPE;
}

clf_status clf_model_create_with_base(const char *base_json, const char *base_layer,
                                      const char *head, int height, int width, int classes,
                                      uint64_t seed, clf_model **out)
{
    parts p = {0};
    clf_model *m = NULL;
    clf_status st;

    *out = NULL;
    if (!base_json) {
        CLF_LOG_ERROR("model: no base model.json given");
        return CLF_ERR_ARG;
    }
    st = load_base(base_json, base_layer, height, width, &p);
    if (st == CLF_OK)
        st = add_head(head, classes, &p);
    if (st == CLF_OK)
        st = clf_model_from_desc(&p.g, seed, &m);
    if (st == CLF_OK)
        st = check_classes(m, head, classes);
    if (st == CLF_OK)
        st = load_weights(m, &p);
    if (st == CLF_OK) {
        m->base_end = head ? p.base_n : 0;
        snprintf(m->base_name, sizeof m->base_name, "%s", p.base_name);
        *out = m;
    } else {
        clf_model_free(m);
    }
    parts_free(&p);
    return st;
}
