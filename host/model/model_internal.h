/* The runnable model's insides (internal): layers with shapes and device
 * storage, parameter tensors, and the pieces a step is made of. The public
 * API (clfit/model.h) is built from these; tests and the model-file and
 * importer code use them directly.
 *
 * Shape letters used in comments: N batch rows in this step, B the
 * compiled max batch, I a Dense layer's inputs, U its units.
 *
 * Tensors are stored in the order of their Keras shape, row-major, batch
 * first: an Input(3, H, W) holds CHW images, a Keras NHWC feature map is
 * HWC, so Flatten is always a reshape and flattens what Keras flattens.
 *
 * Where the next pieces plug in:
 * - A layer kind is a clf_layer_impl (layers.c): build checks the desc,
 *   sets the shape and adds its Keras tensors (clf_param_add); forward
 *   and backward run ops. Inference-only kinds (the convolutions of a
 *   pretrained base) leave backward NULL; compile refuses to send a
 *   gradient through them. Derived device data such as a BatchNorm folded
 *   into a convolution belongs to the kind (made at compile from the
 *   Keras tensors), so saving and loading always see Keras's tensors.
 * - A frozen prefix is every live layer with needs_grad false. Its
 *   outputs that feed layers with needs_grad are the features a cache
 *   would store per image; a step from cached features writes them into
 *   those layers' out storage (as clf_model_load_floats does for the
 *   input) and runs forward and backward from there.
 * - Each live layer now owns B x size floats of output (and of gradient
 *   when it needs one). A deep inference-only base wants those reused
 *   (out and grad are buffer + offset so a planner can pack them).
 */
#ifndef CLFIT_MODEL_INTERNAL_H
#define CLFIT_MODEL_INTERNAL_H

#include "backend/backend.h"
#include "clfit/model.h"
#include "model/graph_desc.h"

enum {
    CLF_PARAM_NAME_MAX = CLF_NAME_MAX + 32, /* "layer/moving_variance" */
    CLF_MAX_LAYERS = 4096,
    CLF_MAX_DIM = 1 << 20,                  /* one axis of a shape */
    CLF_MAX_BATCH = 1 << 16,
};

/* A shape without the batch dimension. */
typedef struct clf_shape {
    int rank;
    int dim[3];
} clf_shape;

/* Where a tensor lives on the device: buffer + offset in floats. */
typedef struct clf_tref {
    clf_buf *buf;
    size_t off;
} clf_tref;

typedef struct clf_param {
    char name[CLF_PARAM_NAME_MAX]; /* "dense/kernel" */
    int layer;
    int rank;
    int shape[CLF_TENSOR_RANK_MAX];
    size_t count;
    bool trainable;
    float *host;       /* values before compile; NULL after */
    clf_buf *w;        /* values after compile */
    clf_buf *g;        /* gradient (trainable only) */
    clf_buf *slot[2];  /* optimizer state: adam m, v; sgd velocity */
    bool stepped;      /* this step's update was fused into backward */
} clf_param;

typedef struct clf_layer {
    const clf_layer_desc *d; /* in the model's own copy of the graph */
    bool live;               /* the output depends on it */
    clf_shape shape;         /* output shape */
    size_t size;             /* output elements per row */
    int fanout;              /* live consumers, one per input edge */
    bool needs_grad;         /* a gradient flows into its output */
    int param0, n_params;    /* its tensors in clf_model.params */
    clf_act act;             /* Dense / Activation: applied by bias_act */
    bool alias;              /* output and gradient are the input's */
    clf_tref out, grad;      /* B x size each; grad only if needs_grad */
} clf_layer;

struct clf_model {
    clf_graph_desc desc; /* own copy */
    clf_layer *layers;   /* desc.n_layers */
    clf_param *params;
    int n_params;
    uint64_t seed;
    int classes;
    int logits;          /* layer whose output holds the logits */
    bool input_grad;     /* also compute d loss / d input (tests) */
    bool image_input;    /* input is (3, H, W) or (H, W, 3) */
    bool input_chw;
    int in_h, in_w;

    /* set by compile */
    clf_backend *be;     /* set even when compile fails (to free buffers) */
    bool ready;          /* compile succeeded */
    clf_optimizer opt;
    clf_preprocess pre;
    int max_batch;
    int n_slots;         /* optimizer state tensors per trainable param */
    clf_buf **bufs;      /* activation and gradient storage, freed at the end */
    int n_bufs;
    clf_buf *images;     /* B x H x W x 3 bytes (image models only) */
    clf_buf *labels;     /* B int32 */
    clf_buf *stats;      /* loss sum, correct count */
    clf_buf *probs;      /* B x classes */
    uint64_t step;
    /* Nonzero only inside a training step's backward: layers that can
     * update their parameters as they go (Dense, through the backend's
     * fused dense_update) do so for step fused_t and mark them stepped. */
    uint64_t fused_t;
    clf_metrics folded;  /* metrics already read off the device */
};

/* ---- building (model.c) ---- */

