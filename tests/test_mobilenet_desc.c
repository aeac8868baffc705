/* The real MobileNetV2 (nsfwjs 4.4.0, fetched by tools/fetch_mobilenet.sh)
 * read as a graph description: layer count and configs, shapes at 224
 * and 96, the cut at out_relu, parameter counts and the JSON round trip.
 *
 * Expected numbers not taken from Keras's documentation were computed
 * from model.json by node, independently of the C reader:
 *   class counts: layers.map(l => l.class_name) tallied;
 *   parameter counts: sum over weightsManifest of the shape products,
 *   split by the layer's config.trainable (moving statistics never
 *   trainable): full 2279365 + 340096 = 2619461, and without dense_1..3
 *   1917888 + 340096 = 2257984, which is also Keras's
 *   MobileNetV2(include_top=False, alpha=1.0) total (DESIGN.md).
 * Skips, saying how to fetch the model, when models/mobilenet_v2 is absent. */
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "io/graph_shapes.h"
#include "io/keras_json.h"
#include "support/fixtures.h"
#include "support/graph_compare.h"
#include "support/logcap.h"

static clf_graph_desc full;

static int setup(void **state)
{
    const char *path = fixture_mobilenet_json();

    (void)state;
    if (path && clf_keras_json_read(path, &full) != CLF_OK)
        return -1;
    return 0;
}

static int teardown(void **state)
{
    (void)state;
    clf_graph_desc_free(&full);
    return 0;
}

#define NEED_MODEL()                                                           \
    do {                                                                       \
        (void)state;                                                           \
        if (!full.layers) {                                                    \
            print_message("%s\n", FIXTURE_FETCH_HINT);                         \
            skip();                                                            \
        }                                                                      \
    } while (0)

static const clf_layer_desc *layer(const clf_graph_desc *g, const char *name)
{
    int i = clf_graph_find(g, name);

    if (i < 0)
        fail_msg("no layer %s", name);
    return &g->layers[i];
}

static void test_layer_kinds(void **state)
{
    /* from node: InputLayer 1, ZeroPadding2D 5, Conv2D 35,
     * BatchNormalization 52, ReLU 35, DepthwiseConv2D 17, Add 10,
     * AveragePooling2D 1, Flatten 1, Dense 3, Dropout 2 */
    static const int want[CLF_LAYER_KIND_COUNT_] = {
        [CLF_LAYER_INPUT] = 1, [CLF_LAYER_ZERO_PADDING2D] = 5, [CLF_LAYER_CONV2D] = 35,
        [CLF_LAYER_BATCH_NORM] = 52, [CLF_LAYER_ACTIVATION] = 35,
        [CLF_LAYER_DEPTHWISE_CONV2D] = 17, [CLF_LAYER_ADD] = 10, [CLF_LAYER_AVG_POOL2D] = 1,
        [CLF_LAYER_FLATTEN] = 1, [CLF_LAYER_DENSE] = 3, [CLF_LAYER_DROPOUT] = 2,
    };
    int got[CLF_LAYER_KIND_COUNT_] = {0};

    NEED_MODEL();
    assert_int_equal(full.n_layers, 162);
    assert_string_equal(full.name, "model_1");
    assert_string_equal(full.layers[full.output].name, "dense_3");
    for (int i = 0; i < full.n_layers; i++)
        got[full.layers[i].kind]++;
    for (int k = 0; k < CLF_LAYER_KIND_COUNT_; k++)
        assert_int_equal(got[k], want[k]);
}

