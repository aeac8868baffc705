/* Models: build, compile, train, evaluate, predict, and their weights.
 *
 * A model is a graph of Keras-style layers. Built-in specs:
 *   "linear"  Input(3, H, W) -> Flatten -> Dense(classes, softmax)
 *   "mlp:N"   Input(3, H, W) -> Flatten -> Dense(N, relu)
 *                                       -> Dense(classes, softmax)
 * (Input is channels-first, as a PyTorch ToTensor batch.) Transfer models
 * (clf_model_create_with_base) and models read from a file
 * (clf_model_load, io.h) are graphs of the same layers, built from Keras
 * and TF.js configs, and are used through the same functions.
 *
 * Life cycle: create -> (write weights) -> compile on a backend -> train /
 * test / predict batches -> free. compile uploads the weights; from then
 * on weights, gradients and optimizer state live on the device, and a
 * step moves only the batch in (uint8 images, int32 labels) and, when
 * asked, a few floats out. The loss is softmax + sparse categorical
 * cross-entropy computed together from the logits, as log-sum-exp of the
 * logits minus the label's logit (no probability is rounded to 0 before
 * its log is taken); the metrics are that loss and accuracy.
 *
 * Every function that can fail returns a clf_status and logs why.
 */
#ifndef CLFIT_MODEL_H
#define CLFIT_MODEL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "clfit/device.h"
#include "clfit/status.h"

