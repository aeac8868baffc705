/* Keras layer configs, one class at a time. Every field is checked for
 * type and range; an error names the file, the layer, its class and the
 * field, and shows the value that was found. */
#include "io/keras_layers.h"

#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "clfit/log.h"
#include "io/graph_shapes.h"

/* Caps on what a config may ask for, far above any real model. */
enum { MAX_KERNEL = 256, MAX_STRIDE = 256, MAX_PAD = 4096 };

typedef struct kctx {
    const char *what;            /* file name */
    const char *cls;             /* Keras class name */
    const cJSON *cfg;            /* the layer's config object */
    clf_layer_desc *l;
    clf_status *status;          /* set to CLF_ERR_UNSUPPORTED when a valid
                                    Keras feature is refused */
} kctx;

/* Marks the failure as "Keras has it, clfit does not"; returns false. */
static bool unsupported(const kctx *c)
{
    *c->status = CLF_ERR_UNSUPPORTED;
    return false;
}

/* Logs "<file>: layer 'x' (Class): field 'f' <message>, got <value>" and
 * returns false. `got` may be NULL when the field is missing. */
__attribute__((format(printf, 4, 5)))
static bool bad(const kctx *c, const char *field, const cJSON *got, const char *fmt, ...)
{
    char msg[256], val[80] = "nothing (the field is missing)";
    va_list ap;

    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    if (got) {
        char *p = cJSON_PrintUnformatted(got);

        snprintf(val, sizeof val, "%.70s%s", p ? p : "?", p && strlen(p) > 70 ? "..." : "");
        cJSON_free(p);
    }
    CLF_LOG_ERROR("%s: layer '%s' (%s): field '%s' %s, got %s", c->what, c->l->name, c->cls,
                  field, msg, val);
    return false;
}

static const cJSON *field(const kctx *c, const char *key)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(c->cfg, key);

    return cJSON_IsNull(v) ? NULL : v;
}

static bool is_int(const cJSON *v, int lo, int hi)
{
    double d;

    if (!cJSON_IsNumber(v))
        return false;
    d = v->valuedouble;
    return d == floor(d) && d >= lo && d <= hi;
}

/* An integer in [lo, hi]; def when missing and !required. */
static bool get_int(const kctx *c, const char *key, int lo, int hi, int def, bool required,
                    int *out)
{
    const cJSON *v = field(c, key);

    if (!v) {
        *out = def;
        return !required || bad(c, key, NULL, "is required");
    }
    if (!is_int(v, lo, hi))
        return bad(c, key, v, "must be an integer from %d to %d", lo, hi);
    *out = (int)v->valuedouble;
    return true;
}

/* An integer or a list of two, each in [lo, hi] (kernel_size, strides). */
static bool get_pair(const kctx *c, const char *key, int lo, int hi, int def,
                     bool required, int out[2])
{
    const cJSON *v = field(c, key);

    if (!v) {
        out[0] = out[1] = def;
        return !required || bad(c, key, NULL, "is required");
    }
    if (is_int(v, lo, hi)) {
        out[0] = out[1] = (int)v->valuedouble;
        return true;
    }
    if (!cJSON_IsArray(v) || cJSON_GetArraySize(v) != 2 ||
        !is_int(cJSON_GetArrayItem(v, 0), lo, hi) || !is_int(cJSON_GetArrayItem(v, 1), lo, hi))
        return bad(c, key, v, "must be an integer or a list of 2 integers from %d to %d", lo,
                   hi);
    out[0] = (int)cJSON_GetArrayItem(v, 0)->valuedouble;
    out[1] = (int)cJSON_GetArrayItem(v, 1)->valuedouble;
    return true;
}

static bool get_float(const kctx *c, const char *key, double lo, double hi, double def,
                      float *out)
{
    const cJSON *v = field(c, key);

    if (!v) {
        *out = (float)def;
        return true;
    }
    if (!cJSON_IsNumber(v) || !(v->valuedouble >= lo && v->valuedouble <= hi))
        return bad(c, key, v, "must be a number from %g to %g", lo, hi);
    *out = (float)v->valuedouble;
    return true;
}

static bool get_bool(const kctx *c, const char *key, bool def, bool *out)
{
    const cJSON *v = field(c, key);

    if (!v) {
        *out = def;
        return true;
    }
    if (!cJSON_IsBool(v))
        return bad(c, key, v, "must be true or false");
    *out = cJSON_IsTrue(v);
    return true;
}

