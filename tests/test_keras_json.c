/* The Keras model-config reader and writer on small configs: hand-written
 * files in tests/fixtures/keras/ shaped like what tf.keras 2 and Keras 3
 * write with model.to_json(), round trips through the writer, and bad
 * configs whose errors must name the layer and the field. Expected
 * shapes and parameter counts are worked out by hand in the comments. */
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "io/graph_shapes.h"
#include "io/keras_json.h"
#include "support/graph_compare.h"
#include "support/logcap.h"

#define KERAS_DIR CLFIT_SOURCE_DIR "/tests/fixtures/keras/"

static void read_ok(const char *file, clf_graph_desc *g)
{
    clf_status st = clf_keras_json_read(file, g);

    if (st != CLF_OK)
        fail_msg("%s: %s", file, clf_status_name(st));
}

static const clf_layer_desc *layer(const clf_graph_desc *g, const char *name)
{
    int i = clf_graph_find(g, name);

    if (i < 0)
        fail_msg("no layer %s", name);
    return &g->layers[i];
}

/* Writes g, reads it back, and requires an identical description. */
static void assert_round_trip(const clf_graph_desc *g)
{
    char *json = NULL, why[256];
    clf_graph_desc back;

    assert_int_equal(clf_keras_json_write(g, &json), CLF_OK);
    assert_int_equal(clf_keras_json_parse(json, strlen(json), "written", &back), CLF_OK);
    if (!graph_desc_equal(g, &back, why, sizeof why))
        fail_msg("round trip differs: %s\n%.400s", why, json);
    clf_graph_desc_free(&back);
    free(json);
}

static void count(const clf_graph_desc *g, const clf_shape *shapes, size_t trainable,
                  size_t frozen)
{
    size_t t, f;

    clf_graph_count_params(g, shapes, &t, &f);
    assert_int_equal(t, trainable);
    assert_int_equal(f, frozen);
}

/* tf.keras 2: Flatten(input_shape=(28, 28)) -> Dense(128, relu) ->
 * Dropout(0.2) -> Dense(10, softmax), the Keras beginner tutorial. */
static void test_sequential_tf2(void **state)
{
    clf_graph_desc g;
    clf_shape s[5];

    (void)state;
    read_ok(KERAS_DIR "sequential_tf2.json", &g);
    assert_int_equal(g.n_layers, 5);
    assert_string_equal(g.name, "sequential");
    assert_int_equal(g.layers[0].kind, CLF_LAYER_INPUT);
    assert_string_equal(g.layers[0].name, "flatten_input");
    /* (28, 28) grey becomes (28, 28, 1). */
    assert_int_equal(g.layers[0].input_rank, 3);
    assert_int_equal(g.layers[0].input_shape[2], 1);
    assert_int_equal(layer(&g, "dense")->units, 128);
    assert_int_equal(layer(&g, "dense")->activation, CLF_ACTIVATION_RELU);
    assert_true(isinf(layer(&g, "dense")->relu_max));
    assert_float_equal(layer(&g, "dropout")->rate, 0.2f, 0.0f);
    assert_int_equal(layer(&g, "dense_1")->activation, CLF_ACTIVATION_SOFTMAX);
    assert_int_equal(g.layers[g.output].inputs[0], 3);

    assert_int_equal(clf_graph_shapes_hw(&g, 0, 0, s), CLF_OK);
    assert_int_equal(s[1].dim[0], 784);          /* 28 * 28 * 1 */
    assert_int_equal(s[4].dim[0], 10);
    /* 784*128 + 128 = 100480, 128*10 + 10 = 1290: 101770 */
    count(&g, s, 101770, 0);
    assert_round_trip(&g);
    clf_graph_desc_free(&g);
}

/* The tutorial's head without an input shape: Flatten -> Dense(4). Its
 * input is whatever it is stacked on; on MobileNetV2's 7x7x1280 the Dense
 * has 62720*4 + 4 = 250884 weights, DESIGN.md's trainable count. */
static void test_head_without_input(void **state)
{
    clf_graph_desc g;
    clf_shape in = {3, {7, 7, 1280}}, s[3];

    (void)state;
    read_ok(KERAS_DIR "head_flatten_tf2.json", &g);
    assert_int_equal(g.n_layers, 3);
    assert_string_equal(g.layers[0].name, "flatten_1_input");
    assert_int_equal(g.layers[0].input_rank, 0);

    logcap_begin();
    assert_int_equal(clf_graph_shapes_hw(&g, 0, 0, s), CLF_ERR_SHAPE);
    logcap_end();
    assert_true(LOGCAP_HAS("input shape is unknown"));

    assert_int_equal(clf_graph_shapes(&g, &in, s), CLF_OK);
    assert_int_equal(s[1].dim[0], 62720);
    count(&g, s, 250884, 0);
    assert_round_trip(&g);
    clf_graph_desc_free(&g);
}

