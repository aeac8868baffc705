/* Building models from specs and graph descriptions: what is accepted,
 * and the clear refusals (with the status that says why) for everything
 * the runtime cannot run. */
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "clfit/log.h"
#include "model/model_internal.h"

static char last_error[1024];

static void capture(clf_log_level level, const char *msg, void *user)
{
    (void)user;
    if (level == CLF_LOG_ERROR)
        snprintf(last_error, sizeof last_error, "%s", msg);
}

static int quiet(void **state)
{
    (void)state;
    clf_log_set_callback(capture, NULL);
    return 0;
}

static int loud(void **state)
{
    (void)state;
    clf_log_set_callback(NULL, NULL);
    return 0;
}

static void test_specs(void **state)
{
    static const char *const bad[] = {"", "cnn", "mlp", "mlp:", "mlp:0", "mlp:-3",
                                      "mlp:abc", "mlp:5x", "mlp:99999999999", "linear "};
    clf_model *m = (clf_model *)1;
    int h, w;

    (void)state;
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        assert_int_equal(clf_model_create(bad[i], 8, 8, 2, 1, &m), CLF_ERR_ARG);
        assert_null(m);
    }
    assert_int_equal(clf_model_create(NULL, 8, 8, 2, 1, &m), CLF_ERR_ARG);
    assert_non_null(strstr(last_error, "use linear or mlp:N"));
    assert_int_equal(clf_model_create("linear", 0, 8, 2, 1, &m), CLF_ERR_ARG);
    assert_int_equal(clf_model_create("linear", 8, -1, 2, 1, &m), CLF_ERR_ARG);
    assert_int_equal(clf_model_create("linear", 8, 8, 0, 1, &m), CLF_ERR_ARG);
    /* 3 * 30000 * 30000 values per image do not fit a gemm's int */
    assert_int_equal(clf_model_create("linear", 30000, 30000, 2, 1, &m), CLF_ERR_ARG);

    assert_int_equal(clf_model_create("mlp:7", 5, 6, 3, 1, &m), CLF_OK);
    assert_true(clf_model_input_size(m, &h, &w));
    assert_int_equal(h, 5);
    assert_int_equal(w, 6);
    assert_int_equal(clf_model_classes(m), 3);
    /* the built-in graph, as a model file would store it */
    assert_string_equal(clf_model_desc(m)->name, "sequential");
    assert_int_equal(clf_model_desc(m)->n_layers, 4);
    assert_true(clf_model_desc(m)->layers[0].channels_first);
    clf_model_free(m);
}

/* in(4) -> dense(3, relu) -> out(2, softmax), edited by each case. */
typedef struct graph {
    clf_layer_desc l[6];
    clf_graph_desc g;
} graph;

static void base(graph *t)
{
    memset(t, 0, sizeof *t);
    t->g.layers = t->l;
    t->g.n_layers = 3;
    t->g.output = 2;
    clf_layer_desc_init(&t->l[0], CLF_LAYER_INPUT, "in");
    t->l[0].input_rank = 1, t->l[0].input_shape[0] = 4;
    clf_layer_desc_init(&t->l[1], CLF_LAYER_DENSE, "dense");
    t->l[1].n_inputs = 1, t->l[1].units = 3, t->l[1].activation = CLF_ACTIVATION_RELU;
    clf_layer_desc_init(&t->l[2], CLF_LAYER_DENSE, "out");
    t->l[2].n_inputs = 1, t->l[2].inputs[0] = 1, t->l[2].units = 2;
    t->l[2].activation = CLF_ACTIVATION_SOFTMAX;
}

/* The graph is refused with `want`, and the message mentions `text`. */
static void refused(graph *t, clf_status want, const char *text)
{
    clf_model *m = (clf_model *)1;

    last_error[0] = 0;
    assert_int_equal(clf_model_from_desc(&t->g, 1, &m), want);
    assert_null(m);
    if (!strstr(last_error, text))
        fail_msg("message '%s' does not mention '%s'", last_error, text);
}

