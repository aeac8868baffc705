/* Field-by-field comparison of graph descriptions. */
#include "support/graph_compare.h"

#include <math.h>
#include <stdio.h>
#include <string.h>

#define DIFF_INT(field)                                                        \
    if (x->field != y->field) {                                                \
        snprintf(why, n, "layer %d (%s): " #field " %d != %d", i, x->name,      \
                 (int)x->field, (int)y->field);                                \
        return false;                                                          \
    }
#define DIFF_FLOAT(field)                                                      \
    if (memcmp(&x->field, &y->field, sizeof x->field) != 0) {                  \
        snprintf(why, n, "layer %d (%s): " #field " %.9g != %.9g", i, x->name,  \
                 (double)x->field, (double)y->field);                          \
        return false;                                                          \
    }
#define DIFF_ARRAY(field, len)                                                 \
    for (int k_ = 0; k_ < (len); k_++)                                         \
        if (x->field[k_] != y->field[k_]) {                                    \
            snprintf(why, n, "layer %d (%s): " #field "[%d] %d != %d", i,       \
                     x->name, k_, x->field[k_], y->field[k_]);                 \
            return false;                                                      \
        }

static bool layer_equal(int i, const clf_layer_desc *x, const clf_layer_desc *y, char *why,
                        size_t n)
{
    if (strcmp(x->name, y->name) != 0) {
        snprintf(why, n, "layer %d: name %s != %s", i, x->name, y->name);
        return false;
    }
    DIFF_INT(kind) DIFF_INT(n_inputs) DIFF_ARRAY(inputs, x->n_inputs)
    DIFF_INT(trainable) DIFF_INT(input_rank) DIFF_ARRAY(input_shape, 3)
    DIFF_INT(channels_first) DIFF_INT(activation) DIFF_FLOAT(relu_max)
    DIFF_INT(units) DIFF_INT(filters) DIFF_INT(depth_multiplier)
    DIFF_ARRAY(kernel, 2) DIFF_ARRAY(strides, 2) DIFF_ARRAY(dilation, 2)
    DIFF_INT(padding_same) DIFF_INT(use_bias) DIFF_FLOAT(bn_epsilon)
    DIFF_INT(bn_center) DIFF_INT(bn_scale) DIFF_INT(bn_axis)
    DIFF_ARRAY(pad, 4) DIFF_ARRAY(pool, 2) DIFF_FLOAT(rate)
    return true;
}

bool graph_desc_equal(const clf_graph_desc *a, const clf_graph_desc *b, char *why,
                      size_t why_size)
{
    if (strcmp(a->name, b->name) != 0 || a->n_layers != b->n_layers || a->output != b->output) {
        snprintf(why, why_size, "graph: name %s/%s, layers %d/%d, output %d/%d", a->name,
                 b->name, a->n_layers, b->n_layers, a->output, b->output);
        return false;
    }
    for (int i = 0; i < a->n_layers; i++)
        if (!layer_equal(i, &a->layers[i], &b->layers[i], why, why_size))
            return false;
    return true;
}