static bool get_padding(const kctx *c)
{
    const cJSON *v = field(c, "padding");

    if (!v) {
        c->l->padding_same = false;
        return true;
    }
    if (cJSON_IsString(v) && strcasecmp(v->valuestring, "valid") == 0)
        c->l->padding_same = false;
    else if (cJSON_IsString(v) && strcasecmp(v->valuestring, "same") == 0)
        c->l->padding_same = true;
    else
        return bad(c, "padding", v, "must be \"valid\" or \"same\"");
    return true;
}

static bool check_data_format(const kctx *c)
{
    const cJSON *v = field(c, "data_format");

    if (!v || (cJSON_IsString(v) && strcmp(v->valuestring, "channels_last") == 0))
        return true;
    if (cJSON_IsString(v) && strcmp(v->valuestring, "channels_first") == 0) {
        CLF_LOG_ERROR("%s: layer '%s' (%s): data_format channels_first is not supported; "
                      "clfit runs images as NHWC (channels_last) only", c->what,
                      c->l->name, c->cls);
        return unsupported(c);
    }
    return bad(c, "data_format", v, "must be \"channels_last\"");
}

/* Activation by name: a string, or Keras 3's {"config": "relu", ...}. */
static bool get_activation(const kctx *c, const char *key)
{
    const cJSON *v = field(c, key);
    const char *name;

    if (cJSON_IsObject(v))
        v = cJSON_GetObjectItemCaseSensitive(v, "config");
    if (!v) {
        c->l->activation = CLF_ACTIVATION_LINEAR;
        return true;
    }
    if (!cJSON_IsString(v))
        return bad(c, key, v, "must be an activation name");
    name = v->valuestring;
    c->l->relu_max = INFINITY;
    if (strcmp(name, "linear") == 0) {
        c->l->activation = CLF_ACTIVATION_LINEAR;
    } else if (strcmp(name, "relu") == 0 || strcmp(name, "relu6") == 0) {
        c->l->activation = CLF_ACTIVATION_RELU;
        c->l->relu_max = name[4] == '6' ? 6.0f : INFINITY;
    } else if (strcmp(name, "softmax") == 0) {
        c->l->activation = CLF_ACTIVATION_SOFTMAX;
    } else {
        CLF_LOG_ERROR("%s: layer '%s' (%s): activation '%s' is not supported (clfit has "
                      "linear, relu, relu6 and softmax)", c->what, c->l->name, c->cls, name);
        return unsupported(c);
    }
    return true;
}

/* ---- One function per class ---- */

static bool conv_common(const kctx *c)
{
    clf_layer_desc *l = c->l;
    int groups;

    if (!check_data_format(c) || !get_pair(c, "kernel_size", 1, MAX_KERNEL, 0, true, l->kernel) ||
        !get_pair(c, "strides", 1, MAX_STRIDE, 1, false, l->strides) ||
        !get_pair(c, "dilation_rate", 1, MAX_KERNEL, 1, false, l->dilation) ||
        !get_padding(c) || !get_activation(c, "activation") ||
        !get_bool(c, "use_bias", true, &l->use_bias) ||
        !get_int(c, "groups", 1, CLF_DIM_MAX, 1, false, &groups))
        return false;
    if (groups != 1) {
        CLF_LOG_ERROR("%s: layer '%s' (%s): grouped convolution (groups %d) is not "
                      "supported", c->what, l->name, c->cls, groups);
        return unsupported(c);
    }
    if ((l->strides[0] > 1 || l->strides[1] > 1) && (l->dilation[0] > 1 || l->dilation[1] > 1))
        return bad(c, "dilation_rate", field(c, "dilation_rate"),
                   "must be 1 when strides are above 1 (Keras refuses both)");
    return true;
}

static bool parse_conv2d(const kctx *c)
{
    return conv_common(c) && get_int(c, "filters", 1, CLF_DIM_MAX, 0, true, &c->l->filters);
}

static bool parse_depthwise(const kctx *c)
{
    return conv_common(c) &&
           get_int(c, "depth_multiplier", 1, 4096, 1, false, &c->l->depth_multiplier);
}

static bool parse_batch_norm(const kctx *c)
{
    const cJSON *axis = field(c, "axis");
    clf_layer_desc *l = c->l;

    /* Keras 2 may write the axis as a one-element list. */
    if (cJSON_IsArray(axis) && cJSON_GetArraySize(axis) == 1)
        axis = cJSON_GetArrayItem(axis, 0);
    l->bn_axis = -1;
    if (axis && !is_int(axis, -1, 3))
        return bad(c, "axis", field(c, "axis"), "must be the channel axis (-1, or 1 or 3)");
    if (axis)
        l->bn_axis = (int)axis->valuedouble;
    if (l->bn_axis == 0)
        return bad(c, "axis", axis, "must not be the batch axis");
    return get_float(c, "epsilon", 0.0, 1.0, 1e-3, &l->bn_epsilon) &&
           get_bool(c, "center", true, &l->bn_center) &&
           get_bool(c, "scale", true, &l->bn_scale);
}

