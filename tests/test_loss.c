/* Softmax cross-entropy, accuracy and softmax probabilities through the
 * model: Input(3) -> Activation(softmax), fed logits directly, so the loss
 * reads exactly the numbers below. Values by hand (arithmetic in the
 * comments), cross-checked with tools/ref/loss_ref.py. */
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>

#include <cmocka.h>

#include "model/model_internal.h"
#include "support/backends.h"

enum { C = 3, B = 4 };

typedef struct lcase {
    float x[C];
    int32_t label;
    double loss;
    double p[C];
    int correct;
} lcase;

static const lcase cases[] = {
    /* lse = 3 + ln(e^-2 + e^-1 + 1) = 3 + ln(1.50321472) = 3.40760596;
     * loss = lse - 3; p = e^(x - lse) */
    {{1, 2, 3}, 2, 0.407605964, {0.0900305732, 0.244728471, 0.665240956}, 1},
    /* e^-1000 and e^-2000 vanish: lse = 1000, loss = 1000 - (-1000) */
    {{1000, -1000, 0}, 1, 2000.0, {1, 0, 0}, 0},
    /* exp(3e38) overflows unless the max comes off first: lse - max =
     * ln(1 + 1 + 0) = ln 2; a tie, so the first index (0) is the guess */
    {{3e38f, 3e38f, -3e38f}, 1, 0.693147181, {0.5, 0.5, 0}, 0},
    /* tie again, first index 0 is the label: correct.
     * loss = ln(e^2 + e^2 + e) - 2 = ln(2 + e^-1) = 0.861994804 */
    {{2, 2, 1}, 0, 0.861994804, {0.422318798, 0.422318798, 0.155362403}, 1},
};
enum { N_CASES = sizeof cases / sizeof cases[0] };

static clf_model *softmax_model(clf_backend *be)
{
    clf_layer_desc layers[2];
    clf_graph_desc g = {layers, 2, 1, "loss"};
    clf_optimizer opt;
    clf_model *m = NULL;

    clf_layer_desc_init(&layers[0], CLF_LAYER_INPUT, "logits");
    layers[0].input_rank = 1;
    layers[0].input_shape[0] = C;
    clf_layer_desc_init(&layers[1], CLF_LAYER_ACTIVATION, "softmax");
    layers[1].n_inputs = 1;
    layers[1].activation = CLF_ACTIVATION_SOFTMAX;
    assert_int_equal(clf_model_from_desc(&g, 1, &m), CLF_OK);
    assert_int_equal(clf_model_classes(m), C);
    clf_model_want_input_grad(m);
    clf_optimizer_default(&opt, CLF_OPT_ADAM);
    assert_int_equal(clf_model_compile(m, be, &opt, CLF_PREPROCESS_UNIT, B), CLF_OK);
    return m;
}

/* Loss of rows [first, first + n) with their gradient. */
static void run(clf_model *m, int first, int n)
{
    float x[B * C];
    int32_t labels[B];

    for (int r = 0; r < n; r++) {
        for (int j = 0; j < C; j++)
            x[r * C + j] = cases[first + r].x[j];
        labels[r] = cases[first + r].label;
    }
    assert_int_equal(clf_model_check_batch(m, labels, n), CLF_OK);
    assert_int_equal(clf_model_load_floats(m, x, n), CLF_OK);
    assert_int_equal(clf_model_load_labels(m, labels, n), CLF_OK);
    assert_int_equal(clf_model_forward(m, n, true), CLF_OK);
    assert_int_equal(clf_model_loss(m, n, true), CLF_OK);
    assert_int_equal(clf_model_backward(m, n), CLF_OK);
}

static void expect_near(double got, double want, double rel, const char *what, int i)
{
    if (!(fabs(got - want) <= rel * fabs(want) + 1e-7))
        fail_msg("case %d %s = %.9g, want %.9g", i, what, got, want);
}

/* One row at a time: each loss and hit, read back through the metrics. */
static void test_loss_and_accuracy_per_row(void **state)
{
    clf_model *m = softmax_model(*state);
    double prev_loss = 0, prev_correct = 0;
    clf_metrics mt;

    for (int i = 0; i < N_CASES; i++) {
        run(m, i, 1);
        assert_int_equal(clf_model_metrics(m, &mt), CLF_OK);
        assert_true(isfinite(mt.loss_sum));
        expect_near(mt.loss_sum - prev_loss, cases[i].loss, 1e-6, "loss", i);
        assert_true(mt.correct - prev_correct == cases[i].correct);
        prev_loss = mt.loss_sum, prev_correct = mt.correct;
    }
    clf_model_free(m);
}

/* The gradient is (p - onehot) / n for the n rows of this batch: a short
 * last batch (3 of 4 rows) weighs each row by 1/3, not 1/4. */
static void test_gradient_of_partial_batch(void **state)
{
    clf_model *m = softmax_model(*state);
    float grad[B * C];

    run(m, 0, 3);
    assert_int_equal(clf_model_read_input_grad(m, 3, grad), CLF_OK);
    for (int r = 0; r < 3; r++)
        for (int j = 0; j < C; j++) {
            double want = (cases[r].p[j] - (j == cases[r].label)) / 3.0;

            expect_near(grad[r * C + j], want, 1e-6, "grad", r);
        }
    clf_model_free(m);
}

static void test_probabilities(void **state)
{
    clf_model *m = softmax_model(*state);
    float x[B * C], p[B * C];

    for (int r = 0; r < N_CASES; r++)
        for (int j = 0; j < C; j++)
            x[r * C + j] = cases[r].x[j];
    assert_int_equal(clf_model_load_floats(m, x, N_CASES), CLF_OK);
    assert_int_equal(clf_model_probs(m, N_CASES, p), CLF_OK);
    for (int r = 0; r < N_CASES; r++)
        for (int j = 0; j < C; j++)
            expect_near(p[r * C + j], cases[r].p[j], 1e-6, "p", r);
    clf_model_free(m);
}

/* An epoch of a full batch (4) and a short one (1): the totals are sums
 * over images, so the mean loss weighs every image alike. Sum of the four
 * losses above + the first again: 0.407605964 + 2000 + 0.693147181 +
 * 0.861994804 + 0.407605964 = 2002.37035391; correct 1 + 0 + 0 + 1 + 1. */
static void test_epoch_totals(void **state)
{
    clf_model *m = softmax_model(*state);
    clf_metrics mt;

    run(m, 0, 4);
    run(m, 0, 1);
    assert_int_equal(clf_model_metrics(m, &mt), CLF_OK);
    expect_near(mt.loss_sum, 2002.37035391, 1e-6, "loss sum", 0);
    assert_true(mt.correct == 3.0);
    assert_int_equal(clf_model_reset_metrics(m), CLF_OK);
    assert_int_equal(clf_model_metrics(m, &mt), CLF_OK);
    assert_true(mt.loss_sum == 0.0 && mt.correct == 0.0);
    clf_model_free(m);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_loss_and_accuracy_per_row),
        cmocka_unit_test(test_gradient_of_partial_batch),
        cmocka_unit_test(test_probabilities),
        cmocka_unit_test(test_epoch_totals),
    };

    return CLF_TEST_ON_BACKENDS(tests);
}
