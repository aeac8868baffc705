/* clf_graph_desc -> a Keras functional model config (the inverse of
 * keras_json.c), in the shape tf.keras 2 writes with model.to_json():
 * {"class_name": "Functional", "config": {"name", "layers": [{"class_name",
 * "name", "config", "inbound_nodes": [[["in", 0, 0, {}]]]}], "input_layers",
 * "output_layers"}}. Only the fields clfit reads are written; Keras fills
 * its defaults for the rest. */
#include "io/keras_json.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>

#include "clfit/log.h"

/* A float as the double with the fewest decimal digits that still reads
 * back as the same float, so 1e-3f is written 0.001, not 0.0010000000475. */
static double short_double(float f)
{
    char buf[32];

    for (int digits = 6; digits < 9; digits++) {
        snprintf(buf, sizeof buf, "%.*g", digits, (double)f);
        if (strtof(buf, NULL) == f)
            return strtod(buf, NULL);
    }
    return (double)f;
}

static bool add_num(cJSON *obj, const char *key, double v)
{
    return cJSON_AddNumberToObject(obj, key, v) != NULL;
}

static bool add_pair(cJSON *obj, const char *key, const int v[2])
{
    cJSON *arr = cJSON_CreateIntArray(v, 2);

    return arr && cJSON_AddItemToObject(obj, key, arr);
}

/* Activation name for Dense and convolutions; NULL if Keras has none. */
static const char *activation_name(const clf_layer_desc *l)
{
    switch (l->activation) {
    case CLF_ACTIVATION_LINEAR:
        return "linear";
    case CLF_ACTIVATION_SOFTMAX:
        return "softmax";
    case CLF_ACTIVATION_RELU:
        if (isinf(l->relu_max))
            return "relu";
        if (l->relu_max == 6.0f)
            return "relu6";
        break;
    }
    CLF_LOG_ERROR("layer '%s': a ReLU capped at %g cannot be written as a Keras activation "
                  "name (only relu and relu6 exist)", l->name, (double)l->relu_max);
    return NULL;
}

static bool add_activation(cJSON *cfg, const clf_layer_desc *l)
{
    const char *a = activation_name(l);

    return a && cJSON_AddStringToObject(cfg, "activation", a);
}

static bool conv_config(cJSON *cfg, const clf_layer_desc *l)
{
    bool ok = true;

    if (l->kind == CLF_LAYER_CONV2D)
        ok = add_num(cfg, "filters", l->filters);
    else
        ok = add_num(cfg, "depth_multiplier", l->depth_multiplier);
    return ok && add_pair(cfg, "kernel_size", l->kernel) &&
           add_pair(cfg, "strides", l->strides) &&
           cJSON_AddStringToObject(cfg, "padding", l->padding_same ? "same" : "valid") &&
           cJSON_AddStringToObject(cfg, "data_format", "channels_last") &&
           add_pair(cfg, "dilation_rate", l->dilation) && add_activation(cfg, l) &&
           cJSON_AddBoolToObject(cfg, "use_bias", l->use_bias);
}

static bool input_config(cJSON *cfg, const clf_layer_desc *l)
{
    cJSON *shape;

    if (l->input_rank > 0) {
        shape = cJSON_AddArrayToObject(cfg, "batch_input_shape");
        if (!shape || !cJSON_AddItemToArray(shape, cJSON_CreateNull()))
            return false;
        for (int i = 0; i < l->input_rank; i++) {
            cJSON *d = l->input_shape[i] > 0 ? cJSON_CreateNumber(l->input_shape[i])
                                             : cJSON_CreateNull();
            if (!cJSON_AddItemToArray(shape, d))
                return false;
        }
    }
    return cJSON_AddStringToObject(cfg, "dtype", "float32") &&
           cJSON_AddBoolToObject(cfg, "sparse", false);
}