static bool parse_relu(const kctx *c)
{
    float slope = 0.0f, threshold = 0.0f;
    const cJSON *max = field(c, "max_value");

    c->l->activation = CLF_ACTIVATION_RELU;
    c->l->relu_max = INFINITY;
    if (max && (!cJSON_IsNumber(max) || !(max->valuedouble > 0.0) || isinf(max->valuedouble)))
        return bad(c, "max_value", max, "must be a positive number or null");
    if (max)
        c->l->relu_max = (float)max->valuedouble;
    if (!get_float(c, "negative_slope", -1e30, 1e30, 0.0, &slope) ||
        !get_float(c, "threshold", -1e30, 1e30, 0.0, &threshold))
        return false;
    if (slope != 0.0f)
        return bad(c, "negative_slope", field(c, "negative_slope"),
                   "must be 0 (leaky ReLU is not supported)") || unsupported(c);
    if (threshold != 0.0f)
        return bad(c, "threshold", field(c, "threshold"),
                   "must be 0 (a thresholded ReLU is not supported)") || unsupported(c);
    return true;
}

static bool parse_activation(const kctx *c)
{
    return field(c, "activation") ? get_activation(c, "activation")
                                  : bad(c, "activation", NULL, "is required");
}

/* padding: n, [h, w] or [[top, bottom], [left, right]]. */
static bool parse_zero_padding(const kctx *c)
{
    const cJSON *v = field(c, "padding");
    int *p = c->l->pad, pair[2];

    if (!check_data_format(c))
        return false;
    if (cJSON_IsArray(v) && cJSON_GetArraySize(v) == 2 &&
        cJSON_IsArray(cJSON_GetArrayItem(v, 0))) {
        for (int a = 0; a < 2; a++) {
            const cJSON *q = cJSON_GetArrayItem(v, a);

            if (!cJSON_IsArray(q) || cJSON_GetArraySize(q) != 2 ||
                !is_int(cJSON_GetArrayItem(q, 0), 0, MAX_PAD) ||
                !is_int(cJSON_GetArrayItem(q, 1), 0, MAX_PAD))
                return bad(c, "padding", v, "must be [[top, bottom], [left, right]] with "
                           "integers from 0 to %d", MAX_PAD);
            p[2 * a] = (int)cJSON_GetArrayItem(q, 0)->valuedouble;
            p[2 * a + 1] = (int)cJSON_GetArrayItem(q, 1)->valuedouble;
        }
        return true;
    }
    if (!get_pair(c, "padding", 0, MAX_PAD, 1, false, pair))
        return false;
    p[0] = p[1] = pair[0];
    p[2] = p[3] = pair[1];
    return true;
}

static bool parse_avg_pool(const kctx *c)
{
    clf_layer_desc *l = c->l;

    if (!check_data_format(c) || !get_pair(c, "pool_size", 1, MAX_KERNEL, 2, false, l->pool) ||
        !get_padding(c) || !get_pair(c, "strides", 1, MAX_STRIDE, 0, false, l->strides))
        return false;

    /* strides null means the pool size. */
    if (l->strides[0] == 0)
        memcpy(l->strides, l->pool, sizeof l->strides);
    return true;
}

static bool parse_global_avg_pool(const kctx *c)
{
    bool keepdims;

    if (!check_data_format(c) || !get_bool(c, "keepdims", false, &keepdims))
        return false;
    return !keepdims || bad(c, "keepdims", field(c, "keepdims"),
                            "must be false (keepdims is not supported)") || unsupported(c);
}

static bool parse_dense(const kctx *c)
{
    return get_int(c, "units", 1, CLF_DIM_MAX, 0, true, &c->l->units) &&
           get_activation(c, "activation") && get_bool(c, "use_bias", true, &c->l->use_bias);
}

static bool parse_dropout(const kctx *c)
{
    const cJSON *ns = field(c, "noise_shape");

    if (ns)
        return bad(c, "noise_shape", ns, "must be null (a shared dropout mask is not "
                   "supported)") || unsupported(c);
    return get_float(c, "rate", 0.0, 0.999999, 0.0, &c->l->rate) &&
           (field(c, "rate") || bad(c, "rate", NULL, "is required"));
}

static bool parse_nothing(const kctx *c)
{
    return check_data_format(c);
}

