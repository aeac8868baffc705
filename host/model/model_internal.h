/* The runnable model's insides (internal): layers with shapes and device
 * storage, parameter tensors, and the pieces a step is made of. The public
 * API (clfit/model.h) is built from these; tests and the model-file and
 * importer code use them directly.
 *
 * Shape letters used in comments: N batch rows in this step, B the
 * compiled max batch, C the rows of one static pass (chunk), I a Dense
 * layer's inputs, U its units.
 *
 * Tensors are stored in the order of their Keras shape, row-major, batch
 * first: an Input(3, H, W) holds CHW images, a Keras NHWC feature map is
 * HWC, so Flatten is always a reshape and flattens what Keras flattens.
 *
 * How a step runs:
 * - A layer kind is a clf_layer_impl (layers.c, layers_conv.c): build
 *   checks the desc, sets the shape and adds its Keras tensors
 *   (clf_param_add); forward and backward run ops. Inference-only kinds
 *   (the convolutions of a pretrained base) leave backward NULL; compile
 *   refuses to send a gradient through them.
 * - Static layers are the live layers that no gradient reaches and that
 *   do not depend on a Dropout with a rate above 0: their output is a
 *   fixed function of the input image (a frozen base). They run first,
 *   in inference mode, C rows at a time (plan.c); the other layers
 *   (the head) run after them on all N rows. Feature layers are the
 *   static layers a non-static layer reads (and the logits when static):
 *   their output is what a feature cache stores per image
 *   (features.c, feature_cache.c).
 * - Compile fuses static layers (fuse.c): a BatchNormalization that is
 *   the only reader of a convolution is folded into its kernel and bias,
 *   a ReLU into the op before it, a ZeroPadding2D into the convolution
 *   after it. Folded data lives in the layer's derived buffers (dw, db),
 *   made from the Keras tensors, so saving and loading always see Keras's
 *   tensors; writing a static tensor after compile re-derives them.
 * - Storage (plan.c): non-static layers and feature layers own B rows of
 *   output (and of gradient when needed); the other static layers share
 *   a few C-row buffers assigned by liveness.
 */
#ifndef CLFIT_MODEL_INTERNAL_H
#define CLFIT_MODEL_INTERNAL_H

#include "backend/backend.h"
#include "clfit/model.h"
#include "io/graph_shapes.h" /* clf_shape */
#include "model/graph_desc.h"

/* Returns from the calling function with a call's status unless it is
 * CLF_OK (the model's .c files use it for every backend op). */
#define TRY(call)                                                              \
    do {                                                                       \
        clf_status st_ = (call);                                               \
        if (st_ != CLF_OK)                                                     \
            return st_;                                                        \
    } while (0)

enum {
    CLF_PARAM_NAME_MAX = CLF_NAME_MAX + 32, /* "layer/moving_variance" */
    CLF_MAX_LAYERS = 4096,
    CLF_MAX_DIM = 1 << 20,                  /* one axis of a shape */
    CLF_MAX_BATCH = 1 << 16,
};

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
    clf_tref out, grad;      /* B (or C) x size each; grad only if needs_grad */

    /* convolutions and poolings (layers_conv.c) */
    int src;                 /* layer the op reads: the input, or the input
                                of a ZeroPadding2D folded into this one */
    int pad[2];              /* top, left padding the op applies */

    /* set by compile (fuse.c, plan.c) */
    bool stat;               /* static (see above) */
    bool feature;            /* static, read by the head or the loss */
    bool skip;               /* folded into its reader: no op, no storage */
    bool keep;               /* output kept whole after a forward (tests) */
    bool full;               /* storage holds B rows (else C rows, shared) */
    int fold;                /* conv: the BatchNormalization folded in, or -1 */
    clf_buf *dw, *db;        /* derived: folded kernel and bias, or a
                                BatchNormalization's scale and shift */
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

    /* static layers (plan.c, fuse.c, features.c) */
    bool no_fold;        /* tests: compile fuses nothing */
    bool no_plan;        /* tests: every layer owns B rows */
    int chunk;           /* C: rows of one static pass */
    int static_ops;      /* static layers that run an op (not input/alias) */
    int *feats;          /* feature layers, in layer order */
    int n_feats;
    size_t feat_size;    /* floats per image over every feature layer */
    size_t base_images;  /* images the static layers have run on */
    bool derived_stale;  /* a static tensor was written after compile */
    uint64_t static_version; /* bumped whenever static weights change */

    /* pretrained base (base.c): layers [0, base_end) came from it */
    int base_end;
    char base_name[CLF_NAME_MAX];

    /* host cache of feature rows (feature_cache.c), made on first use */
    struct clf_feature_cache *cache;
    size_t cache_limit;  /* bytes; SIZE_MAX until set: a share of RAM */
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