/* tf.keras 2 functional head: Input(7,7,1280) -> GAP -> Dropout -> Dense(4). */
static void test_functional_tf2(void **state)
{
    clf_graph_desc g;
    clf_shape s[4];

    (void)state;
    read_ok(KERAS_DIR "functional_tf2.json", &g);
    assert_int_equal(g.n_layers, 4);
    assert_string_equal(g.layers[g.output].name, "dense");
    assert_int_equal(g.layers[1].kind, CLF_LAYER_GLOBAL_AVG_POOL2D);
    assert_int_equal(clf_graph_shapes_hw(&g, 0, 0, s), CLF_OK);
    assert_int_equal(s[1].rank, 1);
    assert_int_equal(s[1].dim[0], 1280);
    count(&g, s, 1280 * 4 + 4, 0);
    assert_round_trip(&g);
    clf_graph_desc_free(&g);
}

/* Keras 3 Sequential: Input(96,96,3) -> Conv2D(8, 3, strides 2, same,
 * relu) -> BatchNormalization -> ReLU(6) -> GAP -> Dense(3, softmax). */
static void test_sequential_keras3(void **state)
{
    clf_graph_desc g;
    clf_shape s[6];
    const clf_layer_desc *c, *bn, *r;

    (void)state;
    read_ok(KERAS_DIR "sequential_keras3.json", &g);
    assert_int_equal(g.n_layers, 6);
    c = layer(&g, "conv2d");
    assert_int_equal(c->filters, 8);
    assert_int_equal(c->strides[1], 2);
    assert_true(c->padding_same);
    assert_true(c->use_bias);
    bn = layer(&g, "batch_normalization");
    assert_int_equal(bn->bn_axis, -1);
    assert_float_equal(bn->bn_epsilon, 1e-3f, 0.0f);
    r = layer(&g, "re_lu");
    assert_int_equal(r->kind, CLF_LAYER_ACTIVATION);
    assert_float_equal(r->relu_max, 6.0f, 0.0f);

    assert_int_equal(clf_graph_shapes_hw(&g, 0, 0, s), CLF_OK);
    /* same padding, stride 2: ceil(96 / 2) = 48 */
    assert_int_equal(s[1].dim[0], 48);
    assert_int_equal(s[1].dim[2], 8);
    /* conv 3*3*3*8 + 8 = 224; BN gamma, beta 16 trainable and moving
     * mean, variance 16 not; dense 8*3 + 3 = 27: 267 and 16 */
    count(&g, s, 267, 16);
    assert_round_trip(&g);
    clf_graph_desc_free(&g);
}

/* Keras 3 functional with a residual Add and every image layer:
 * Input(32,32,3) -> {Conv2D(16, 3, same, relu), Conv2D(16, 1, no bias)}
 * -> Add -> ZeroPadding2D(((0,1),(0,1))) -> DepthwiseConv2D(3, strides 2,
 * valid) -> AveragePooling2D(2) -> Flatten -> Dense(10, softmax). */
static void test_functional_keras3(void **state)
{
    clf_graph_desc g;
    clf_shape s[9];
    const clf_layer_desc *add, *pad, *dw;

    (void)state;
    read_ok(KERAS_DIR "functional_keras3.json", &g);
    assert_int_equal(g.n_layers, 9);
    add = layer(&g, "add");
    assert_int_equal(add->n_inputs, 2);
    assert_string_equal(g.layers[add->inputs[0]].name, "conv2d");
    assert_string_equal(g.layers[add->inputs[1]].name, "conv2d_1");
    pad = layer(&g, "zero_padding2d");
    assert_int_equal(pad->pad[0], 0);
    assert_int_equal(pad->pad[1], 1);
    assert_int_equal(pad->pad[3], 1);
    dw = layer(&g, "depthwise_conv2d");
    assert_int_equal(dw->depth_multiplier, 1);
    assert_false(dw->use_bias);
    assert_int_equal(layer(&g, "average_pooling2d")->strides[0], 2);

    assert_int_equal(clf_graph_shapes_hw(&g, 0, 0, s), CLF_OK);
    /* 32 -> pad 33 -> (33 - 3) / 2 + 1 = 16 -> pool 8: 8*8*16 = 1024 */
    assert_int_equal(s[clf_graph_find(&g, "depthwise_conv2d")].dim[0], 16);
    assert_int_equal(s[clf_graph_find(&g, "flatten")].dim[0], 1024);
    /* 3*3*3*16 + 16 = 448; 3*16 = 48; 3*3*16 = 144; 1024*10 + 10 = 10250 */
    count(&g, s, 448 + 48 + 144 + 10250, 0);
    assert_round_trip(&g);
    clf_graph_desc_free(&g);
}

