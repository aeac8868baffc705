/* Finite-difference gradient checks of every layer kind the model trains:
 * Dense (linear, relu, relu capped at 6, softmax at the end, frozen),
 * Flatten, Dropout (with its fixed mask), Activation (relu6, softmax at
 * the end), Add, and the loss. For each trainable tensor element and each
 * input element, the analytic gradient of the mean batch loss from
 * clf_model_backward is compared with a central difference of the loss
 * the model's own forward computes.
 *
 * Step and tolerance (float32 everywhere): with eps = 1e-2 the rounding
 * error of a central difference is about u * |loss| / eps = 6e-8 * 3 /
 * 1e-2 = 2e-5 (times a few for the forward's own rounding) and the
 * truncation error eps^2 * |f'''| / 6 stays below 1e-5 for these weights;
 * so |numeric - analytic| <= 2e-4 + 1e-2 * |analytic| (on cpu the largest
 * error seen is 7% of that). A wrong gradient
 * is off by its own size (a missing 1/n is a factor 3 here, a transposed
 * weight gives unrelated values), far outside that. Relu kinks are kept
 * away from every perturbation: every relu reads x W + b straight from the
 * input (|x| <= 1), weights are small and biases large, so each
 * pre-activation stays at least 0.5 from 0 (and from 6), while a step of
 * eps in x, W or b moves it by at most 0.01 (each net's comment has the
 * bounds).
 */
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "core/rng.h"
#include "model/model_internal.h"
#include "support/backends.h"

#define EPS 1e-2f
#define TOL_ABS 2e-4
#define TOL_REL 1e-2

enum { N = 3, B = 4, MAX_IN = 64 };

typedef struct net {
    clf_layer_desc layers[8];
    clf_graph_desc g;
    clf_model *m;
    float x[B * MAX_IN];
    int32_t labels[B];
    int n_in;
} net;

static clf_layer_desc *add(net *t, clf_layer_kind kind, const char *name, int in)
{
    clf_layer_desc *l = &t->layers[t->g.n_layers];

    clf_layer_desc_init(l, kind, name);
    if (in >= 0) {
        l->n_inputs = 1;
        l->inputs[0] = in;
    }
    t->g.output = t->g.n_layers++;
    return l;
}

/* Kernel uniform in [-a, a]; bias from a repeating pattern. */
static void set_dense(net *t, const char *layer, float a, const float *bias, int nb,
                      clf_rng *r)
{
    char name[CLF_PARAM_NAME_MAX];
    clf_tensor_info info;
    size_t k;
    float v[MAX_IN * 8];

    snprintf(name, sizeof name, "%s/kernel", layer);
    assert_int_equal(clf_model_tensor_find(t->m, name, &k), CLF_OK);
    assert_int_equal(clf_model_tensor_info(t->m, k, &info), CLF_OK);
    assert_true(info.count <= sizeof v / sizeof v[0]);
    for (size_t i = 0; i < info.count; i++)
        v[i] = (2 * clf_rng_uniform(r) - 1) * a;
    assert_int_equal(clf_model_tensor_write(t->m, k, v, info.count), CLF_OK);
    snprintf(name, sizeof name, "%s/bias", layer);
    assert_int_equal(clf_model_tensor_find(t->m, name, &k), CLF_OK);
    assert_int_equal(clf_model_tensor_info(t->m, k, &info), CLF_OK);
    for (size_t i = 0; i < info.count; i++)
        v[i] = bias[i % (size_t)nb];
    assert_int_equal(clf_model_tensor_write(t->m, k, v, info.count), CLF_OK);
}

static void build(net *t, clf_backend *be, bool input_grad)
{
    clf_optimizer opt;
    clf_rng r;

    t->g.layers = t->layers;
    snprintf(t->g.name, sizeof t->g.name, "gradcheck");
    assert_int_equal(clf_model_from_desc(&t->g, 7, &t->m), CLF_OK);
    t->n_in = (int)t->m->layers[0].size;
    assert_true(t->n_in <= MAX_IN);
    clf_rng_seed(&r, 99);
    for (int i = 0; i < N * t->n_in; i++)
        t->x[i] = 2 * clf_rng_uniform(&r) - 1;
    for (int i = 0; i < N; i++)
        t->labels[i] = i % clf_model_classes(t->m);
    if (input_grad)
        clf_model_want_input_grad(t->m);
    clf_optimizer_default(&opt, CLF_OPT_ADAM);
    assert_int_equal(clf_model_compile(t->m, be, &opt, CLF_PREPROCESS_UNIT, B), CLF_OK);
}

