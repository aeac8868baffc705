/* Lookup of named weight tensors and their check against a graph. */
#include "io/weight_set.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "clfit/log.h"

const clf_named_tensor *clf_weight_set_find(const clf_weight_set *ws, const char *name)
{
    for (int i = 0; i < ws->n; i++)
        if (strcmp(ws->tensors[i].name, name) == 0)
            return &ws->tensors[i];
    return NULL;
}

const clf_named_tensor *clf_weight_set_find_var(const clf_weight_set *ws, const char *layer,
                                                const char *var)
{
    char full[2 * CLF_NAME_MAX + 2];
    const clf_named_tensor *hit = NULL;
    size_t n;

    snprintf(full, sizeof full, "%s/%s", layer, var);
    if ((hit = clf_weight_set_find(ws, full)) != NULL)
        return hit;

    n = strlen(full);
    for (int i = 0; i < ws->n; i++) {
        const char *name = ws->tensors[i].name;
        size_t m = strlen(name);

        if (m > n && name[m - n - 1] == '/' && strcmp(name + m - n, full) == 0) {
            if (hit)
                return NULL;
            hit = &ws->tensors[i];
        }
    }
    return hit;
}

static const char *dims_str(const int *dims, int rank, char *buf, size_t size)
{
    size_t used = (size_t)snprintf(buf, size, "[");

    for (int i = 0; i < rank && used < size; i++)
        used += (size_t)snprintf(buf + used, size - used, "%s%d", i ? "," : "", dims[i]);
    if (used < size)
        snprintf(buf + used, size - used, "]");
    return buf;
}

static bool same_shape(const clf_named_tensor *t, const clf_weight_spec *s)
{
    if (t->rank != s->rank)
        return false;
    for (int i = 0; i < s->rank; i++)
        if (t->shape[i] != s->shape[i])
            return false;
    return true;
}

/* Checks one layer's tensors; returns the worst status found. */
static clf_status check_layer(const clf_layer_desc *l, const clf_shape *in,
                              const clf_weight_set *ws)
{
    clf_weight_spec specs[CLF_LAYER_MAX_WEIGHTS];
    int n = clf_layer_weights(l, in, specs);
    clf_status st = CLF_OK;
    char want[96], got[96];

    for (int k = 0; k < n; k++) {
        const clf_named_tensor *t = clf_weight_set_find_var(ws, l->name, specs[k].var);

        dims_str(specs[k].shape, specs[k].rank, want, sizeof want);
        if (!t) {
            CLF_LOG_ERROR("layer '%s' (%s): weight tensor '%s/%s' (shape %s) is missing "
                          "from the weights", l->name, clf_layer_kind_name(l->kind), l->name,
                          specs[k].var, want);
            st = CLF_ERR_FORMAT;
        } else if (!same_shape(t, &specs[k])) {
            CLF_LOG_ERROR("layer '%s' (%s): weight tensor '%s' has shape %s, the layer "
                          "needs %s", l->name, clf_layer_kind_name(l->kind), t->name,
                          dims_str(t->shape, t->rank, got, sizeof got), want);
            if (st == CLF_OK)
                st = CLF_ERR_SHAPE;
        }
    }
    return st;
}

clf_status clf_weight_set_check(const clf_graph_desc *g, const clf_shape *shapes,
                                const clf_weight_set *ws)
{
    clf_status st = CLF_OK;

    for (int i = 1; i < g->n_layers; i++) {
        const clf_layer_desc *l = &g->layers[i];
        clf_status s = check_layer(l, &shapes[l->inputs[0]], ws);

        if (s == CLF_ERR_FORMAT || (s != CLF_OK && st == CLF_OK))
            st = s;
    }
    return st;
}

void clf_weight_set_free(clf_weight_set *ws)
{
    if (!ws)
        return;
    for (int i = 0; i < ws->n; i++) {
        free(ws->tensors[i].name);
        free(ws->tensors[i].data);
    }
    free(ws->tensors);
    ws->tensors = NULL;
    ws->n = 0;
}
