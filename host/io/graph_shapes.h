/* Shapes, weights and cuts of a clf_graph_desc (internal).
 *
 * Everything here works on the description alone, before any backend
 * exists: the output shape of every layer for a given input size, the
 * weight tensors each layer needs (names and shapes as Keras stores
 * them), parameter counts, and cutting a graph after a named layer
 * (Keras's include_top=False).
 *
 * Shapes are per sample, without the batch dimension, NHWC order:
 * rank 3 is (h, w, c), rank 1 is (n).
 */
#ifndef CLFIT_IO_GRAPH_SHAPES_H
#define CLFIT_IO_GRAPH_SHAPES_H

#include <stdbool.h>
#include <stddef.h>

#include "model/graph_desc.h"

/* Largest height, width or channel count any layer may have. */
enum { CLF_DIM_MAX = 1 << 20 };

typedef struct clf_shape {
    int rank;                    /* 1 or 3 */
    int dim[3];
} clf_shape;

/* Number of elements of a shape (product of dims). */
size_t clf_shape_count(const clf_shape *s);

/* Formats a shape as "7x7x1280" into buf; returns buf. */
const char *clf_shape_str(const clf_shape *s, char *buf, size_t size);

/* One dimension of a convolution or pooling window, as TensorFlow does it:
 * "valid": out = floor((in - (k-1)*d - 1) / s) + 1, no padding;
 * "same": out = ceil(in / s), padding split with the extra row or column
 * at the end (pad_before = total / 2). Returns false when the window
 * does not fit ("valid" with in < (k-1)*d + 1). pad_before may be NULL. */
bool clf_window_out(int in, int k, int s, int d, bool same, int *out, int *pad_before);

/* The input shape for graph g: the Input layer's shape with its height and
 * width replaced by h and w when they are > 0 (so a model written for
 * 224x224 can be run at 96x96 when it is fully convolutional). Fails
 * with CLF_ERR_SHAPE, naming the input layer, when a dimension stays
 * unknown or the rank is unknown. */
clf_status clf_graph_input_shape(const clf_graph_desc *g, int h, int w, clf_shape *out);

/* Output shape of every layer of g for an input of shape *in: shapes[i]
 * for layer i (shapes has g->n_layers entries, caller-owned). The first
 * layer that cannot take its input (a pool larger than its input, Dense
 * on an image, mismatched Add inputs, BatchNormalization on another axis,
 * a size beyond CLF_DIM_MAX) fails with CLF_ERR_SHAPE after logging the
 * layer's name, kind, what it got and what it needs. */
clf_status clf_graph_shapes(const clf_graph_desc *g, const clf_shape *in, clf_shape *shapes);

/* clf_graph_input_shape then clf_graph_shapes. */
clf_status clf_graph_shapes_hw(const clf_graph_desc *g, int h, int w, clf_shape *shapes);

/* Index of the layer called name, or -1. */
int clf_graph_find(const clf_graph_desc *g, const char *name);

/* A new graph holding only the layers that `layer` depends on, in the same
 * order, with `layer` as the output (like Keras's include_top=False at
 * out_relu). *out is the caller's to free with clf_graph_desc_free. An
 * unknown name fails with CLF_ERR_ARG after logging a few valid names. */
clf_status clf_graph_cut(const clf_graph_desc *g, const char *layer, clf_graph_desc *out);

/* ---- Weights a layer needs ---- */

enum { CLF_LAYER_MAX_WEIGHTS = 4, CLF_WEIGHT_MAX_RANK = 4 };

/* One weight tensor of a layer, as Keras names and shapes it. The
 * tensor is called "<layer name>/<var>" in TF.js and Keras files. */
typedef struct clf_weight_spec {
    const char *var;             /* "kernel", "bias", "gamma", ... */
    int rank;
    int shape[CLF_WEIGHT_MAX_RANK];
    bool trainable;              /* moving statistics never are */
} clf_weight_spec;

/* The weight tensors of layer l given its input shape *in, in Keras's
 * order: Conv2D kernel (kh, kw, cin, filters) [+ bias (filters)];
 * DepthwiseConv2D depthwise_kernel (kh, kw, cin, mult) [+ bias];
 * BatchNormalization [gamma] [beta] moving_mean moving_variance (c);
 * Dense kernel (in, units) [+ bias (units)]; none for other layers.
 * Returns how many were written to specs. */
int clf_layer_weights(const clf_layer_desc *l, const clf_shape *in,
                      clf_weight_spec specs[CLF_LAYER_MAX_WEIGHTS]);

/* Parameter counts of g as Keras's model.summary() gives them, from the
 * layer shapes computed by clf_graph_shapes: trainable ones (weights of
 * trainable layers, except moving statistics) and the rest. */
void clf_graph_count_params(const clf_graph_desc *g, const clf_shape *shapes,
                            size_t *trainable, size_t *non_trainable);

#endif
