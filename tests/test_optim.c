/* Optimizer updates through the model: Adam's and SGD's first three steps
 * on a tiny Dense layer, with gradients written straight into the
 * gradient buffers, against tools/ref/optim_ref.py. */
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>

#include <cmocka.h>

#include "model/model_internal.h"
#include "support/backends.h"

/* Printed by /usr/bin/python3 tools/ref/optim_ref.py: Keras's formulas in
 * float64 from float32 inputs and hyperparameters. Each row is
 * [kernel (2x2 row-major), bias (2)]. By hand, Adam step 1, element 0:
 * m = 0.1 * 0.1 = 0.01, v = 0.001 * 0.01 = 1e-5, lr_t = 1e-3 *
 * sqrt(0.001) / 0.1 = 3.1623e-4, w = 0.5 - 3.1623e-4 * 0.01 /
 * (0.0031623 + 1e-7) = 0.49900003. */
static const double w0[6] = {0.5, -1.0, 0.0, 0.25, 0.1, -0.2};
static const double grads[3][6] = {
    {0.1, -0.2, 1e-8, 3.0, 0.5, -0.05},
    {-0.3, -0.1, 1e-8, 2.0, 0.0, 0.4},
    {0.2, 0.05, 1e-8, -1.0, -0.5, 0.1},
};
static const double adam_ref[3][3][6] = {
    {
     /* w1 */ {4.990000316e-01, -9.990000158e-01, -3.152289049e-06,
                2.490000010e-01, 9.900000777e-02, -1.990000662e-01},
     /* m1 */ {1.000000253e-02, -2.000000507e-02, 1.000000232e-09,
                3.000000715e-01, 5.000001192e-02, -5.000001267e-03},
     /* v1 */ {9.999871552e-06, 3.999948621e-05, 9.999871132e-20,
                8.999884129e-03, 2.499967813e-04, 2.499967888e-06}},
    {
     /* w2 */ {4.994942165e-01, -9.980678493e-01, -7.603377429e-06,
                2.480296497e-01, 9.832995373e-02, -1.996553877e-01},
     /* m2 */ {-2.100000630e-02, -2.800000662e-02, 1.900000418e-09,
                4.700001049e-01, 4.500000954e-02, 3.550000911e-02},
     /* v2 */ {9.998872025e-05, 4.995935879e-05, 1.998974252e-19,
                1.299083286e-02, 2.497467878e-04, 1.624954128e-04}},
    {
     /* w3 */ {4.994754290e-01, -9.975041957e-01, -1.304802313e-05,
                2.474777582e-01, 9.841582109e-02, -2.003009172e-01},
     /* m3 */ {1.099999894e-03, -2.020000402e-02, 2.710000563e-09,
                3.230000594e-01, -9.500004411e-03, 4.195000989e-02},
     /* v3 */ {1.398882190e-04, 5.240936796e-05, 2.996962417e-19,
                1.397782932e-02, 4.994938256e-04, 1.723327910e-04}},
};
static const double sgd_ref[3][3][6] = {
    /* lr 0.01 */
    {
     /* w1 */ {4.990000000e-01, -9.980000000e-01, -9.999999716e-11,
                2.200000007e-01, 9.500000160e-02, -1.995000030e-01},
     /* w2 */ {5.020000001e-01, -9.970000000e-01, -1.999999943e-10,
                2.000000011e-01, 9.500000160e-02, -2.035000030e-01},
     /* w3 */ {5.000000001e-01, -9.975000000e-01, -2.999999915e-10,
                2.100000009e-01, 1.000000015e-01, -2.045000029e-01}},
    /* lr 0.01, momentum 0.9 */
    {
     /* w1 */ {4.990000000e-01, -9.980000000e-01, -9.999999716e-11,
                2.200000007e-01, 9.500000160e-02, -1.995000030e-01},
     /* w2 */ {5.011000001e-01, -9.952000001e-01, -2.899999894e-10,
                1.730000024e-01, 9.050000182e-02, -2.030500030e-01},
     /* w3 */ {5.009900001e-01, -9.931800002e-01, -5.609999750e-10,
                1.407000049e-01, 9.145000202e-02, -2.072450029e-01}},
    /* lr 0.01, momentum 0.9, nesterov */
    {
     /* w1 */ {4.981000000e-01, -9.962000001e-01, -1.899999922e-10,
                1.930000020e-01, 9.050000182e-02, -1.990500030e-01},
     /* w2 */ {5.029900001e-01, -9.926800002e-01, -4.609999778e-10,
                1.307000051e-01, 8.645000213e-02, -2.062450029e-01},
     /* w3 */ {5.008910002e-01, -9.913620004e-01, -8.048999556e-10,
                1.116300079e-01, 9.230500217e-02, -2.110205027e-01}},
};