/* Mean loss of the batch, training-mode forward (dropout on). */
static double loss_of(net *t, bool training)
{
    clf_metrics mt;

    assert_int_equal(clf_model_reset_metrics(t->m), CLF_OK);
    assert_int_equal(clf_model_load_floats(t->m, t->x, N), CLF_OK);
    assert_int_equal(clf_model_load_labels(t->m, t->labels, N), CLF_OK);
    assert_int_equal(clf_model_forward(t->m, N, training), CLF_OK);
    assert_int_equal(clf_model_loss(t->m, N, false), CLF_OK);
    assert_int_equal(clf_model_metrics(t->m, &mt), CLF_OK);
    return mt.loss_sum / N;
}

static void analytic(net *t)
{
    assert_int_equal(clf_model_load_floats(t->m, t->x, N), CLF_OK);
    assert_int_equal(clf_model_load_labels(t->m, t->labels, N), CLF_OK);
    assert_int_equal(clf_model_forward(t->m, N, true), CLF_OK);
    assert_int_equal(clf_model_loss(t->m, N, true), CLF_OK);
    assert_int_equal(clf_model_backward(t->m, N), CLF_OK);
}

/* Compares; returns 1 when the gradient is clearly above the tolerance
 * (a check where every gradient is near zero would prove nothing). */
static int compare(const char *what, size_t i, double num, double ana)
{
    if (fabs(num - ana) > TOL_ABS + TOL_REL * fabs(ana))
        fail_msg("%s[%zu]: numeric %.7g, analytic %.7g", what, i, num, ana);
    return fabs(ana) > 10 * TOL_ABS;
}

static void check_tensor(net *t, size_t k, float *w, const float *grad)
{
    clf_tensor_info info;
    int live = 0;

    assert_int_equal(clf_model_tensor_info(t->m, k, &info), CLF_OK);
    assert_int_equal(clf_model_tensor_read(t->m, k, w, info.count), CLF_OK);
    for (size_t i = 0; i < info.count; i++) {
        float keep = w[i];
        double up, down;

        w[i] = keep + EPS;
        assert_int_equal(clf_model_tensor_write(t->m, k, w, info.count), CLF_OK);
        up = loss_of(t, true);
        w[i] = keep - EPS;
        assert_int_equal(clf_model_tensor_write(t->m, k, w, info.count), CLF_OK);
        down = loss_of(t, true);
        w[i] = keep;
        live += compare(info.name, i, (up - down) / (2.0 * EPS), grad[i]);
    }
    assert_int_equal(clf_model_tensor_write(t->m, k, w, info.count), CLF_OK);
    if (live == 0)
        fail_msg("%s: every gradient is zero; the check would prove nothing", info.name);
}

/* Every trainable tensor; frozen ones must have no gradient at all. */
static void check_params(net *t)
{
    float w[MAX_IN * 8], g[MAX_IN * 8];

    analytic(t);
    for (size_t k = 0; k < clf_model_tensor_count(t->m); k++) {
        clf_tensor_info info;

        assert_int_equal(clf_model_tensor_info(t->m, k, &info), CLF_OK);
        if (!info.trainable) {
            assert_int_equal(clf_model_read_grad(t->m, k, g, info.count), CLF_ERR_ARG);
            continue;
        }
        assert_int_equal(clf_model_read_grad(t->m, k, g, info.count), CLF_OK);
        check_tensor(t, k, w, g);
    }
}

static void check_input(net *t)
{
    float g[B * MAX_IN];
    int live = 0;

    analytic(t);
    assert_int_equal(clf_model_read_input_grad(t->m, N, g), CLF_OK);
    for (int i = 0; i < N * t->n_in; i++) {
        float keep = t->x[i];
        double up, down;

        t->x[i] = keep + EPS;
        up = loss_of(t, true);
        t->x[i] = keep - EPS;
        down = loss_of(t, true);
        t->x[i] = keep;
        live += compare("input", (size_t)i, (up - down) / (2.0 * EPS), g[i]);
    }
    if (live == 0)
        fail_msg("input: every gradient is zero");
}

