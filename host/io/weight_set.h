/* Named float32 weight tensors, as read from a weights file, and the
 * check that they fit a graph description (internal). */
#ifndef CLFIT_IO_WEIGHT_SET_H
#define CLFIT_IO_WEIGHT_SET_H

#include <stddef.h>

#include "io/graph_shapes.h"
#include "model/graph_desc.h"

enum { CLF_TENSOR_MAX_RANK = 8 };

typedef struct clf_named_tensor {
    char *name;                  /* as in the file, e.g. "Conv1/kernel" */
    int rank;
    int shape[CLF_TENSOR_MAX_RANK];
    size_t count;                /* product of shape (1 for a scalar) */
    float *data;                 /* count values, row-major as stored */
} clf_named_tensor;

typedef struct clf_weight_set {
    clf_named_tensor *tensors;   /* in file order */
    int n;
} clf_weight_set;

/* The tensor called name, or NULL. */
const clf_named_tensor *clf_weight_set_find(const clf_weight_set *ws, const char *name);

/* Layer `layer`'s weight `var` ("kernel", "gamma", ...): the tensor named
 * "<layer>/<var>", else the only one whose name ends in "/<layer>/<var>"
 * (files written under a model scope); NULL if none or ambiguous. */
const clf_named_tensor *clf_weight_set_find_var(const clf_weight_set *ws, const char *layer,
                                                const char *var);

/* Checks that every layer of g finds each weight clf_layer_weights says it
 * needs, with exactly that shape; shapes[] are g's layer output shapes
 * from clf_graph_shapes. Logs every problem (layer, tensor, shape found
 * and expected) and returns CLF_ERR_FORMAT when a tensor is missing,
 * CLF_ERR_SHAPE when one has the wrong shape, CLF_OK when all fit.
 * Tensors no layer uses (a cut-off top) are fine. */
clf_status clf_weight_set_check(const clf_graph_desc *g, const clf_shape *shapes,
                                const clf_weight_set *ws);

/* Frees every tensor; *ws becomes empty. NULL is fine. */
void clf_weight_set_free(clf_weight_set *ws);

#endif
