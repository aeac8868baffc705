/* A model's architecture as data (internal): what a Keras model config
 * says, parsed, checked and independent of any backend.
 *
 * Three producers fill it: the built-in specs ("linear", "mlp:N"), the
 * Keras / TF.js JSON reader (host/io/) and the model-file loader. One
 * consumer turns it into a runnable model (host/model/). The JSON writer
 * turns it back into a Keras-style config for saved models.
 *
 * Layers are in topological order: every input index is smaller than
 * the layer's own index. Layer 0 is an Input layer.
 */
#ifndef CLFIT_GRAPH_DESC_H
#define CLFIT_GRAPH_DESC_H

#include <stdbool.h>

#include "clfit/status.h"

enum { CLF_NAME_MAX = 128, CLF_MAX_INPUTS = 4 };

typedef enum clf_layer_kind {
    CLF_LAYER_INPUT,
    CLF_LAYER_FLATTEN,
    CLF_LAYER_DENSE,
    CLF_LAYER_DROPOUT,
    CLF_LAYER_ACTIVATION,       /* Keras Activation and ReLU layers */
    CLF_LAYER_CONV2D,
    CLF_LAYER_DEPTHWISE_CONV2D,
    CLF_LAYER_BATCH_NORM,
    CLF_LAYER_ZERO_PADDING2D,
    CLF_LAYER_ADD,
    CLF_LAYER_AVG_POOL2D,
    CLF_LAYER_GLOBAL_AVG_POOL2D,
    CLF_LAYER_KIND_COUNT_
} clf_layer_kind;

/* Activation functions a layer may end with. RELU caps at relu_max
 * (INFINITY for plain relu, 6 for relu6 / ReLU(max_value=6)). */
typedef enum clf_activation {
    CLF_ACTIVATION_LINEAR,
    CLF_ACTIVATION_RELU,
    CLF_ACTIVATION_SOFTMAX
} clf_activation;

typedef struct clf_layer_desc {
    clf_layer_kind kind;
    char name[CLF_NAME_MAX];     /* Keras layer name, unique in the graph */
    int n_inputs;
    int inputs[CLF_MAX_INPUTS];  /* indices of earlier layers */
    bool trainable;

    /* Input: shape without the batch dimension. rank 3 is an image,
     * (c, h, w) when channels_first else (h, w, c); rank 1 is a vector.
     * A dimension of 0 is unknown (Keras None): it is given when the
     * graph is built. rank 0: the whole shape is unknown (a head written
     * without an input shape, whose input is what it is stacked on). */
    int input_rank;
    int input_shape[3];
    bool channels_first;

    /* Dense / Conv2D / DepthwiseConv2D / Activation / ReLU */
    clf_activation activation;
    float relu_max;
    int units;                   /* Dense */
    int filters;                 /* Conv2D */
    int depth_multiplier;        /* DepthwiseConv2D */
    int kernel[2], strides[2], dilation[2];
    bool padding_same;           /* "same" else "valid" */
    bool use_bias;

    /* BatchNormalization (inference; axis must be the channel axis) */
    float bn_epsilon;
    bool bn_center, bn_scale;
    int bn_axis;                 /* as Keras writes it: -1, or counting
                                    the batch dimension (3 for NHWC) */

    /* ZeroPadding2D: top, bottom, left, right */
    int pad[4];

    /* AveragePooling2D: pool size; strides and padding_same above */
    int pool[2];

    /* Dropout */
    float rate;
} clf_layer_desc;

typedef struct clf_graph_desc {
    clf_layer_desc *layers;
    int n_layers;
    int output;                  /* index of the output layer */
    char name[CLF_NAME_MAX];     /* model name */
} clf_graph_desc;

/* Keras class name of a kind ("Dense", "Conv2D", ...). */
const char *clf_layer_kind_name(clf_layer_kind kind);

/* Frees the layer array; the struct itself is the caller's. */
void clf_graph_desc_free(clf_graph_desc *g);

#endif
