/* Shape propagation through a graph description, layer weights and
 * parameter counts. */
#include "io/graph_shapes.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "clfit/log.h"
#include "core/alloc.h"

size_t clf_shape_count(const clf_shape *s)
{
    size_t n = 1;

    for (int i = 0; i < s->rank; i++)
        n *= (size_t)s->dim[i];
    return n;
}

const char *clf_shape_str(const clf_shape *s, char *buf, size_t size)
{
    if (s->rank == 3)
        snprintf(buf, size, "%dx%dx%d", s->dim[0], s->dim[1], s->dim[2]);
    else if (s->rank == 1)
        snprintf(buf, size, "%d", s->dim[0]);
    else
        snprintf(buf, size, "(rank %d)", s->rank);
    return buf;
}

bool clf_window_out(int in, int k, int s, int d, bool same, int *out, int *pad_before)
{
    long span = (long)(k - 1) * d + 1;
    long o, total;

    if (same) {
        o = (in + (long)s - 1) / s;
        total = (o - 1) * s + span - in;
        total = total > 0 ? total : 0;
    } else {
        if (in < span)
            return false;
        o = (in - span) / s + 1;
        total = 0;
    }
    *out = (int)o;
    if (pad_before)
        *pad_before = (int)(total / 2);
    return o >= 1;
}

clf_status clf_graph_input_shape(const clf_graph_desc *g, int h, int w, clf_shape *out)
{
    const clf_layer_desc *in = g->n_layers > 0 ? &g->layers[0] : NULL;

    if (!in || in->kind != CLF_LAYER_INPUT || in->input_rank == 0) {
        CLF_LOG_ERROR("model '%s': its input shape is unknown (no input layer with a "
                      "shape); give the model an input shape", g->name);
        return CLF_ERR_SHAPE;
    }
    out->rank = in->input_rank;
    memcpy(out->dim, in->input_shape, sizeof out->dim);
    if (out->rank == 3 && h > 0 && w > 0) {
        out->dim[0] = h;
        out->dim[1] = w;
    }
    for (int i = 0; i < out->rank; i++)
        if (out->dim[i] <= 0) {
            CLF_LOG_ERROR("%s (InputLayer): input dimension %d is not known (None); "
                          "give the image size", in->name, i + 1);
            return CLF_ERR_SHAPE;
        }
    return CLF_OK;
}

/* ---- Per-layer rules. Each logs and returns false when the input does
 * not fit; `in` is the first input's shape. ---- */

#define SHAPE_FAIL(l, ...)                                                     \
    do {                                                                       \
        char msg_[512];                                                        \
        snprintf(msg_, sizeof msg_, __VA_ARGS__);                              \
        CLF_LOG_ERROR("layer '%s' (%s): %s", (l)->name,                        \
                      clf_layer_kind_name((l)->kind), msg_);                   \
        return false;                                                          \
    } while (0)

static bool need_image(const clf_layer_desc *l, const clf_shape *in)
{
    char b[64];

    if (in->rank != 3)
        SHAPE_FAIL(l, "needs an image input (height, width, channels), got shape %s",
                   clf_shape_str(in, b, sizeof b));
    return true;
}

/* Conv2D and DepthwiseConv2D. */
static bool conv_shape(const clf_layer_desc *l, const clf_shape *in, clf_shape *out)
{
    char b[64];
    long oc;

    if (!need_image(l, in))
        return false;
    for (int a = 0; a < 2; a++)
        if (!clf_window_out(in->dim[a], l->kernel[a], l->strides[a], l->dilation[a],
                            l->padding_same, &out->dim[a], NULL))
            SHAPE_FAIL(l, "kernel %dx%d (dilation %dx%d, padding valid) does not fit its "
                       "%s input; use a larger image size or cut the model before this "
                       "layer", l->kernel[0], l->kernel[1], l->dilation[0],
                       l->dilation[1], clf_shape_str(in, b, sizeof b));
    oc = l->kind == CLF_LAYER_CONV2D ? l->filters : (long)in->dim[2] * l->depth_multiplier;
    if (oc > CLF_DIM_MAX)
        SHAPE_FAIL(l, "%ld output channels, more than %d", oc, CLF_DIM_MAX);
    out->rank = 3;
    out->dim[2] = (int)oc;
    return true;
}