static void test_layer_configs(void **state)
{
    const clf_layer_desc *l;

    NEED_MODEL();
    l = &full.layers[0];
    assert_string_equal(l->name, "input_1");
    assert_int_equal(l->input_rank, 3);
    assert_int_equal(l->input_shape[0], 224);
    assert_int_equal(l->input_shape[2], 3);

    l = layer(&full, "Conv1_pad");      /* padding [[0, 1], [0, 1]] */
    assert_int_equal(l->pad[0], 0);
    assert_int_equal(l->pad[1], 1);
    assert_int_equal(l->pad[2], 0);
    assert_int_equal(l->pad[3], 1);

    l = layer(&full, "Conv1");
    assert_int_equal(l->kind, CLF_LAYER_CONV2D);
    assert_int_equal(l->filters, 32);
    assert_int_equal(l->kernel[0], 3);
    assert_int_equal(l->strides[0], 2);
    assert_false(l->padding_same);
    assert_false(l->use_bias);
    assert_false(l->trainable);
    assert_int_equal(l->activation, CLF_ACTIVATION_LINEAR);

    l = layer(&full, "bn_Conv1");
    assert_float_equal(l->bn_epsilon, 1e-3f, 0.0f);
    assert_true(l->bn_center && l->bn_scale);
    assert_int_equal(l->bn_axis, -1);

    l = layer(&full, "Conv1_relu");
    assert_int_equal(l->kind, CLF_LAYER_ACTIVATION);
    assert_int_equal(l->activation, CLF_ACTIVATION_RELU);
    assert_float_equal(l->relu_max, 6.0f, 0.0f);

    l = layer(&full, "expanded_conv_depthwise");
    assert_int_equal(l->kind, CLF_LAYER_DEPTHWISE_CONV2D);
    assert_int_equal(l->depth_multiplier, 1);
    assert_true(l->padding_same);

    l = layer(&full, "block_2_add");
    assert_int_equal(l->n_inputs, 2);
    assert_string_equal(full.layers[l->inputs[0]].name, "block_1_project_BN");
    assert_string_equal(full.layers[l->inputs[1]].name, "block_2_project_BN");

    l = layer(&full, "average_pooling2d_1");
    assert_int_equal(l->pool[0], 7);
    assert_int_equal(l->strides[1], 7);
    assert_true(layer(&full, "block_11_expand")->trainable);
    assert_float_equal(layer(&full, "dropout_2")->rate, 0.5f, 0.0f);
    assert_int_equal(layer(&full, "dense_3")->units, 5);
    assert_int_equal(layer(&full, "dense_3")->activation, CLF_ACTIVATION_SOFTMAX);
}

static const clf_shape *shape_of(const clf_graph_desc *g, const clf_shape *s, const char *n)
{
    return &s[layer(g, n) - g->layers];
}

static void assert_shape(const clf_shape *s, int h, int w, int c)
{
    assert_int_equal(s->rank, 3);
    assert_int_equal(s->dim[0], h);
    assert_int_equal(s->dim[1], w);
    assert_int_equal(s->dim[2], c);
}

static void test_full_shapes_and_params(void **state)
{
    clf_shape s[162];
    size_t t, f;

    NEED_MODEL();
    assert_int_equal(clf_graph_shapes_hw(&full, 0, 0, s), CLF_OK);
    /* 224 + 1 padding = 225; (225 - 3) / 2 + 1 = 112 */
    assert_shape(shape_of(&full, s, "Conv1"), 112, 112, 32);
    assert_shape(shape_of(&full, s, "out_relu"), 7, 7, 1280);
    assert_shape(shape_of(&full, s, "average_pooling2d_1"), 1, 1, 1280);
    assert_int_equal(s[full.output].rank, 1);
    assert_int_equal(s[full.output].dim[0], 5);
    clf_graph_count_params(&full, s, &t, &f);
    assert_int_equal(t, 2279365);
    assert_int_equal(f, 340096);
}

/* At 96x96 out_relu is 3x3, smaller than the fixed 7x7 pool. */
static void test_full_model_refuses_96(void **state)
{
    clf_shape s[162];
    clf_status st;

    NEED_MODEL();
    logcap_begin();
    st = clf_graph_shapes_hw(&full, 96, 96, s);
    logcap_end();
    assert_int_equal(st, CLF_ERR_SHAPE);
    if (!LOGCAP_HAS("layer 'average_pooling2d_1' (AveragePooling2D)", "at least 7x7",
                    "got 3x3x1280 from 'out_relu'"))
        fail_msg("log: %s", logcap_text());
}

