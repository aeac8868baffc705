/* Names of layer kinds and cleanup of graph descriptions. */
#include "model/graph_desc.h"

#include <stdlib.h>

static const char *const kind_names[CLF_LAYER_KIND_COUNT_] = {
    [CLF_LAYER_INPUT] = "InputLayer",
    [CLF_LAYER_FLATTEN] = "Flatten",
    [CLF_LAYER_DENSE] = "Dense",
    [CLF_LAYER_DROPOUT] = "Dropout",
    [CLF_LAYER_ACTIVATION] = "Activation",
    [CLF_LAYER_CONV2D] = "Conv2D",
    [CLF_LAYER_DEPTHWISE_CONV2D] = "DepthwiseConv2D",
    [CLF_LAYER_BATCH_NORM] = "BatchNormalization",
    [CLF_LAYER_ZERO_PADDING2D] = "ZeroPadding2D",
    [CLF_LAYER_ADD] = "Add",
    [CLF_LAYER_AVG_POOL2D] = "AveragePooling2D",
    [CLF_LAYER_GLOBAL_AVG_POOL2D] = "GlobalAveragePooling2D",
};

const char *clf_layer_kind_name(clf_layer_kind kind)
{
    if ((unsigned)kind >= CLF_LAYER_KIND_COUNT_)
        return "Unknown";
    return kind_names[kind];
}

void clf_graph_desc_free(clf_graph_desc *g)
{
    if (!g)
        return;
    free(g->layers);
    g->layers = NULL;
    g->n_layers = 0;
}