static bool relu_config(cJSON *cfg, const clf_layer_desc *l)
{
    bool ok = isinf(l->relu_max) ? cJSON_AddNullToObject(cfg, "max_value") != NULL
                                 : add_num(cfg, "max_value", short_double(l->relu_max));

    return ok && add_num(cfg, "negative_slope", 0) && add_num(cfg, "threshold", 0);
}

static bool pad_config(cJSON *cfg, const clf_layer_desc *l)
{
    cJSON *pad = cJSON_AddArrayToObject(cfg, "padding");

    return pad && cJSON_AddItemToArray(pad, cJSON_CreateIntArray(l->pad, 2)) &&
           cJSON_AddItemToArray(pad, cJSON_CreateIntArray(l->pad + 2, 2)) &&
           cJSON_AddStringToObject(cfg, "data_format", "channels_last");
}

/* The layer-specific fields of l's config. */
static bool kind_config(cJSON *cfg, const clf_layer_desc *l)
{
    switch (l->kind) {
    case CLF_LAYER_INPUT:
        return input_config(cfg, l);
    case CLF_LAYER_CONV2D:
    case CLF_LAYER_DEPTHWISE_CONV2D:
        return conv_config(cfg, l);
    case CLF_LAYER_BATCH_NORM:
        return add_num(cfg, "axis", l->bn_axis) &&
               add_num(cfg, "epsilon", short_double(l->bn_epsilon)) &&
               cJSON_AddBoolToObject(cfg, "center", l->bn_center) &&
               cJSON_AddBoolToObject(cfg, "scale", l->bn_scale);
    case CLF_LAYER_ACTIVATION:
        if (l->activation == CLF_ACTIVATION_RELU)
            return relu_config(cfg, l);
        return add_activation(cfg, l);
    case CLF_LAYER_ZERO_PADDING2D:
        return pad_config(cfg, l);
    case CLF_LAYER_AVG_POOL2D:
        return add_pair(cfg, "pool_size", l->pool) && add_pair(cfg, "strides", l->strides) &&
               cJSON_AddStringToObject(cfg, "padding", l->padding_same ? "same" : "valid") &&
               cJSON_AddStringToObject(cfg, "data_format", "channels_last");
    case CLF_LAYER_GLOBAL_AVG_POOL2D:
    case CLF_LAYER_FLATTEN:
        return cJSON_AddStringToObject(cfg, "data_format", "channels_last");
    case CLF_LAYER_DENSE:
        return add_num(cfg, "units", l->units) && add_activation(cfg, l) &&
               cJSON_AddBoolToObject(cfg, "use_bias", l->use_bias);
    case CLF_LAYER_DROPOUT:
        return add_num(cfg, "rate", short_double(l->rate));
    case CLF_LAYER_ADD:
        return true;
    default:
        CLF_LOG_ERROR("layer '%s': unknown layer kind %d", l->name, (int)l->kind);
        return false;
    }
}

static const char *class_name(const clf_layer_desc *l)
{
    if (l->kind == CLF_LAYER_ACTIVATION && l->activation == CLF_ACTIVATION_RELU)
        return "ReLU";
    return clf_layer_kind_name(l->kind);
}

/* [[["in", 0, 0, {}], ...]] */
static cJSON *inbound_nodes(const clf_graph_desc *g, const clf_layer_desc *l)
{
    cJSON *nodes = cJSON_CreateArray(), *node = cJSON_CreateArray();

    if (!nodes || !node || (l->n_inputs > 0 && !cJSON_AddItemToArray(nodes, node))) {
        cJSON_Delete(nodes);
        cJSON_Delete(node);
        return NULL;
    }
    if (l->n_inputs == 0)
        cJSON_Delete(node);
    for (int k = 0; k < l->n_inputs; k++) {
        cJSON *ref = cJSON_CreateArray();

        if (!cJSON_AddItemToArray(node, ref) ||
            !cJSON_AddItemToArray(ref, cJSON_CreateString(g->layers[l->inputs[k]].name)) ||
            !cJSON_AddItemToArray(ref, cJSON_CreateNumber(0)) ||
            !cJSON_AddItemToArray(ref, cJSON_CreateNumber(0)) ||
            !cJSON_AddItemToArray(ref, cJSON_CreateObject())) {
            cJSON_Delete(nodes);
            return NULL;
        }
    }
    return nodes;
}