static bool pool_shape(const clf_layer_desc *l, const clf_shape *in, const char *in_name,
                       clf_shape *out)
{
    char b[64];

    if (!need_image(l, in))
        return false;
    for (int a = 0; a < 2; a++)
        if (!clf_window_out(in->dim[a], l->pool[a], l->strides[a], 1, l->padding_same,
                            &out->dim[a], NULL))
            SHAPE_FAIL(l, "pool %dx%d (padding valid) needs an input of at least %dx%d, "
                       "got %s from '%s'; use a larger image size, or cut the model at "
                       "'%s' or before", l->pool[0], l->pool[1], l->pool[0], l->pool[1],
                       clf_shape_str(in, b, sizeof b), in_name, in_name);
    out->rank = 3;
    out->dim[2] = in->dim[2];
    return true;
}

static bool pad_shape(const clf_layer_desc *l, const clf_shape *in, clf_shape *out)
{
    long h, w;

    if (!need_image(l, in))
        return false;
    h = (long)in->dim[0] + l->pad[0] + l->pad[1];
    w = (long)in->dim[1] + l->pad[2] + l->pad[3];
    if (h > CLF_DIM_MAX || w > CLF_DIM_MAX)
        SHAPE_FAIL(l, "padded size %ldx%ld exceeds %d", h, w, CLF_DIM_MAX);
    *out = (clf_shape){3, {(int)h, (int)w, in->dim[2]}};
    return true;
}

static bool bn_shape(const clf_layer_desc *l, const clf_shape *in, clf_shape *out)
{
    char b[64];

    /* Keras counts the batch axis: the channel axis is `rank`. */
    if (l->bn_axis != -1 && l->bn_axis != in->rank)
        SHAPE_FAIL(l, "axis %d is not the channel axis of its %s input (use -1 or %d); "
                   "only per-channel normalization is supported", l->bn_axis,
                   clf_shape_str(in, b, sizeof b), in->rank);
    *out = *in;
    return true;
}

static bool flatten_shape(const clf_layer_desc *l, const clf_shape *in, clf_shape *out)
{
    size_t n = clf_shape_count(in);

    if (n > (size_t)CLF_DIM_MAX * 64)
        SHAPE_FAIL(l, "%zu values per sample are too many", n);
    *out = (clf_shape){1, {(int)n, 0, 0}};
    return true;
}

static bool dense_shape(const clf_layer_desc *l, const clf_shape *in, clf_shape *out)
{
    char b[64];

    if (in->rank != 1)
        SHAPE_FAIL(l, "needs a vector input, got shape %s; put a Flatten or "
                   "GlobalAveragePooling2D layer before it",
                   clf_shape_str(in, b, sizeof b));
    *out = (clf_shape){1, {l->units, 0, 0}};
    return true;
}

static bool add_shape(const clf_graph_desc *g, const clf_layer_desc *l,
                      const clf_shape *shapes, clf_shape *out)
{
    const clf_shape *a = &shapes[l->inputs[0]];
    char b1[64], b2[64];

    for (int i = 1; i < l->n_inputs; i++) {
        const clf_shape *s = &shapes[l->inputs[i]];

        if (s->rank != a->rank || memcmp(s->dim, a->dim, sizeof(int) * a->rank) != 0)
            SHAPE_FAIL(l, "inputs differ in shape: %s has %s, %s has %s",
                       g->layers[l->inputs[0]].name, clf_shape_str(a, b1, sizeof b1),
                       g->layers[l->inputs[i]].name, clf_shape_str(s, b2, sizeof b2));
    }
    *out = *a;
    return true;
}