/* A model saved by TF.js itself (tools/ref/tfjs_small_model.js): the
 * topology is the Keras config directly and the input shape is in the
 * Flatten's batch_input_shape; the input layer gets Keras 2's name. */
static void test_tfjs_saved_model(void **state)
{
    clf_graph_desc g;
    clf_shape s[3];

    (void)state;
    read_ok(KERAS_DIR "tfjs_sequential/model.json", &g);
    assert_int_equal(g.n_layers, 3);
    assert_string_equal(g.name, "tfjs_small");
    assert_string_equal(g.layers[0].name, "flatten_input");
    assert_int_equal(g.layers[0].input_shape[0], 4);
    assert_int_equal(g.layers[2].units, 3);
    assert_int_equal(clf_graph_shapes_hw(&g, 0, 0, s), CLF_OK);
    assert_int_equal(s[1].dim[0], 16);           /* 4 * 4 * 1 */
    count(&g, s, 16 * 3 + 3, 0);
    assert_round_trip(&g);
    clf_graph_desc_free(&g);
}

/* The model input size overrides the file's for convolutional models. */
static void test_input_size_override(void **state)
{
    clf_graph_desc g;
    clf_shape s[9];

    (void)state;
    read_ok(KERAS_DIR "functional_keras3.json", &g);
    /* 64 -> 65 -> 32 -> 16: 16*16*16 = 4096 into the Dense */
    assert_int_equal(clf_graph_shapes_hw(&g, 64, 64, s), CLF_OK);
    assert_int_equal(s[clf_graph_find(&g, "flatten")].dim[0], 4096);
    clf_graph_desc_free(&g);
}

/* ---- Errors ---- */

/* Parses text, expects status want, and that the log names every string. */
static void expect_error(const char *text, clf_status want, const char *a, const char *b)
{
    clf_graph_desc g;
    clf_status st;

    logcap_begin();
    st = clf_keras_json_parse(text, strlen(text), "bad.json", &g);
    logcap_end();
    if (st != want)
        fail_msg("status %s, want %s; log: %s", clf_status_name(st), clf_status_name(want),
                 logcap_text());
    assert_null(g.layers);
    if (!LOGCAP_HAS("bad.json", a, b))
        fail_msg("log does not name '%s' and '%s': %s", a, b, logcap_text());
}

#define SEQ(layers)                                                            \
    "{\"class_name\": \"Sequential\", \"config\": {\"name\": \"s\", \"layers\": [" \
    "{\"class_name\": \"InputLayer\", \"config\": {\"name\": \"in\", "          \
    "\"batch_input_shape\": [null, 8, 8, 3]}}, " layers "]}}"

/* Sequential layers without names get Keras's default names (snake case
 * of the class, "_1" when taken), as Keras names layers built without one;
 * the input layer of a Sequential without one is named after the first. */
static void test_unnamed_sequential_layers(void **state)
{
    const char *text =
        "{\"class_name\": \"Sequential\", \"config\": {\"layers\": ["
        "{\"class_name\": \"Flatten\", \"config\": {\"batch_input_shape\": [null, 2, 2, 3]}}, "
        "{\"class_name\": \"Dense\", \"config\": {\"units\": 5}}, "
        "{\"class_name\": \"ReLU\", \"config\": {}}, "
        "{\"class_name\": \"Dense\", \"config\": {\"name\": \"dense_1x\", \"units\": 4}}, "
        "{\"class_name\": \"Dense\", \"config\": {\"units\": 3, "
        "\"activation\": \"softmax\"}}]}}";
    const char *want[] = {"flatten_input", "flatten", "dense", "re_lu", "dense_1x", "dense_1"};
    clf_graph_desc g;

    (void)state;
    assert_int_equal(clf_keras_json_parse(text, strlen(text), "unnamed.json", &g), CLF_OK);
    assert_int_equal(g.n_layers, 6);
    for (int i = 0; i < 6; i++)
        assert_string_equal(g.layers[i].name, want[i]);
    clf_graph_desc_free(&g);
}