/* Input(2) -> Dense(2, softmax): a kernel of 4 and a bias of 2 values. */
static clf_model *tiny_model(clf_backend *be, const clf_optimizer *opt)
{
    clf_layer_desc layers[2];
    clf_graph_desc g = {layers, 2, 1, "tiny"};
    clf_model *m = NULL;
    float k[4], b[2];

    clf_layer_desc_init(&layers[0], CLF_LAYER_INPUT, "in");
    layers[0].input_rank = 1;
    layers[0].input_shape[0] = 2;
    clf_layer_desc_init(&layers[1], CLF_LAYER_DENSE, "dense");
    layers[1].n_inputs = 1;
    layers[1].units = 2;
    layers[1].activation = CLF_ACTIVATION_SOFTMAX;
    assert_int_equal(clf_model_from_desc(&g, 1, &m), CLF_OK);
    assert_int_equal(clf_model_compile(m, be, opt, CLF_PREPROCESS_UNIT, 1), CLF_OK);
    for (int i = 0; i < 4; i++)
        k[i] = (float)w0[i];
    b[0] = (float)w0[4], b[1] = (float)w0[5];
    assert_int_equal(clf_model_tensor_write(m, 0, k, 4), CLF_OK);
    assert_int_equal(clf_model_tensor_write(m, 1, b, 2), CLF_OK);
    return m;
}

/* One update with the step's gradients. */
static void step(clf_model *m, int t)
{
    float k[4], b[2];

    for (int i = 0; i < 4; i++)
        k[i] = (float)grads[t][i];
    b[0] = (float)grads[t][4], b[1] = (float)grads[t][5];
    assert_int_equal(clf_model_write_grad(m, 0, k, 4), CLF_OK);
    assert_int_equal(clf_model_write_grad(m, 1, b, 2), CLF_OK);
    assert_int_equal(clf_model_update(m), CLF_OK);
}

/* [kernel, bias] of a tensor kind: slot -1 = weights, else optimizer slot. */
static void read6(clf_model *m, int slot, float *out)
{
    if (slot < 0) {
        assert_int_equal(clf_model_tensor_read(m, 0, out, 4), CLF_OK);
        assert_int_equal(clf_model_tensor_read(m, 1, out + 4, 2), CLF_OK);
        return;
    }
    assert_int_equal(clf_model_opt_read(m, 0, slot, out, 4), CLF_OK);
    assert_int_equal(clf_model_opt_read(m, 1, slot, out + 4, 2), CLF_OK);
}

/* float32 arithmetic against float64 references: 2e-6 relative is a few
 * float ulps after three steps, far below what a wrong formula changes
 * (PyTorch's epsilon placement would move element 2 of w1 from -3.15e-6
 * to -9.09e-5). */
static void expect_close(const float *got, const double *want, const char *what, int t)
{
    for (int i = 0; i < 6; i++)
        if (fabs(got[i] - want[i]) > 2e-6 * fabs(want[i]) + 1e-12)
            fail_msg("step %d %s[%d] = %.9g, want %.9g", t + 1, what, i, (double)got[i],
                     want[i]);
}

static void test_adam_three_steps(void **state)
{
    clf_optimizer opt;
    clf_model *m;
    float got[6];

    clf_optimizer_default(&opt, CLF_OPT_ADAM);
    m = tiny_model(*state, &opt);
    assert_int_equal(clf_model_opt_slots(m), 2);
    assert_string_equal(clf_model_opt_slot_name(m, 0), "m");
    assert_string_equal(clf_model_opt_slot_name(m, 1), "v");
    for (int t = 0; t < 3; t++) {
        step(m, t);
        assert_int_equal(clf_model_step(m), (uint64_t)t + 1);
        read6(m, -1, got);
        expect_close(got, adam_ref[t][0], "w", t);
        read6(m, 0, got);
        expect_close(got, adam_ref[t][1], "m", t);
        read6(m, 1, got);
        expect_close(got, adam_ref[t][2], "v", t);
    }
    clf_model_free(m);
}