static void test_cut_at_out_relu(void **state)
{
    clf_graph_desc cut;
    clf_shape s[162];
    size_t t, f;

    NEED_MODEL();
    assert_int_equal(clf_graph_cut(&full, "out_relu", &cut), CLF_OK);
    /* everything but the 7 head layers: pool, flatten, 3 dense, 2 dropout */
    assert_int_equal(cut.n_layers, 155);
    assert_string_equal(cut.layers[cut.output].name, "out_relu");
    assert_int_equal(clf_graph_find(&cut, "dense_1"), -1);
    for (int i = 1; i < cut.n_layers; i++)
        for (int k = 0; k < cut.layers[i].n_inputs; k++)
            assert_true(cut.layers[i].inputs[k] < i);

    assert_int_equal(clf_graph_shapes_hw(&cut, 224, 224, s), CLF_OK);
    assert_shape(&s[cut.output], 7, 7, 1280);
    clf_graph_count_params(&cut, s, &t, &f);
    assert_int_equal(t + f, 2257984);
    assert_int_equal(t, 1917888);
    assert_int_equal(f, 340096);

    /* ceil(96 / 32) = 3 */
    assert_int_equal(clf_graph_shapes_hw(&cut, 96, 96, s), CLF_OK);
    assert_shape(&s[cut.output], 3, 3, 1280);
    clf_graph_desc_free(&cut);
}

/* A cut in the middle keeps both branches of a residual block. */
static void test_cut_mid_block(void **state)
{
    clf_graph_desc cut;
    clf_shape s[162];

    NEED_MODEL();
    assert_int_equal(clf_graph_cut(&full, "block_2_add", &cut), CLF_OK);
    assert_true(clf_graph_find(&cut, "block_1_project_BN") >= 0);
    assert_true(clf_graph_find(&cut, "block_2_project_BN") >= 0);
    assert_int_equal(clf_graph_find(&cut, "block_3_expand"), -1);
    assert_int_equal(clf_graph_shapes_hw(&cut, 96, 96, s), CLF_OK);
    /* two stride-2 steps: 96 / 4 = 24, block 2 has 24 channels */
    assert_shape(&s[cut.output], 24, 24, 24);
    clf_graph_desc_free(&cut);
}

static void test_cut_unknown_name(void **state)
{
    clf_graph_desc cut;
    clf_status st;

    NEED_MODEL();
    logcap_begin();
    st = clf_graph_cut(&full, "out_reluu", &cut);
    logcap_end();
    assert_int_equal(st, CLF_ERR_ARG);
    assert_null(cut.layers);
    if (!LOGCAP_HAS("no layer named 'out_reluu'", "out_relu,", "162 layers"))
        fail_msg("log: %s", logcap_text());
}

static void round_trip(const clf_graph_desc *g)
{
    char *json = NULL, why[256];
    clf_graph_desc back;

    assert_int_equal(clf_keras_json_write(g, &json), CLF_OK);
    assert_int_equal(clf_keras_json_parse(json, strlen(json), "written", &back), CLF_OK);
    if (!graph_desc_equal(g, &back, why, sizeof why))
        fail_msg("round trip differs: %s", why);
    clf_graph_desc_free(&back);
    free(json);
}

static void test_round_trip(void **state)
{
    clf_graph_desc cut;

    NEED_MODEL();
    round_trip(&full);
    assert_int_equal(clf_graph_cut(&full, "out_relu", &cut), CLF_OK);
    round_trip(&cut);
    clf_graph_desc_free(&cut);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_layer_kinds),
        cmocka_unit_test(test_layer_configs),
        cmocka_unit_test(test_full_shapes_and_params),
        cmocka_unit_test(test_full_model_refuses_96),
        cmocka_unit_test(test_cut_at_out_relu),
        cmocka_unit_test(test_cut_mid_block),
        cmocka_unit_test(test_cut_unknown_name),
        cmocka_unit_test(test_round_trip),
    };

    return cmocka_run_group_tests(tests, setup, teardown);
}