static void test_bad_json(void **state)
{
    (void)state;
    expect_error("{\"class_name\": \"Sequential\",\n \"config\": {\"layers\": [}", CLF_ERR_FORMAT,
                 "not valid JSON", "line 2");
    expect_error("[1, 2]", CLF_ERR_FORMAT, "neither a TF.js model.json", "Keras");
    expect_error("{\"class_name\": \"Bidirectional\", \"config\": {}}", CLF_ERR_UNSUPPORTED,
                 "Bidirectional", "not supported");
}

/* Bytes in[0..len) are refused as JSON with a log holding `says` and no
 * control byte (raw bytes would garble the user's terminal). */
static void expect_not_json(const void *in, size_t len, const char *says)
{
    clf_graph_desc g;
    const char *log;

    logcap_begin();
    assert_int_equal(clf_keras_json_parse(in, len, "model.json", &g), CLF_ERR_FORMAT);
    logcap_end();
    log = logcap_text();
    if (!LOGCAP_HAS("model.json: not valid JSON", says))
        fail_msg("log lacks '%s': %s", says, log);
    for (const char *c = log; *c; c++)
        if ((unsigned char)*c < 0x20 && *c != '\n')
            fail_msg("log holds the raw byte 0x%02x: %s", (unsigned char)*c, log);
}

/* Binary files given as model.json: said what they are, never echoed. */
static void test_binary_not_json(void **state)
{
    static const unsigned char png[16] = {0x89, 'P', 'N', 'G', '\r', '\n', 0x1a, '\n',
                                          0, 0, 0, 13, 'I', 'H', 'D', 'R'};
    static const unsigned char st[] = "\x1d\0\0\0\0\0\0\0{\"clfit.format\": \"model\"}  ";
    static const unsigned char other[] = "\x0d\0\0\0\0\0\0\0{\"w\": {}}     ";
    static const unsigned char noise[12] = {1, 2, 3, 0xfe, 0x1b, '[', '2', 'J', 7, 8, 9, 0};

    (void)state;
    expect_not_json(png, sizeof png, "this is a PNG image, not a Keras/TF.js model.json");
    expect_not_json(st, sizeof st - 1, "this is a clfit model file (safetensors)");
    expect_not_json(other, sizeof other - 1, "this is a safetensors weights file");
    expect_not_json(noise, sizeof noise, "binary data (starting 01 02 03 fe 1b 5b 32 4a)");
    expect_not_json("{\"a\": x\x1b[2J}", 12, "near \"x\\x1b[2J}\"");
}

static void test_bad_layers(void **state)
{
    (void)state;
    expect_error(SEQ("{\"class_name\": \"LSTM\", \"config\": {\"name\": \"lstm_1\"}}"),
                 CLF_ERR_UNSUPPORTED, "'lstm_1'", "'LSTM' is not supported");
    expect_error(SEQ("{\"class_name\": \"Conv2D\", \"config\": {\"name\": \"c1\", "
                     "\"filters\": 4}}"),
                 CLF_ERR_FORMAT, "'c1' (Conv2D)", "'kernel_size' is required");
    expect_error(SEQ("{\"class_name\": \"Conv2D\", \"config\": {\"name\": \"c2\", "
                     "\"filters\": 4, \"kernel_size\": [3], \"data_format\": "
                     "\"channels_last\"}}"),
                 CLF_ERR_FORMAT, "'c2'", "kernel_size' must be an integer or a list of 2");
    expect_error(SEQ("{\"class_name\": \"Conv2D\", \"config\": {\"name\": \"c3\", "
                     "\"filters\": 4, \"kernel_size\": 3, \"data_format\": "
                     "\"channels_first\"}}"),
                 CLF_ERR_UNSUPPORTED, "'c3' (Conv2D)", "channels_first is not supported");
    expect_error(SEQ("{\"class_name\": \"Dense\", \"config\": {\"name\": \"d1\", "
                     "\"units\": -3}}"),
                 CLF_ERR_FORMAT, "'d1' (Dense)", "field 'units' must be an integer");
    expect_error(SEQ("{\"class_name\": \"Dense\", \"config\": {\"name\": \"d2\", "
                     "\"units\": 3, \"activation\": \"tanh\"}}"),
                 CLF_ERR_UNSUPPORTED, "'d2'", "activation 'tanh' is not supported");
    expect_error(SEQ("{\"class_name\": \"ReLU\", \"config\": {\"name\": \"r1\", "
                     "\"negative_slope\": 0.1}}"),
                 CLF_ERR_UNSUPPORTED, "'r1' (ReLU)", "'negative_slope' must be 0");
    expect_error(SEQ("{\"class_name\": \"ReLU\", \"config\": {\"name\": \"r2\", "
                     "\"threshold\": 1}}"),
                 CLF_ERR_UNSUPPORTED, "'r2' (ReLU)", "'threshold' must be 0");
    expect_error(SEQ("{\"class_name\": \"Activation\", \"config\": {\"name\": \"a1\", "
                     "\"activation\": \"sigmoid\"}}"),
                 CLF_ERR_UNSUPPORTED, "'a1'", "'sigmoid' is not supported");
    expect_error(SEQ("{\"class_name\": \"Dropout\", \"config\": {\"name\": \"dr\", "
                     "\"rate\": 1.5}}"),
                 CLF_ERR_FORMAT, "'dr' (Dropout)", "'rate'");
    expect_error(SEQ("{\"class_name\": \"Flatten\", \"config\": {\"name\": \"f\"}}, "
                     "{\"class_name\": \"Dense\", \"config\": {\"name\": \"f\", "
                     "\"units\": 2}}"),
                 CLF_ERR_FORMAT, "two layers are named 'f'", "bad.json");
}