/* Appends the layers of "linear" / "mlp:N" after the last layer of g (its
 * output), named as Keras would (flatten, dense, dense_1, ... avoiding
 * names g has); g->layers is reallocated. CLF_ERR_ARG for a bad spec or
 * class count. */
clf_status clf_builtin_head(const char *spec, int classes, clf_graph_desc *g);

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

/* The kinds of layers_conv.c (Conv2D, DepthwiseConv2D, BatchNormalization,
 * ZeroPadding2D, the poolings); NULL for the others. */
const clf_layer_impl *clf_conv_layer_impl(clf_layer_kind kind);

/* Helpers for builds: sets layer i's shape and per-row size (CLF_ERR_SHAPE
 * naming the layer for a dimension outside 1..CLF_MAX_DIM or a size above
 * INT_MAX); checks that it has one input; its activation as an op
 * argument (softmax only on the output layer, where the loss applies it). */
clf_status clf_layer_set_shape(clf_model *m, int i, int rank, const int *dim);
clf_status clf_layer_one_input(const clf_model *m, int i);
clf_status clf_layer_act(clf_model *m, int i, clf_act *act);

/* ---- compile: fusion (fuse.c) and storage (plan.c) ---- */

/* Sets stat on every live layer (needs_grad must be known). */
void clf_plan_mark_static(clf_model *m);

/* Folds paddings and BatchNormalizations into convolutions and ReLUs into
 * the op before them (nothing when m->no_fold). Sets fold, src, pad, act,
 * alias and skip. */
void clf_fuse_layers(clf_model *m);

/* Feature layers, C, and every layer's out / grad storage. */
clf_status clf_plan_storage(clf_model *m);

/* (Re)computes folded kernels and biases and BN scales and shifts from
 * the Keras tensors; clears derived_stale. */
clf_status clf_fuse_derive(clf_model *m);

/* Tests: layer `layer` keeps its own output (for clf_model_read_output)
 * and nothing is fused into it. Call before compile. */
void clf_model_keep_output(clf_model *m, int layer);

/* The two phases of clf_model_forward: the static layers on n rows (C at
 * a time, inference mode), then the others. */
clf_status clf_model_static_forward(clf_model *m, int n);
clf_status clf_model_dynamic_forward(clf_model *m, int n, bool training);

/* ---- features (features.c) ---- */

/* n rows of every feature layer <-> n x feat_size floats, each row the
 * feature layers' outputs one after another (in layer order). */
clf_status clf_model_read_features(clf_model *m, int n, float *dst);
clf_status clf_model_write_features(clf_model *m, const float *src, int n);

/* ---- the feature cache of fit() (feature_cache.c) ---- */

typedef struct clf_feature_cache clf_feature_cache;

void clf_feature_cache_free(clf_feature_cache *c);

/* Images whose features the model's cache holds (0 without a cache). */
size_t clf_feature_cache_rows(const clf_model *m);

/* Prepares caching for `images` more images: creates the cache on first
 * use, or turns caching off for the model (one notice) when it would
 * exceed m->cache_limit. Cheap; fit calls it before each pass. */
clf_status clf_feature_cache_plan(clf_model *m, size_t images);

/* As clf_model_train_batch / test_batch, taking each image's features
 * from the cache when it holds them and adding those it computes.
 * Without a cache (or without a static base) they are exactly
 * train_batch and test_batch. */
clf_status clf_feature_cache_train(clf_model *m, const uint8_t *images,
                                   const int32_t *labels, int n);
clf_status clf_feature_cache_test(clf_model *m, const uint8_t *images,
                                  const int32_t *labels, int n);

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

/* Backward and update as a training step runs them: layers that can
 * (Dense) update their parameters as they go, through the backend's fused
 * dense_update (each parameter read and written once, the gradient never
 * stored), then clf_model_update does the rest; step += 1. The result
 * equals backward + update to rounding (the fused op sums each gradient
 * in batch order). Every training path uses this, so runs that should
 * agree bit for bit do. */
clf_status clf_model_backward_update(clf_model *m, int n);

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
