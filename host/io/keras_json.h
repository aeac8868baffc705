/* Keras model configs and TF.js layers models <-> clf_graph_desc
 * (internal).
 *
 * The reader accepts
 *  - a TF.js model.json: {"modelTopology": ..., "weightsManifest": ...},
 *    where modelTopology is either {"model_config": <Keras config>, ...}
 *    (converted from Keras) or the Keras config itself (saved by TF.js);
 *  - a Keras model config, model.to_json()'s output:
 *    {"class_name": "Sequential" | "Functional" | "Model", "config": ...},
 *    from Keras 2 (inbound_nodes as [[["name", 0, 0, {}], ...]]) or
 *    Keras 3 (inbound_nodes as [{"args": [keras tensors], ...}]).
 * Layer kinds: InputLayer, Conv2D, DepthwiseConv2D, BatchNormalization,
 * ReLU, Activation, ZeroPadding2D, Add, AveragePooling2D,
 * GlobalAveragePooling2D, Flatten, Dense, Dropout; channels_last only.
 * Models with one input and one output; no shared layers, no nested
 * models. Anything else is refused with a message naming the layer and
 * the field.
 *
 * The result lists only the layers the output depends on, in topological
 * order, layer 0 being the input. Layer shapes are not checked here: see
 * io/graph_shapes.h, which needs the input size.
 *
 * Fields a layer kind does not use are zero in the result, except
 * relu_max, which is INFINITY unless the layer caps its ReLU.
 */
#ifndef CLFIT_IO_KERAS_JSON_H
#define CLFIT_IO_KERAS_JSON_H

#include <stddef.h>

#include <cJSON.h>

#include "model/graph_desc.h"

/* Largest accepted JSON file and layer count. */
enum { CLF_KERAS_JSON_MAX_BYTES = 64 << 20, CLF_KERAS_MAX_LAYERS = 4096 };

/* Parses JSON text (len bytes, need not be NUL-terminated). `what` names
 * the source in messages (a file name). On success *out owns a new layer
 * array (free with clf_graph_desc_free); on failure *out is empty and the
 * log says where: CLF_ERR_FORMAT for malformed JSON or a bad field,
 * CLF_ERR_UNSUPPORTED for a valid Keras feature clfit lacks. */
clf_status clf_keras_json_parse(const char *text, size_t len, const char *what,
                                clf_graph_desc *out);

/* Reads the file at path and parses it as above. */
clf_status clf_keras_json_read(const char *path, clf_graph_desc *out);

/* As clf_keras_json_parse, from an already parsed document (borrowed). */
clf_status clf_keras_json_from_cjson(const cJSON *root, const char *what,
                                     clf_graph_desc *out);

/* Writes g as a Keras functional model config ({"class_name":
 * "Functional", "config": {...}}) that clf_keras_json_parse reads back
 * to an identical description. *json is a malloc'd NUL-terminated
 * string the caller frees. Fails with CLF_ERR_UNSUPPORTED for what Keras
 * cannot express (a ReLU cap other than 6 inside Dense or Conv2D). */
clf_status clf_keras_json_write(const clf_graph_desc *g, char **json);

#endif