static cJSON *layer_json(const clf_graph_desc *g, const clf_layer_desc *l)
{
    cJSON *obj = cJSON_CreateObject(), *cfg;
    bool ok = obj && cJSON_AddStringToObject(obj, "class_name", class_name(l)) &&
              cJSON_AddStringToObject(obj, "name", l->name) &&
              (cfg = cJSON_AddObjectToObject(obj, "config")) &&
              cJSON_AddStringToObject(cfg, "name", l->name) &&
              (l->kind == CLF_LAYER_INPUT ||
               cJSON_AddBoolToObject(cfg, "trainable", l->trainable)) &&
              kind_config(cfg, l) &&
              cJSON_AddItemToObject(obj, "inbound_nodes", inbound_nodes(g, l));

    if (!ok) {
        cJSON_Delete(obj);
        return NULL;
    }
    return obj;
}

/* "input_layers" / "output_layers": [["name", 0, 0]]. */
static bool add_end(cJSON *cfg, const char *key, const char *name)
{
    cJSON *outer = cJSON_AddArrayToObject(cfg, key), *ref = cJSON_CreateArray();

    if (!outer || !cJSON_AddItemToArray(outer, ref)) {
        cJSON_Delete(ref);
        return false;
    }
    return cJSON_AddItemToArray(ref, cJSON_CreateString(name)) &&
           cJSON_AddItemToArray(ref, cJSON_CreateNumber(0)) &&
           cJSON_AddItemToArray(ref, cJSON_CreateNumber(0));
}

static cJSON *model_json(const clf_graph_desc *g)
{
    cJSON *root = cJSON_CreateObject(), *cfg, *layers;

    if (!root || !cJSON_AddStringToObject(root, "class_name", "Functional") ||
        !(cfg = cJSON_AddObjectToObject(root, "config")) ||
        !cJSON_AddStringToObject(cfg, "name", g->name[0] ? g->name : "model") ||
        !(layers = cJSON_AddArrayToObject(cfg, "layers"))) {
        cJSON_Delete(root);
        return NULL;
    }
    for (int i = 0; i < g->n_layers; i++) {
        cJSON *l = layer_json(g, &g->layers[i]);

        if (!l || !cJSON_AddItemToArray(layers, l)) {
            cJSON_Delete(root);
            return NULL;
        }
    }
    if (!add_end(cfg, "input_layers", g->layers[0].name) ||
        !add_end(cfg, "output_layers", g->layers[g->output].name)) {
        cJSON_Delete(root);
        return NULL;
    }
    return root;
}

clf_status clf_keras_json_write(const clf_graph_desc *g, char **json)
{
    cJSON *root;

    *json = NULL;
    if (g->n_layers < 1 || g->layers[0].kind != CLF_LAYER_INPUT || g->output < 0 ||
        g->output >= g->n_layers) {
        CLF_LOG_ERROR("model '%s': cannot write a graph without an input layer and an "
                      "output", g->name);
        return CLF_ERR_ARG;
    }
    root = model_json(g);
    if (!root) {
        /* Every failure but a ReLU cap (logged) is cJSON running out. */
        CLF_LOG_ERROR("model '%s': writing the Keras config failed", g->name);
        return CLF_ERR_UNSUPPORTED;
    }
    *json = cJSON_PrintUnformatted(root);
    cJSON_Delete(root);
    if (!*json) {
        CLF_LOG_ERROR("model '%s': out of memory printing the Keras config", g->name);
        return CLF_ERR_NOMEM;
    }
    return CLF_OK;
}