static void test_structure_errors(void **state)
{
    graph t;
    clf_model *m;

    (void)state;
    base(&t);
    assert_int_equal(clf_model_from_desc(&t.g, 1, &m), CLF_OK);
    clf_model_free(m);

    base(&t), t.g.n_layers = 0;
    refused(&t, CLF_ERR_ARG, "layers");
    base(&t), t.g.output = 3;
    refused(&t, CLF_ERR_ARG, "output layer index 3");
    base(&t), t.l[2].inputs[0] = 2;
    refused(&t, CLF_ERR_ARG, "must come earlier");
    base(&t), t.l[2].inputs[0] = -1;
    refused(&t, CLF_ERR_ARG, "must come earlier");
    base(&t), t.l[1].n_inputs = 0;
    refused(&t, CLF_ERR_ARG, "'dense'");
    base(&t), t.l[1].n_inputs = 9;
    refused(&t, CLF_ERR_ARG, "'dense'");
    base(&t), snprintf(t.l[2].name, sizeof t.l[2].name, "dense");
    refused(&t, CLF_ERR_ARG, "two layers are named 'dense'");
    base(&t), t.l[1].name[0] = 0;
    refused(&t, CLF_ERR_ARG, "empty");
    base(&t), memset(t.l[1].name, 'x', sizeof t.l[1].name);
    refused(&t, CLF_ERR_ARG, "unterminated");
    base(&t), t.l[0].kind = CLF_LAYER_DENSE;
    refused(&t, CLF_ERR_ARG, "InputLayer");
    base(&t), t.l[1].kind = (clf_layer_kind)99;
    refused(&t, CLF_ERR_ARG, "kind 99");
}

static void test_attribute_errors(void **state)
{
    graph t;

    (void)state;
    base(&t), t.l[1].units = 0;
    refused(&t, CLF_ERR_SHAPE, "'dense'");
    base(&t), t.l[0].input_shape[0] = -4;
    refused(&t, CLF_ERR_SHAPE, "'in'");
    base(&t), t.l[0].input_rank = 4;
    refused(&t, CLF_ERR_UNSUPPORTED, "rank 4");
    base(&t), t.l[1].relu_max = 0.0f;
    refused(&t, CLF_ERR_ARG, "max_value");
    base(&t), t.l[1].relu_max = NAN;
    refused(&t, CLF_ERR_ARG, "max_value");
    base(&t), t.l[1].activation = (clf_activation)7;
    refused(&t, CLF_ERR_ARG, "unknown activation");

    /* Dropout(1.0) would divide by zero */
    base(&t);
    t.g.n_layers = 4, t.g.output = 3;
    clf_layer_desc_init(&t.l[3], CLF_LAYER_DENSE, "out2");
    t.l[3].n_inputs = 1, t.l[3].inputs[0] = 2, t.l[3].units = 2;
    t.l[3].activation = CLF_ACTIVATION_SOFTMAX;
    clf_layer_desc_init(&t.l[2], CLF_LAYER_DROPOUT, "drop");
    t.l[2].n_inputs = 1, t.l[2].inputs[0] = 1, t.l[2].rate = 1.0f;
    refused(&t, CLF_ERR_ARG, "rate 1");
}

static void test_unsupported(void **state)
{
    graph t;

    (void)state;
    /* the loss needs a softmax on the output */
    base(&t), t.l[2].activation = CLF_ACTIVATION_LINEAR;
    refused(&t, CLF_ERR_UNSUPPORTED, "does not end in a softmax");
    base(&t), t.g.output = 1;
    refused(&t, CLF_ERR_UNSUPPORTED, "does not end in a softmax");
    /* softmax anywhere else */
    base(&t), t.l[1].activation = CLF_ACTIVATION_SOFTMAX;
    refused(&t, CLF_ERR_UNSUPPORTED, "only as the final activation");
    /* convolutions need feature maps; BatchNormalization only on the
     * channel axis (desc_init leaves bn_axis 0, the batch axis) */
    base(&t), t.l[1].kind = CLF_LAYER_CONV2D;
    refused(&t, CLF_ERR_SHAPE, "'dense' (Conv2D) needs a feature map");
    base(&t), t.l[1].kind = CLF_LAYER_BATCH_NORM;
    refused(&t, CLF_ERR_UNSUPPORTED, "BatchNormalization");
    /* Dense reads vectors only */
    base(&t), t.l[0].input_rank = 3;
    t.l[0].input_shape[1] = 2, t.l[0].input_shape[2] = 3;
    refused(&t, CLF_ERR_UNSUPPORTED, "add a Flatten");
    /* a second input */
    base(&t);
    t.l[1].kind = CLF_LAYER_INPUT, t.l[1].n_inputs = 0;
    t.l[1].input_rank = 1, t.l[1].input_shape[0] = 4;
    refused(&t, CLF_ERR_UNSUPPORTED, "second input");
    /* Add of different shapes */
    base(&t);
    t.g.n_layers = 4, t.g.output = 3;
    clf_layer_desc_init(&t.l[2], CLF_LAYER_ADD, "add");
    t.l[2].n_inputs = 2, t.l[2].inputs[0] = 0, t.l[2].inputs[1] = 1;
    clf_layer_desc_init(&t.l[3], CLF_LAYER_DENSE, "out");
    t.l[3].n_inputs = 1, t.l[3].inputs[0] = 2, t.l[3].units = 2;
    t.l[3].activation = CLF_ACTIVATION_SOFTMAX;
    refused(&t, CLF_ERR_SHAPE, "shapes differ");
}