#define FUNC(layers, out)                                                      \
    "{\"class_name\": \"Functional\", \"config\": {\"name\": \"m\", \"layers\": [" \
    "{\"class_name\": \"InputLayer\", \"name\": \"in\", \"config\": {\"name\": "  \
    "\"in\", \"batch_input_shape\": [null, 8, 8, 3]}, \"inbound_nodes\": []}, "  \
    layers "], \"input_layers\": [[\"in\", 0, 0]], \"output_layers\": [[\"" out  \
    "\", 0, 0]]}}"
#define NODE(from) "\"inbound_nodes\": [[[\"" from "\", 0, 0, {}]]]"

static void test_bad_connections(void **state)
{
    (void)state;
    expect_error(FUNC("{\"class_name\": \"Flatten\", \"name\": \"f\", \"config\": {}, "
                      NODE("nowhere") "}", "f"),
                 CLF_ERR_FORMAT, "layer 'f': input 'nowhere'", "not a layer");
    expect_error(FUNC("{\"class_name\": \"Flatten\", \"name\": \"f\", \"config\": {}, "
                      NODE("in") "}", "g"),
                 CLF_ERR_FORMAT, "output layer 'g'", "not a layer");
    expect_error(FUNC("{\"class_name\": \"Add\", \"name\": \"add\", \"config\": {}, "
                      NODE("in") "}", "add"),
                 CLF_ERR_FORMAT, "'add' (Add) has 1 inputs", "at least 2");
    expect_error(FUNC("{\"class_name\": \"Flatten\", \"name\": \"f\", \"config\": {}, "
                      "\"inbound_nodes\": [[[\"in\", 0, 0, {}]], [[\"in\", 0, 0, {}]]]}",
                      "f"),
                 CLF_ERR_UNSUPPORTED, "'f' is called 2 times", "shared layers");
    expect_error(FUNC("{\"class_name\": \"InputLayer\", \"name\": \"in2\", \"config\": "
                      "{\"batch_input_shape\": [null, 8, 8, 3]}, \"inbound_nodes\": []}, "
                      "{\"class_name\": \"Add\", \"name\": \"add\", \"config\": {}, "
                      "\"inbound_nodes\": [[[\"in\", 0, 0, {}], [\"in2\", 0, 0, {}]]]}",
                      "add"),
                 CLF_ERR_UNSUPPORTED, "input layer 'in2'", "more than one input");
    expect_error(FUNC("{\"class_name\": \"Flatten\", \"name\": \"a\", \"config\": {}, "
                      NODE("b") "}, {\"class_name\": \"Flatten\", \"name\": \"b\", "
                      "\"config\": {}, " NODE("a") "}", "a"),
                 CLF_ERR_FORMAT, "cycle", "bad.json");
    /* fuzz-found: node indices beyond int's range were converted to int
     * (undefined behaviour); now any index that is not a whole number
     * >= 0 is refused, in Keras 2 lists and Keras 3 keras_history */
    expect_error(FUNC("{\"class_name\": \"Flatten\", \"name\": \"f\", \"config\": {}, "
                      "\"inbound_nodes\": [[[\"in\", 7.7e101, 0, {}]]]}", "f"),
                 CLF_ERR_FORMAT, "input 'in'", "whole numbers >= 0");
    expect_error(FUNC("{\"class_name\": \"Flatten\", \"name\": \"f\", \"config\": {}, "
                      "\"inbound_nodes\": [{\"args\": [{\"class_name\": "
                      "\"__keras_tensor__\", \"config\": {\"keras_history\": "
                      "[\"in\", 0, -1e300]}}]}]}", "f"),
                 CLF_ERR_FORMAT, "input 'in'", "whole numbers >= 0");
}

