/* The built-in model specs ("linear", "mlp:N") as graph descriptions or
 * as heads on a base, and Keras's defaults for a layer description. */
#include <errno.h>
#include <limits.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "clfit/log.h"
#include "core/alloc.h"
#include "model/model_internal.h"

void clf_layer_desc_init(clf_layer_desc *l, clf_layer_kind kind, const char *name)
{
    memset(l, 0, sizeof *l);
    l->kind = kind;
    snprintf(l->name, sizeof l->name, "%s", name);
    l->trainable = true;
    l->activation = CLF_ACTIVATION_LINEAR;
    l->relu_max = INFINITY;
    l->depth_multiplier = 1;
    l->kernel[0] = l->kernel[1] = 1;
    l->strides[0] = l->strides[1] = 1;
    l->dilation[0] = l->dilation[1] = 1;
    l->use_bias = true;
    l->bn_epsilon = 1e-3f;
    l->bn_center = l->bn_scale = true;
    l->pool[0] = l->pool[1] = 2;
}

/* `base` if no layer of g has that name, else base_1, base_2, ... as
 * Keras numbers its default names. */
static void unused_name(const clf_graph_desc *g, const char *base, char *out, size_t size)
{
    for (int k = 0;; k++) {
        bool taken = false;

        if (k == 0)
            snprintf(out, size, "%s", base);
        else
            snprintf(out, size, "%s_%d", base, k);
        for (int i = 0; i < g->n_layers && !taken; i++)
            taken = strcmp(g->layers[i].name, out) == 0;
        if (!taken)
            return;
    }
}

/* Appends a layer fed by the previous one, named `name` or, when a layer
 * of g already has that name, name_1, name_2, ... */
static clf_layer_desc *push(clf_graph_desc *g, clf_layer_kind kind, const char *name)
{
    clf_layer_desc *l = &g->layers[g->n_layers];
    char unique[CLF_NAME_MAX];

    unused_name(g, name, unique, sizeof unique);
    clf_layer_desc_init(l, kind, unique);
    if (g->n_layers > 0) {
        l->n_inputs = 1;
        l->inputs[0] = g->n_layers - 1;
    }
    g->output = g->n_layers++;
    return l;
}

/* "mlp:N" -> N; 0 for "linear"; -1 for anything else. */
static long parse_spec(const char *spec)
{
    char *end;
    long n;

    if (strcmp(spec, "linear") == 0)
        return 0;
    if (strncmp(spec, "mlp:", 4) != 0)
        return -1;
    errno = 0;
    n = strtol(spec + 4, &end, 10);
    if (errno || end == spec + 4 || *end || n < 1 || n > CLF_MAX_DIM)
        return -2;
    return n;
}

static bool check_sizes(int height, int width, int classes)
{
    if (height < 1 || width < 1 || height > CLF_MAX_DIM || width > CLF_MAX_DIM ||
        (long long)height * width * 3 > INT_MAX) {
        CLF_LOG_ERROR("model: image size %dx%d is not usable (each side 1..%d, "
                      "3 x height x width at most %d)", height, width, CLF_MAX_DIM,
                      INT_MAX);
        return false;
    }
    /* Flatten's output is one axis: 591 x 591 x 3 is the largest square */
    int max_side = (int)sqrt(CLF_MAX_DIM / 3.0);

    if ((long long)height * width * 3 > CLF_MAX_DIM) {
        CLF_LOG_ERROR("model: a %dx%d RGB image gives Flatten %lld inputs, more than the %d "
                      "one layer axis may have: use an image size of at most %dx%d (or a "
                      "frozen base, which shrinks the image first)", height, width,
                      (long long)height * width * 3, CLF_MAX_DIM, max_side, max_side);
        return false;
    }
    if (classes < 1 || classes > CLF_MAX_DIM) {
        CLF_LOG_ERROR("model: %d classes is not usable (1..%d)", classes, CLF_MAX_DIM);
        return false;
    }
    return true;
}

static long check_spec(const char *spec)
{
    long hidden = parse_spec(spec ? spec : "");

    if (hidden < 0)
        CLF_LOG_ERROR("model: unknown model spec '%s': use linear or mlp:N with N in "
                      "1..%d", spec ? spec : "(null)", CLF_MAX_DIM);
    return hidden;
}

/* Flatten -> [Dense(hidden, relu)] -> Dense(classes, softmax) after the
 * last layer of g, which has room for them. */
static void push_head(clf_graph_desc *g, long hidden, int classes)
{
    clf_layer_desc *l;

    push(g, CLF_LAYER_FLATTEN, "flatten");
    if (hidden > 0) {
        l = push(g, CLF_LAYER_DENSE, "dense");
        l->units = (int)hidden;
        l->activation = CLF_ACTIVATION_RELU;
    }
    l = push(g, CLF_LAYER_DENSE, "dense");
    l->units = classes;
    l->activation = CLF_ACTIVATION_SOFTMAX;
}

clf_status clf_builtin_head(const char *spec, int classes, clf_graph_desc *g)
{
    long hidden = check_spec(spec);
    clf_status st;

    if (hidden < 0)
        return CLF_ERR_ARG;
    if (classes < 1 || classes > CLF_MAX_DIM) {
        CLF_LOG_ERROR("model: %d classes is not usable (1..%d)", classes, CLF_MAX_DIM);
        return CLF_ERR_ARG;
    }
    st = clf_realloc_array((void **)&g->layers, (size_t)g->n_layers + 3, sizeof *g->layers,
                           "model layers");
    if (st == CLF_OK)
        push_head(g, hidden, classes);
    return st;
}

clf_status clf_builtin_desc(const char *spec, int height, int width, int classes,
                            clf_graph_desc *g)
{
    long hidden = check_spec(spec);
    clf_layer_desc *l;

    memset(g, 0, sizeof *g);
    if (hidden < 0)
        return CLF_ERR_ARG;
    if (!check_sizes(height, width, classes))
        return CLF_ERR_ARG;
    g->layers = clf_calloc_array(4, sizeof *g->layers, "model layers");
    if (!g->layers)
        return CLF_ERR_NOMEM;
    snprintf(g->name, sizeof g->name, "sequential");

    l = push(g, CLF_LAYER_INPUT, "input_1");
    l->input_rank = 3;
    l->channels_first = true;
    l->input_shape[0] = 3;
    l->input_shape[1] = height;
    l->input_shape[2] = width;
    push_head(g, hidden, classes);
    return CLF_OK;
}