static bool layer_shape(const clf_graph_desc *g, int i, const clf_shape *shapes,
                        clf_shape *out)
{
    const clf_layer_desc *l = &g->layers[i];
    const clf_shape *in = &shapes[l->inputs[0]];

    switch (l->kind) {
    case CLF_LAYER_CONV2D:
    case CLF_LAYER_DEPTHWISE_CONV2D:
        return conv_shape(l, in, out);
    case CLF_LAYER_AVG_POOL2D:
        return pool_shape(l, in, g->layers[l->inputs[0]].name, out);
    case CLF_LAYER_ZERO_PADDING2D:
        return pad_shape(l, in, out);
    case CLF_LAYER_BATCH_NORM:
        return bn_shape(l, in, out);
    case CLF_LAYER_GLOBAL_AVG_POOL2D:
        if (!need_image(l, in))
            return false;
        *out = (clf_shape){1, {in->dim[2], 0, 0}};
        return true;
    case CLF_LAYER_FLATTEN:
        return flatten_shape(l, in, out);
    case CLF_LAYER_DENSE:
        return dense_shape(l, in, out);
    case CLF_LAYER_ADD:
        return add_shape(g, l, shapes, out);
    case CLF_LAYER_DROPOUT:
    case CLF_LAYER_ACTIVATION:
        *out = *in;
        return true;
    default:
        SHAPE_FAIL(l, "a second input layer is not supported");
    }
}

clf_status clf_graph_shapes(const clf_graph_desc *g, const clf_shape *in, clf_shape *shapes)
{
    if (g->n_layers < 1 || g->layers[0].kind != CLF_LAYER_INPUT) {
        CLF_LOG_ERROR("model '%s' does not start with an input layer", g->name);
        return CLF_ERR_ARG;
    }
    shapes[0] = *in;
    for (int i = 1; i < g->n_layers; i++) {
        const clf_layer_desc *l = &g->layers[i];

        if (l->n_inputs < 1 || l->inputs[0] < 0 || l->inputs[0] >= i) {
            CLF_LOG_ERROR("%s: inputs are not in topological order", l->name);
            return CLF_ERR_ARG;
        }
        if (!layer_shape(g, i, shapes, &shapes[i]))
            return CLF_ERR_SHAPE;
    }
    return CLF_OK;
}

clf_status clf_graph_shapes_hw(const clf_graph_desc *g, int h, int w, clf_shape *shapes)
{
    clf_shape in;
    clf_status st = clf_graph_input_shape(g, h, w, &in);

    return st != CLF_OK ? st : clf_graph_shapes(g, &in, shapes);
}

/* ---- Weights ---- */

static int spec4(clf_weight_spec *s, const char *var, int a, int b, int c, int d, bool tr)
{
    *s = (clf_weight_spec){var, 4, {a, b, c, d}, tr};
    return 1;
}

static int spec1(clf_weight_spec *s, const char *var, int n, bool tr)
{
    *s = (clf_weight_spec){var, 1, {n, 0, 0, 0}, tr};
    return 1;
}

int clf_layer_weights(const clf_layer_desc *l, const clf_shape *in,
                      clf_weight_spec specs[CLF_LAYER_MAX_WEIGHTS])
{
    int n = 0, c = in->rank > 0 ? in->dim[in->rank - 1] : 0;
    bool tr = l->trainable;

    switch (l->kind) {
    case CLF_LAYER_CONV2D:
        n += spec4(&specs[n], "kernel", l->kernel[0], l->kernel[1], c, l->filters, tr);
        if (l->use_bias)
            n += spec1(&specs[n], "bias", l->filters, tr);
        break;
    case CLF_LAYER_DEPTHWISE_CONV2D:
        n += spec4(&specs[n], "depthwise_kernel", l->kernel[0], l->kernel[1], c,
                   l->depth_multiplier, tr);
        if (l->use_bias)
            n += spec1(&specs[n], "bias", c * l->depth_multiplier, tr);
        break;
    case CLF_LAYER_BATCH_NORM:
        if (l->bn_scale)
            n += spec1(&specs[n], "gamma", c, tr);
        if (l->bn_center)
            n += spec1(&specs[n], "beta", c, tr);
        n += spec1(&specs[n], "moving_mean", c, false);
        n += spec1(&specs[n], "moving_variance", c, false);
        break;
    case CLF_LAYER_DENSE:
        specs[n++] = (clf_weight_spec){"kernel", 2, {c, l->units, 0, 0}, tr};
        if (l->use_bias)
            n += spec1(&specs[n], "bias", l->units, tr);
        break;
    default:
        break;
    }
    return n;
}