#ifdef __cplusplus
extern "C" {
#endif

/* How uint8 pixels become floats (on the device). */
typedef enum clf_preprocess {
    CLF_PREPROCESS_UNIT,      /* v / 255: [0, 1], like ToTensor (default) */
    CLF_PREPROCESS_SYMMETRIC, /* v / 127.5 - 1: [-1, 1] */
    CLF_PREPROCESS_NONE       /* v: 0..255 */
} clf_preprocess;

/* "unit", "symmetric", "none"; NULL for a value outside the enum. */
const char *clf_preprocess_name(clf_preprocess p);

/* Parses one of the names above; CLF_ERR_ARG (after logging the valid
 * names) for anything else. */
clf_status clf_preprocess_parse(const char *name, clf_preprocess *out);

typedef enum clf_optimizer_kind { CLF_OPT_ADAM, CLF_OPT_SGD } clf_optimizer_kind;

typedef struct clf_optimizer {
    clf_optimizer_kind kind;
    float learning_rate;
    float beta1, beta2, epsilon; /* adam */
    float momentum;              /* sgd; 0 keeps no velocity */
    bool nesterov;               /* sgd */
} clf_optimizer;

/* Keras's defaults: adam lr 1e-3, beta1 0.9, beta2 0.999, epsilon 1e-7;
 * sgd lr 0.01, momentum 0, nesterov off. */
void clf_optimizer_default(clf_optimizer *o, clf_optimizer_kind kind);

typedef struct clf_model clf_model;

/* Builds a built-in model (spec "linear" or "mlp:N") for RGB images of
 * height x width and `classes` classes. Dense kernels are Glorot-uniform
 * from `seed` (the same seed gives the same weights), biases zero.
 * CLF_ERR_ARG on a bad spec or size. *out is NULL on failure. */
clf_status clf_model_create(const char *spec, int height, int width, int classes,
                            uint64_t seed, clf_model **out);

/* Builds a transfer model: the TF.js layers model at base_json (model.json
 * with its weight shards beside it) cut after layer `base_layer` (like
 * Keras's include_top=False; NULL keeps the whole model), every base layer
 * frozen (trainable false) and loaded with the pretrained weights, input
 * (height, width, 3) RGB channels-last, then a head on top:
 *   "linear"     Flatten -> Dense(classes, softmax)
 *   "mlp:N"      Flatten -> Dense(N, relu) -> Dense(classes, softmax)
 *   "FILE.json"  a Keras model config (model.to_json()) whose input is
 *                the base's output (or has no input shape); it must end
 *                in a softmax over `classes` outputs
 *   NULL         no head: the (cut) base itself must end in a softmax
 * Head kernels are Glorot-uniform from seed. Fails, after logging the
 * file, layer and tensor concerned, with CLF_ERR_ARG (unknown layer name,
 * bad spec), CLF_ERR_SHAPE (an image size the base cannot take, a head
 * that does not fit), CLF_ERR_FORMAT / CLF_ERR_IO / CLF_ERR_UNSUPPORTED
 * (files). *out is NULL on failure. */
clf_status clf_model_create_with_base(const char *base_json, const char *base_layer,
                                      const char *head, int height, int width, int classes,
                                      uint64_t seed, clf_model **out);

/* Frees the model and its device buffers. The backend it was compiled
 * on must still be open. NULL is fine. */
void clf_model_free(clf_model *m);

/* A Keras-like summary table (title, one row per layer with output shape
 * and parameter count, then total / trainable / non-trainable counts).
 * *text is malloc'd and ends in a newline; the caller frees it. */
clf_status clf_model_summary(const clf_model *m, char **text);

/* Number of parameters (every tensor, or only trainable ones). */
size_t clf_model_param_count(const clf_model *m, bool trainable_only);

int clf_model_classes(const clf_model *m);

/* The image size the model takes. false (and 0 x 0) when the model's
 * input is not an RGB image, (3, H, W) or (H, W, 3). */
bool clf_model_input_size(const clf_model *m, int *height, int *width);

/* Allocates everything a step needs on `be` (which must outlive the
 * model), uploads the weights and zeroes the optimizer state. Steps take
 * 1..max_batch images. A model is compiled once; compiling again is
 * CLF_ERR_ARG. Fails with the backend's status (e.g. CLF_ERR_DEVICE_MEM)
 * when a buffer does not fit; the model is then unusable. */
clf_status clf_model_compile(clf_model *m, clf_backend *be, const clf_optimizer *opt,
                             clf_preprocess pre, int max_batch);

/* One training step on n images (n x H x W x 3 uint8, HWC) with labels in
 * [0, classes): forward, loss, backward, one optimizer update. The mean
 * loss over the n images is minimised, so a short last batch weighs each
 * image like a full one. The loss and accuracy are added to the metrics.
 * Labels and n are checked before anything runs: CLF_ERR_ARG names the
 * offending value and position. */
clf_status clf_model_train_batch(clf_model *m, const uint8_t *images, const int32_t *labels,
                                 int n);

/* As train_batch without backward or update (dropout is the identity):
 * only adds the loss and accuracy to the metrics. */
clf_status clf_model_test_batch(clf_model *m, const uint8_t *images, const int32_t *labels,
                                int n);

typedef struct clf_metrics {
    double loss_sum; /* sum of per-image losses */
    double correct;  /* images whose first arg-max is the label */
    size_t count;    /* images seen */
} clf_metrics;

/* The metrics since the last reset. Reads a few floats from the device
 * (a synchronisation point); cheap enough to call every step. */
clf_status clf_model_metrics(clf_model *m, clf_metrics *out);

clf_status clf_model_reset_metrics(clf_model *m);

/* Restarts the accumulators from *mt (a resumed epoch's partial figures). */
clf_status clf_model_set_metrics(clf_model *m, const clf_metrics *mt);

/* Softmax probabilities of n images: probs is n x classes, row-major. */
clf_status clf_model_predict_batch(clf_model *m, const uint8_t *images, int n, float *probs);

/* ---- Frozen bases: features ----
 * The layers of a frozen, deterministic base (no gradient reaches them,
 * no active Dropout) run first, in inference mode; what the trainable
 * layers read from them is the image's feature vector. It stays the same
 * while the base's weights do, so it can be computed once per image and
 * the head trained from it (fit() does so, see fit.h). Valid after
 * compile. */

/* Floats per image of that feature vector; 0 when the model computes
 * nothing frozen before its trainable layers (e.g. "linear"). */
size_t clf_model_feature_size(const clf_model *m);

/* Runs the frozen layers on n images (as train_batch takes them) and
 * copies out their features: n x clf_model_feature_size() floats. */
clf_status clf_model_extract_features(clf_model *m, const uint8_t *images, int n,
                                      float *features);

/* As train_batch and test_batch, from features that extract_features made
 * (on this model, with its current base weights). The metrics and the
 * optimizer step advance exactly as with images. */
clf_status clf_model_train_features(clf_model *m, const float *features,
                                    const int32_t *labels, int n);
clf_status clf_model_test_features(clf_model *m, const float *features,
                                   const int32_t *labels, int n);

/* ---- Weights in and out (saving, loading, checkpoints) ----
 * Parameter tensors are numbered 0..clf_model_tensor_count()-1 in layer
 * order and named as Keras names them: "dense/kernel", "dense/bias", ...
 * Values are host float32 arrays in Keras's layout (a Dense kernel is
 * (inputs, units), row-major). Before compile they are read and written
 * on the host; after compile, on the device. */
enum { CLF_TENSOR_RANK_MAX = 4 };

typedef struct clf_tensor_info {
    const char *name; /* valid while the model lives */
    int rank;
    int shape[CLF_TENSOR_RANK_MAX];
    size_t count; /* product of the shape */
    bool trainable;
} clf_tensor_info;

size_t clf_model_tensor_count(const clf_model *m);

/* CLF_ERR_ARG when index is out of range. */
clf_status clf_model_tensor_info(const clf_model *m, size_t index, clf_tensor_info *out);

/* Index of the tensor called `name`; CLF_ERR_ARG (logged at debug level
 * only, so that loaders can probe) when there is none. */
clf_status clf_model_tensor_find(const clf_model *m, const char *name, size_t *index);

/* Copies tensor `index` out to / in from `count` floats; count must equal
 * the tensor's. write rejects NaN and infinities (CLF_ERR_ARG naming the
 * tensor and element). */
clf_status clf_model_tensor_read(clf_model *m, size_t index, float *dst, size_t count);
clf_status clf_model_tensor_write(clf_model *m, size_t index, const float *src, size_t count);

/* ---- Optimizer state (checkpoints); valid after compile ----
 * Each trainable tensor has clf_model_opt_slots() state tensors of its
 * own shape: adam "m" and "v"; sgd with momentum "momentum"; plain sgd
 * none. Frozen tensors have none (CLF_ERR_ARG). */
int clf_model_opt_slots(const clf_model *m);

/* "m", "v", "momentum"; NULL for a slot that does not exist. */
const char *clf_model_opt_slot_name(const clf_model *m, int slot);

clf_status clf_model_opt_read(clf_model *m, size_t tensor, int slot, float *dst,
                              size_t count);
clf_status clf_model_opt_write(clf_model *m, size_t tensor, int slot, const float *src,
                               size_t count);

/* Optimizer updates done so far (Keras's `iterations`). It sets Adam's
 * bias correction and the dropout masks, so a checkpoint stores it. */
uint64_t clf_model_step(const clf_model *m);
void clf_model_set_step(clf_model *m, uint64_t step);

#ifdef __cplusplus
}
#endif
#endif
