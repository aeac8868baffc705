/* One Keras layer config -> one clf_layer_desc (internal to host/io). */
#ifndef CLFIT_IO_KERAS_LAYERS_H
#define CLFIT_IO_KERAS_LAYERS_H

#include <cJSON.h>

#include "model/graph_desc.h"

/* Sets every field of *l that the layer's kind uses from its Keras
 * class_name `cls` and `config` object; l->name must already be set and
 * the connections (n_inputs, inputs) are left to the caller. `what` names
 * the source file in messages. On failure logs the file, layer, class and
 * field and returns CLF_ERR_FORMAT (bad or missing value) or
 * CLF_ERR_UNSUPPORTED (unknown class, channels_first, ...). */
clf_status clf_keras_layer_parse(const char *what, const char *cls, const cJSON *config,
                                 clf_layer_desc *l);

/* Makes *l an input layer from a Keras batch shape, [null, d1, ...]:
 * (d) or (h, w, c); (h, w) is taken as (h, w, 1). null dimensions become
 * 0 (unknown). A NULL or JSON-null shape gives rank 0 (all unknown). */
clf_status clf_keras_input_from_shape(const char *what, const cJSON *shape,
                                      clf_layer_desc *l);

/* A layer desc with every field at its neutral value: zeros, relu_max
 * INFINITY, trainable. */
void clf_keras_layer_init(clf_layer_desc *l, clf_layer_kind kind, const char *name);

#endif