/* Parses fine, fails in shape propagation naming the layer. */
static void expect_shape_error(const char *text, const char *a, const char *b)
{
    clf_graph_desc g;
    clf_shape s[8];
    clf_status st;

    assert_int_equal(clf_keras_json_parse(text, strlen(text), "shape.json", &g), CLF_OK);
    assert_true(g.n_layers <= 8);
    logcap_begin();
    st = clf_graph_shapes_hw(&g, 0, 0, s);
    logcap_end();
    assert_int_equal(st, CLF_ERR_SHAPE);
    if (!LOGCAP_HAS(a, b))
        fail_msg("log does not name '%s' and '%s': %s", a, b, logcap_text());
    clf_graph_desc_free(&g);
}

static void test_bad_shapes(void **state)
{
    (void)state;
    expect_shape_error(SEQ("{\"class_name\": \"Dense\", \"config\": {\"name\": \"d\", "
                           "\"units\": 2}}"),
                       "layer 'd' (Dense)", "needs a vector input, got shape 8x8x3");
    expect_shape_error(SEQ("{\"class_name\": \"AveragePooling2D\", \"config\": {\"name\": "
                           "\"pool\", \"pool_size\": [9, 9]}}"),
                       "layer 'pool' (AveragePooling2D)", "needs an input of at least 9x9");
    expect_shape_error(SEQ("{\"class_name\": \"Conv2D\", \"config\": {\"name\": \"big\", "
                           "\"filters\": 2, \"kernel_size\": 9}}"),
                       "layer 'big' (Conv2D)", "kernel 9x9");
    expect_shape_error(SEQ("{\"class_name\": \"BatchNormalization\", \"config\": "
                           "{\"name\": \"bn\", \"axis\": 1}}"),
                       "layer 'bn' (BatchNormalization)", "axis 1 is not the channel axis");
    expect_shape_error(FUNC("{\"class_name\": \"Conv2D\", \"name\": \"c\", \"config\": "
                            "{\"filters\": 4, \"kernel_size\": 1}, " NODE("in") "}, "
                            "{\"class_name\": \"Add\", \"name\": \"sum\", \"config\": {}, "
                            "\"inbound_nodes\": [[[\"in\", 0, 0, {}], [\"c\", 0, 0, {}]]]}",
                            "sum"),
                       "layer 'sum' (Add)", "in has 8x8x3, c has 8x8x4");
}

/* The writer refuses what Keras cannot say. */
static void test_write_unrepresentable(void **state)
{
    clf_graph_desc g;
    char *json = NULL;

    (void)state;
    read_ok(KERAS_DIR "sequential_tf2.json", &g);
    g.layers[2].relu_max = 3.0f;
    logcap_begin();
    assert_int_equal(clf_keras_json_write(&g, &json), CLF_ERR_UNSUPPORTED);
    logcap_end();
    assert_null(json);
    assert_true(LOGCAP_HAS("layer 'dense'", "capped at 3"));
    clf_graph_desc_free(&g);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_sequential_tf2),
        cmocka_unit_test(test_head_without_input),
        cmocka_unit_test(test_functional_tf2),
        cmocka_unit_test(test_sequential_keras3),
        cmocka_unit_test(test_functional_keras3),
        cmocka_unit_test(test_tfjs_saved_model),
        cmocka_unit_test(test_input_size_override),
        cmocka_unit_test(test_unnamed_sequential_layers),
        cmocka_unit_test(test_bad_json),
        cmocka_unit_test(test_binary_not_json),
        cmocka_unit_test(test_bad_layers),
        cmocka_unit_test(test_bad_connections),
        cmocka_unit_test(test_bad_shapes),
        cmocka_unit_test(test_write_unrepresentable),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