static const struct {
    const char *cls;
    clf_layer_kind kind;
    bool (*parse)(const kctx *c);
} classes[] = {
    {"Conv2D", CLF_LAYER_CONV2D, parse_conv2d},
    {"Convolution2D", CLF_LAYER_CONV2D, parse_conv2d},
    {"DepthwiseConv2D", CLF_LAYER_DEPTHWISE_CONV2D, parse_depthwise},
    {"BatchNormalization", CLF_LAYER_BATCH_NORM, parse_batch_norm},
    {"ReLU", CLF_LAYER_ACTIVATION, parse_relu},
    {"Activation", CLF_LAYER_ACTIVATION, parse_activation},
    {"ZeroPadding2D", CLF_LAYER_ZERO_PADDING2D, parse_zero_padding},
    {"Add", CLF_LAYER_ADD, parse_nothing},
    {"AveragePooling2D", CLF_LAYER_AVG_POOL2D, parse_avg_pool},
    {"AvgPool2D", CLF_LAYER_AVG_POOL2D, parse_avg_pool},
    {"GlobalAveragePooling2D", CLF_LAYER_GLOBAL_AVG_POOL2D, parse_global_avg_pool},
    {"GlobalAvgPool2D", CLF_LAYER_GLOBAL_AVG_POOL2D, parse_global_avg_pool},
    {"Flatten", CLF_LAYER_FLATTEN, parse_nothing},
    {"Dense", CLF_LAYER_DENSE, parse_dense},
    {"Dropout", CLF_LAYER_DROPOUT, parse_dropout},
};

void clf_keras_layer_init(clf_layer_desc *l, clf_layer_kind kind, const char *name)
{
    memset(l, 0, sizeof *l);
    l->kind = kind;
    snprintf(l->name, sizeof l->name, "%s", name);
    l->trainable = true;
    l->relu_max = INFINITY;
}

clf_status clf_keras_layer_parse(const char *what, const char *cls, const cJSON *config,
                                 clf_layer_desc *l)
{
    clf_status status = CLF_ERR_FORMAT;
    kctx c = {what, cls, config, l, &status};
    size_t n = sizeof classes / sizeof classes[0];
    char name[CLF_NAME_MAX];
    size_t i;

    for (i = 0; i < n && strcmp(classes[i].cls, cls) != 0; i++)
        ;
    if (i == n) {
        CLF_LOG_ERROR("%s: layer '%s': layer type '%s' is not supported (clfit reads "
                      "InputLayer, Conv2D, DepthwiseConv2D, BatchNormalization, ReLU, "
                      "Activation, ZeroPadding2D, Add, AveragePooling2D, "
                      "GlobalAveragePooling2D, Flatten, Dense, Dropout)", what, l->name, cls);
        return CLF_ERR_UNSUPPORTED;
    }
    memcpy(name, l->name, sizeof name);
    clf_keras_layer_init(l, classes[i].kind, name);
    if (!cJSON_IsObject(config)) {
        CLF_LOG_ERROR("%s: layer '%s' (%s): 'config' must be an object", what, l->name, cls);
        return CLF_ERR_FORMAT;
    }
    if (!get_bool(&c, "trainable", true, &l->trainable) || !classes[i].parse(&c))
        return status;
    return CLF_OK;
}

static clf_status bad_shape(const char *what, const cJSON *shape, const clf_layer_desc *l)
{
    char *p = cJSON_PrintUnformatted(shape);

    CLF_LOG_ERROR("%s: input layer '%s': batch shape must be [null, n], [null, h, w] or "
                  "[null, h, w, c] with dimensions from 1 to %d or null, got %.80s", what,
                  l->name, CLF_DIM_MAX, p ? p : "?");
    cJSON_free(p);
    return CLF_ERR_FORMAT;
}

clf_status clf_keras_input_from_shape(const char *what, const cJSON *shape, clf_layer_desc *l)
{
    int n = cJSON_GetArraySize(shape), dims[3];
    char name[CLF_NAME_MAX];

    memcpy(name, l->name, sizeof name);
    clf_keras_layer_init(l, CLF_LAYER_INPUT, name);
    if (!shape || cJSON_IsNull(shape))
        return CLF_OK;
    if (!cJSON_IsArray(shape) || n < 2 || n > 4)
        return bad_shape(what, shape, l);
    for (int i = 1; i < n; i++) {
        const cJSON *d = cJSON_GetArrayItem(shape, i);

        if (cJSON_IsNull(d))
            dims[i - 1] = 0;
        else if (is_int(d, 1, CLF_DIM_MAX))
            dims[i - 1] = (int)d->valuedouble;
        else
            return bad_shape(what, shape, l);
    }

    /* (h, w) grey images, as Keras tutorials write them, get one channel. */
    if (n == 3)
        dims[2] = 1;
    l->input_rank = n == 2 ? 1 : 3;
    memcpy(l->input_shape, dims, sizeof(int) * (size_t)l->input_rank);
    return CLF_OK;
}