/* Layers the output does not depend on are ignored, whatever they are:
 * a model cut after a layer keeps only what leads to it. */
static void test_unreachable_layers_ignored(void **state)
{
    graph t;
    clf_model *m;
    size_t k;

    (void)state;
    base(&t);
    t.g.n_layers = 4;
    clf_layer_desc_init(&t.l[3], CLF_LAYER_CONV2D, "top_conv");
    t.l[3].n_inputs = 1, t.l[3].inputs[0] = 1;
    assert_int_equal(clf_model_from_desc(&t.g, 1, &m), CLF_OK);
    assert_int_equal(clf_model_tensor_count(m), 4);
    assert_int_equal(clf_model_tensor_find(m, "top_conv/kernel", &k), CLF_ERR_ARG);
    clf_model_free(m);
}

/* Activation(softmax) on the output: the logits are its input. */
static void test_softmax_activation_output(void **state)
{
    graph t;
    clf_model *m;

    (void)state;
    base(&t);
    t.l[2].activation = CLF_ACTIVATION_LINEAR;
    t.g.n_layers = 4, t.g.output = 3;
    clf_layer_desc_init(&t.l[3], CLF_LAYER_ACTIVATION, "softmax");
    t.l[3].n_inputs = 1, t.l[3].inputs[0] = 2;
    t.l[3].activation = CLF_ACTIVATION_SOFTMAX;
    assert_int_equal(clf_model_from_desc(&t.g, 1, &m), CLF_OK);
    assert_int_equal(clf_model_classes(m), 2);
    assert_int_equal(m->logits, 2);
    assert_false(clf_model_input_size(m, &(int){0}, &(int){0}));
    clf_model_free(m);
}

static void test_preprocess_names(void **state)
{
    clf_preprocess p;

    (void)state;
    assert_int_equal(clf_preprocess_parse("unit", &p), CLF_OK);
    assert_int_equal(p, CLF_PREPROCESS_UNIT);
    assert_int_equal(clf_preprocess_parse("symmetric", &p), CLF_OK);
    assert_int_equal(p, CLF_PREPROCESS_SYMMETRIC);
    assert_int_equal(clf_preprocess_parse("none", &p), CLF_OK);
    assert_int_equal(p, CLF_PREPROCESS_NONE);
    assert_int_equal(clf_preprocess_parse("Unit", &p), CLF_ERR_ARG);
    assert_non_null(strstr(last_error, "symmetric ([-1,1])"));
    assert_int_equal(clf_preprocess_parse(NULL, &p), CLF_ERR_ARG);
    assert_string_equal(clf_preprocess_name(CLF_PREPROCESS_SYMMETRIC), "symmetric");
    assert_null(clf_preprocess_name((clf_preprocess)3));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_specs),
        cmocka_unit_test(test_structure_errors),
        cmocka_unit_test(test_attribute_errors),
        cmocka_unit_test(test_unsupported),
        cmocka_unit_test(test_unreachable_layers_ignored),
        cmocka_unit_test(test_softmax_activation_output),
        cmocka_unit_test(test_preprocess_names),
    };

    return cmocka_run_group_tests(tests, quiet, loud);
}