/* Input(3, 1, 2) -> Flatten -> Dense(4, relu) -> Dropout(0.25)
 * -> Dense(3, softmax), with the input's gradient (through Flatten).
 * |x W1| <= 6 * 0.3 = 1.8 and biases +-2.5 -> |z1| >= 0.7. */
static void test_flatten_dense_dropout(void **state)
{
    static const float b1[] = {2.5f, -2.5f}, b2[] = {0.2f, -0.3f, 0.1f};
    net t = {0};
    clf_layer_desc *l;
    clf_rng r;
    double train_loss;

    l = add(&t, CLF_LAYER_INPUT, "in", -1);
    l->input_rank = 3, l->channels_first = true;
    l->input_shape[0] = 3, l->input_shape[1] = 1, l->input_shape[2] = 2;
    add(&t, CLF_LAYER_FLATTEN, "flatten", 0);
    l = add(&t, CLF_LAYER_DENSE, "dense", 1);
    l->units = 4, l->activation = CLF_ACTIVATION_RELU;
    l = add(&t, CLF_LAYER_DROPOUT, "dropout", 2);
    l->rate = 0.25f;
    l = add(&t, CLF_LAYER_DENSE, "dense_1", 3);
    l->units = 3, l->activation = CLF_ACTIVATION_SOFTMAX;
    build(&t, *state, true);

    clf_rng_seed(&r, 5);
    set_dense(&t, "dense", 0.3f, b1, 2, &r);
    set_dense(&t, "dense_1", 0.8f, b2, 3, &r);

    /* the mask is really applied: training and inference losses differ */
    train_loss = loss_of(&t, true);
    assert_true(fabs(train_loss - loss_of(&t, false)) > 1e-4);
    check_params(&t);
    check_input(&t);
    clf_model_free(t.m);
}

/* Input(4) -> Dense(4) -> Activation(relu, max 6) -> Dense(3, softmax).
 * |x W1| <= 4 * 0.3 = 1.2, biases {2.5, -2.5, 8, 3} -> z1 in [1.3, 3.7],
 * <= -1.3, >= 6.8, [1.8, 4.2]: active, dead, capped at 6, active. */
static void test_relu6_activation(void **state)
{
    static const float b1[] = {2.5f, -2.5f, 8.0f, 3.0f}, b2[] = {0.2f, -0.3f, 0.1f};
    net t = {0};
    clf_layer_desc *l;
    clf_rng r;

    l = add(&t, CLF_LAYER_INPUT, "in", -1);
    l->input_rank = 1, l->input_shape[0] = 4;
    l = add(&t, CLF_LAYER_DENSE, "dense", 0);
    l->units = 4;
    l = add(&t, CLF_LAYER_ACTIVATION, "re_lu", 1);
    l->activation = CLF_ACTIVATION_RELU, l->relu_max = 6.0f;
    l = add(&t, CLF_LAYER_DENSE, "dense_1", 2);
    l->units = 3, l->activation = CLF_ACTIVATION_SOFTMAX;
    build(&t, *state, true);

    clf_rng_seed(&r, 9);
    set_dense(&t, "dense", 0.3f, b1, 4, &r);
    set_dense(&t, "dense_1", 0.8f, b2, 3, &r);
    check_params(&t);
    check_input(&t);
    clf_model_free(t.m);
}

/* Input(5) -> Dense(4, relu max 6) -> Dense(4, frozen) -> Dense(3)
 * -> Activation(softmax): a frozen layer passes the gradient through and
 * gets none itself; the loss reads the logits before the softmax layer.
 * |x W1| <= 5 * 0.3 = 1.5, biases {2.5, -2.5, 8, 3} -> z1 in [1, 4],
 * <= -1, >= 6.5, [1.5, 4.5]. */