/* Builds a model from a graph description (copied; the caller keeps g).
 * Checks the whole graph first: CLF_ERR_ARG / CLF_ERR_SHAPE /
 * CLF_ERR_UNSUPPORTED name the layer and what is wrong. */
clf_status clf_model_from_desc(const clf_graph_desc *g, uint64_t seed, clf_model **out);

/* The model's graph (for writing its config into a model file). */
const clf_graph_desc *clf_model_desc(const clf_model *m);

/* Tests: compute the gradient of the loss with respect to the input too
 * (clf_model_read_input_grad). Call before compile. */
void clf_model_want_input_grad(clf_model *m);

/* ---- the built-in specs (builtin.c) ---- */

/* Fills *g (caller frees with clf_graph_desc_free) for "linear"/"mlp:N". */
clf_status clf_builtin_desc(const char *spec, int height, int width, int classes,
                            clf_graph_desc *g);

/* A layer description with Keras's defaults for `kind`. */
void clf_layer_desc_init(clf_layer_desc *l, clf_layer_kind kind, const char *name);

/* ---- layer kinds (layers.c) ---- */

typedef struct clf_layer_impl {
    /* checks the desc, sets l->shape, size, act, alias; adds parameters */
    clf_status (*build)(clf_model *m, int index);
    clf_status (*forward)(clf_model *m, int index, int n, bool training);
    /* from l->grad into the inputs' grads and the parameters' g; NULL for
     * kinds that run forward only (compile refuses to train through them) */
    clf_status (*backward)(clf_model *m, int index, int n);
} clf_layer_impl;

/* NULL when the runtime cannot run layers of this kind yet. */
const clf_layer_impl *clf_layer_impl_of(clf_layer_kind kind);

/* ---- parameters (params.c) ---- */

/* Appends a tensor to layer `index`, zero-filled on the host. */
clf_status clf_param_add(clf_model *m, int index, const char *what, int rank,
                         const int *shape, bool trainable, clf_param **out);

/* Glorot-uniform fill from the model seed and the layer index. */
void clf_param_glorot(const clf_model *m, clf_param *p, int fan_in, int fan_out);

void clf_params_free(clf_model *m);

/* ---- a step in pieces (step.c); n is in [1, max_batch] ---- */

/* n and every label; labels may be NULL. Nothing runs on the device. */
clf_status clf_model_check_batch(const clf_model *m, const int32_t *labels, int n);

/* Uploads n uint8 images and turns them into the input tensor. */
clf_status clf_model_load_images(clf_model *m, const uint8_t *images, int n);

/* Uploads n rows of the input tensor as floats, in its stored order. */
clf_status clf_model_load_floats(clf_model *m, const float *x, int n);

clf_status clf_model_load_labels(clf_model *m, const int32_t *labels, int n);

/* Runs every live layer; training applies dropout with the step's masks. */
clf_status clf_model_forward(clf_model *m, int n, bool training);

/* Adds the loss and correct count of n rows to the device stats; with
 * grad, also writes d(mean loss)/d(logits) into the logits' gradient. */
clf_status clf_model_loss(clf_model *m, int n, bool grad);

/* Gradients of every trainable tensor (and of the input when asked). */
clf_status clf_model_backward(clf_model *m, int n);

/* Inference forward and the softmax of the logits: n x classes floats. */
clf_status clf_model_probs(clf_model *m, int n, float *probs);

/* One optimizer update of every trainable tensor; step += 1. */
clf_status clf_model_update(clf_model *m);

/* n rows of a live layer's output after a forward (tests; features). */
clf_status clf_model_read_output(clf_model *m, int layer, int n, float *dst);

/* Tests: gradients in and out. */
clf_status clf_model_read_grad(clf_model *m, size_t tensor, float *dst, size_t count);
clf_status clf_model_write_grad(clf_model *m, size_t tensor, const float *src, size_t count);
clf_status clf_model_read_input_grad(clf_model *m, int n, float *dst);

/* The 32-bit dropout seed of layer `index` at the current step. */
uint32_t clf_model_dropout_seed(const clf_model *m, int index);

/* ---- optimizer (optim.c) ---- */

/* Checks the settings: CLF_ERR_ARG naming the bad value. */
clf_status clf_optimizer_check(const clf_optimizer *o);

/* Number of state tensors per trainable parameter for o. */
int clf_optimizer_slots(const clf_optimizer *o);

/* The scalars of o's update at step t (1-based), for fused ops. */
void clf_optimizer_step_args(const clf_optimizer *o, uint64_t t, clf_opt_step *out);

/* Applies o to one tensor at step t (1-based). */
clf_status clf_optimizer_apply(clf_backend *be, const clf_optimizer *o, uint64_t t,
                               clf_param *p);

/* ---- compile storage (compile.c) ---- */

/* A new device buffer of count x elem bytes, freed with the model. */
clf_status clf_model_new_buf(clf_model *m, size_t count, size_t elem, const char *what,
                             clf_buf **out);

#endif