void clf_graph_count_params(const clf_graph_desc *g, const clf_shape *shapes,
                            size_t *trainable, size_t *non_trainable)
{
    clf_weight_spec specs[CLF_LAYER_MAX_WEIGHTS];

    *trainable = *non_trainable = 0;
    for (int i = 1; i < g->n_layers; i++) {
        const clf_layer_desc *l = &g->layers[i];
        int n = clf_layer_weights(l, &shapes[l->inputs[0]], specs);

        for (int k = 0; k < n; k++) {
            size_t count = 1;

            for (int d = 0; d < specs[k].rank; d++)
                count *= (size_t)specs[k].shape[d];
            *(specs[k].trainable ? trainable : non_trainable) += count;
        }
    }
}

/* ---- Lookup and cut ---- */

int clf_graph_find(const clf_graph_desc *g, const char *name)
{
    for (int i = 0; i < g->n_layers; i++)
        if (strcmp(g->layers[i].name, name) == 0)
            return i;
    return -1;
}

/* Logs up to 8 layer names: those that contain `name` or that it
 * contains first, then the last layers (where cuts usually are). */
static void log_candidates(const clf_graph_desc *g, const char *name)
{
    char list[1024] = "";
    size_t used = 0;
    int shown = 0;

    for (int pass = 0; pass < 2 && shown < 8; pass++)
        for (int i = g->n_layers - 1; i >= 0 && shown < 8; i--) {
            const char *n = g->layers[i].name;
            bool similar = strstr(n, name) || strstr(name, n);

            if (similar != (pass == 0))
                continue;
            used += (size_t)snprintf(list + used, sizeof list - used, "%s%s",
                                     shown ? ", " : "", n);
            shown++;
            if (used >= sizeof list)
                break;
        }
    CLF_LOG_ERROR("model '%s' has no layer named '%s'; layers include: %s (%d layers in "
                  "all)", g->name, name, list, g->n_layers);
}

clf_status clf_graph_cut(const clf_graph_desc *g, const char *layer, clf_graph_desc *out)
{
    int target = clf_graph_find(g, layer), n = 0;
    int *map;

    memset(out, 0, sizeof *out);
    if (target < 0) {
        log_candidates(g, layer);
        return CLF_ERR_ARG;
    }
    map = clf_malloc_array((size_t)target + 1, sizeof *map, "layer map");
    out->layers = clf_calloc_array((size_t)target + 1, sizeof *out->layers, "layers");
    if (!map || !out->layers) {
        free(map);
        clf_graph_desc_free(out);
        return CLF_ERR_NOMEM;
    }

    /* Inputs come before their users, so one backward sweep marks every
     * layer the target depends on; a forward sweep copies them. */
    for (int i = 0; i <= target; i++)
        map[i] = i == target;
    for (int i = target; i >= 0; i--)
        for (int k = 0; map[i] && k < g->layers[i].n_inputs; k++)
            map[g->layers[i].inputs[k]] = 1;
    for (int i = 0; i <= target; i++) {
        if (!map[i]) {
            map[i] = -1;
            continue;
        }
        out->layers[n] = g->layers[i];
        for (int k = 0; k < g->layers[i].n_inputs; k++)
            out->layers[n].inputs[k] = map[g->layers[i].inputs[k]];
        map[i] = n++;
    }
    out->n_layers = n;
    out->output = n - 1;
    snprintf(out->name, sizeof out->name, "%s", g->name);
    free(map);
    return CLF_OK;
}