static void run_sgd(clf_backend *be, float momentum, bool nesterov, int ref)
{
    clf_optimizer opt;
    clf_model *m;
    float got[6];

    clf_optimizer_default(&opt, CLF_OPT_SGD);
    opt.momentum = momentum;
    opt.nesterov = nesterov;
    m = tiny_model(be, &opt);
    assert_int_equal(clf_model_opt_slots(m), momentum != 0.0f ? 1 : 0);
    for (int t = 0; t < 3; t++) {
        step(m, t);
        read6(m, -1, got);
        expect_close(got, sgd_ref[ref][t], "w", t);
    }
    clf_model_free(m);
}

static void test_sgd_plain(void **state)
{
    run_sgd(*state, 0.0f, false, 0);
}

static void test_sgd_momentum(void **state)
{
    run_sgd(*state, 0.9f, false, 1);
}

static void test_sgd_nesterov(void **state)
{
    run_sgd(*state, 0.9f, true, 2);
}

/* A resumed run sets the step and the state back: the next update must
 * then equal the uninterrupted run's third step. */
static void test_adam_state_restore(void **state)
{
    clf_optimizer opt;
    clf_model *a, *b;
    float w[6], s0[6], s1[6], got[6];

    clf_optimizer_default(&opt, CLF_OPT_ADAM);
    a = tiny_model(*state, &opt);
    step(a, 0);
    step(a, 1);
    read6(a, -1, w);
    read6(a, 0, s0);
    read6(a, 1, s1);

    b = tiny_model(*state, &opt);
    assert_int_equal(clf_model_tensor_write(b, 0, w, 4), CLF_OK);
    assert_int_equal(clf_model_tensor_write(b, 1, w + 4, 2), CLF_OK);
    for (int s = 0; s < 2; s++) {
        const float *src = s ? s1 : s0;

        assert_int_equal(clf_model_opt_write(b, 0, s, src, 4), CLF_OK);
        assert_int_equal(clf_model_opt_write(b, 1, s, src + 4, 2), CLF_OK);
    }
    clf_model_set_step(b, 2);
    step(b, 2);
    read6(b, -1, got);
    expect_close(got, adam_ref[2][0], "w", 2);
    clf_model_free(a);
    clf_model_free(b);
}

static void test_defaults_and_bad_settings(void **state)
{
    clf_optimizer o;

    (void)state;
    /* Keras: Adam(learning_rate=0.001, beta_1=0.9, beta_2=0.999,
     * epsilon=1e-07); SGD(learning_rate=0.01, momentum=0.0) */
    clf_optimizer_default(&o, CLF_OPT_ADAM);
    assert_true(o.learning_rate == 1e-3f && o.beta1 == 0.9f && o.beta2 == 0.999f);
    assert_true(o.epsilon == 1e-7f);
    clf_optimizer_default(&o, CLF_OPT_SGD);
    assert_true(o.learning_rate == 0.01f && o.momentum == 0.0f && !o.nesterov);

    assert_int_equal(clf_optimizer_check(&o), CLF_OK);
    o.learning_rate = -1.0f;
    assert_int_equal(clf_optimizer_check(&o), CLF_ERR_ARG);
    o.learning_rate = NAN;
    assert_int_equal(clf_optimizer_check(&o), CLF_ERR_ARG);
    clf_optimizer_default(&o, CLF_OPT_SGD);
    o.momentum = 1.5f;
    assert_int_equal(clf_optimizer_check(&o), CLF_ERR_ARG);
    clf_optimizer_default(&o, CLF_OPT_ADAM);
    o.beta2 = 1.0f;
    assert_int_equal(clf_optimizer_check(&o), CLF_ERR_ARG);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_adam_three_steps),
        cmocka_unit_test(test_sgd_plain),
        cmocka_unit_test(test_sgd_momentum),
        cmocka_unit_test(test_sgd_nesterov),
        cmocka_unit_test(test_adam_state_restore),
        cmocka_unit_test(test_defaults_and_bad_settings),
    };

    return CLF_TEST_ON_BACKENDS(tests);
}