static void test_frozen_middle_and_softmax_activation(void **state)
{
    static const float b1[] = {2.5f, -2.5f, 8.0f, 3.0f}, b2[] = {0.1f},
                       b3[] = {0.0f, 0.3f, -0.2f};
    net t = {0};
    clf_layer_desc *l;
    clf_rng r;

    l = add(&t, CLF_LAYER_INPUT, "in", -1);
    l->input_rank = 1, l->input_shape[0] = 5;
    l = add(&t, CLF_LAYER_DENSE, "dense", 0);
    l->units = 4, l->activation = CLF_ACTIVATION_RELU, l->relu_max = 6.0f;
    l = add(&t, CLF_LAYER_DENSE, "frozen", 1);
    l->units = 4, l->trainable = false;
    l = add(&t, CLF_LAYER_DENSE, "logits", 2);
    l->units = 3;
    l = add(&t, CLF_LAYER_ACTIVATION, "softmax", 3);
    l->activation = CLF_ACTIVATION_SOFTMAX;
    build(&t, *state, true);
    assert_int_equal(clf_model_param_count(t.m, false), 24 + 20 + 15);
    assert_int_equal(clf_model_param_count(t.m, true), 24 + 15);

    clf_rng_seed(&r, 6);
    set_dense(&t, "dense", 0.3f, b1, 4, &r);
    set_dense(&t, "frozen", 0.8f, b2, 1, &r);
    set_dense(&t, "logits", 0.8f, b3, 3, &r);
    check_params(&t);
    check_input(&t);
    clf_model_free(t.m);
}

/* Input(4) -> {Dense a(3), Dense b(3, relu)} -> Add -> Dense(3, softmax):
 * the gradient reaches both branches of an Add. (The input feeds two
 * layers, so its own gradient is not asked for.) |x Wb| <= 4 * 0.3,
 * biases +-2.5 -> |zb| >= 1.3. */
static void test_add_branches(void **state)
{
    static const float ba[] = {0.1f, -0.1f, 0.2f}, bb[] = {2.5f, -2.5f},
                       bo[] = {0.0f, 0.1f, -0.1f};
    net t = {0};
    clf_layer_desc *l;
    clf_rng r;

    l = add(&t, CLF_LAYER_INPUT, "in", -1);
    l->input_rank = 1, l->input_shape[0] = 4;
    l = add(&t, CLF_LAYER_DENSE, "a", 0);
    l->units = 3;
    l = add(&t, CLF_LAYER_DENSE, "b", 0);
    l->units = 3, l->activation = CLF_ACTIVATION_RELU;
    l = add(&t, CLF_LAYER_ADD, "add", 1);
    l->n_inputs = 2, l->inputs[1] = 2;
    l = add(&t, CLF_LAYER_DENSE, "out", 3);
    l->units = 3, l->activation = CLF_ACTIVATION_SOFTMAX;
    build(&t, *state, false);

    clf_rng_seed(&r, 8);
    set_dense(&t, "a", 0.8f, ba, 3, &r);
    set_dense(&t, "b", 0.3f, bb, 2, &r);
    set_dense(&t, "out", 0.8f, bo, 3, &r);
    check_params(&t);
    clf_model_free(t.m);
}

/* Gradients cannot yet be summed over several consumers: compile says so
 * instead of computing a wrong gradient. */
static void test_trained_fanout_is_refused(void **state)
{
    net t = {0};
    clf_layer_desc *l;
    clf_optimizer opt;

    l = add(&t, CLF_LAYER_INPUT, "in", -1);
    l->input_rank = 1, l->input_shape[0] = 4;
    l = add(&t, CLF_LAYER_DENSE, "shared", 0);
    l->units = 3;
    l = add(&t, CLF_LAYER_ADD, "add", 1);
    l->n_inputs = 2, l->inputs[1] = 1;
    l = add(&t, CLF_LAYER_DENSE, "out", 2);
    l->units = 2, l->activation = CLF_ACTIVATION_SOFTMAX;
    t.g.layers = t.layers;
    assert_int_equal(clf_model_from_desc(&t.g, 1, &t.m), CLF_OK);
    clf_optimizer_default(&opt, CLF_OPT_SGD);
    assert_int_equal(clf_model_compile(t.m, *state, &opt, CLF_PREPROCESS_UNIT, 2),
                     CLF_ERR_UNSUPPORTED);
    clf_model_free(t.m);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_flatten_dense_dropout),
        cmocka_unit_test(test_relu6_activation),
        cmocka_unit_test(test_frozen_middle_and_softmax_activation),
        cmocka_unit_test(test_add_branches),
        cmocka_unit_test(test_trained_fanout_is_refused),
    };

    return CLF_TEST_ON_BACKENDS(tests);
}
