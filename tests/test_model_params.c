/* Parameter tensors: Glorot-uniform init statistics and determinism,
 * Keras names and shapes, and values in and out before and after compile. */
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "model/model_internal.h"
#include "support/backends.h"

static float *read_all(clf_model *m, size_t k, size_t *count)
{
    clf_tensor_info info;
    float *v;

    assert_int_equal(clf_model_tensor_info(m, k, &info), CLF_OK);
    v = malloc(info.count * sizeof *v);
    assert_non_null(v);
    assert_int_equal(clf_model_tensor_read(m, k, v, info.count), CLF_OK);
    *count = info.count;
    return v;
}

/* U(-a, a) has mean 0 and variance a^2 / 3. For the linear model at 224
 * (fan_in 150528, fan_out 10): a = sqrt(6 / 150538) = 0.0063133; with
 * N = 1505280 draws the mean's standard deviation is a / sqrt(3N) =
 * 2.97e-6 (we allow 6 of them) and the variance's relative one is
 * sqrt(0.8 / N) = 7.3e-4 (we allow 1%). Each tenth of [-a, a) holds
 * N / 10 draws, sd sqrt(N * 0.09) = 368 (we allow 2000, 1.3%). */
static void test_glorot_statistics(void **state)
{
    double a = sqrt(6.0 / (150528.0 + 10.0)), mean = 0, var = 0;
    float af = (float)a; /* the bound as the float weights see it */
    size_t n, nb, bins[10] = {0};
    clf_model *m;
    float *w, *b;

    (void)state;
    assert_int_equal(clf_model_create("linear", 224, 224, 10, 20, &m), CLF_OK);
    w = read_all(m, 0, &n);
    assert_int_equal(n, 1505280);
    for (size_t i = 0; i < n; i++) {
        assert_true(w[i] >= -af && w[i] <= af);
        mean += w[i];
        var += (double)w[i] * w[i];
        bins[(size_t)((w[i] + a) / (2 * a) * 10) % 10]++;
    }
    mean /= (double)n;
    var /= (double)n;
    assert_true(fabs(mean) < 6 * a / sqrt(3.0 * (double)n));
    assert_true(fabs(var / (a * a / 3) - 1) < 0.01);
    for (int k = 0; k < 10; k++)
        assert_true(labs((long)bins[k] - (long)(n / 10)) < 2000);

    b = read_all(m, 1, &nb);
    for (size_t i = 0; i < nb; i++)
        assert_true(b[i] == 0.0f);
    free(w), free(b);
    clf_model_free(m);
}

/* Each Dense gets its own limit: mlp:8 at 4x4 has dense (48 -> 8),
 * a = sqrt(6 / 56) = 0.327, and dense_1 (8 -> 3), a = sqrt(6 / 11) =
 * 0.739; the largest draw of each comes close to its own limit. */
static void test_glorot_per_layer_limit(void **state)
{
    const double limit[2] = {sqrt(6.0 / 56.0), sqrt(6.0 / 11.0)};
    clf_model *m;

    (void)state;
    assert_int_equal(clf_model_create("mlp:8", 4, 4, 3, 5, &m), CLF_OK);
    for (int t = 0; t < 2; t++) {
        size_t n;
        float *w = read_all(m, (size_t)t * 2, &n);
        double big = 0;

        for (size_t i = 0; i < n; i++)
            big = fmax(big, fabs(w[i]));
        assert_true(big <= (float)limit[t] && big > 0.8 * limit[t]);
        free(w);
    }
    clf_model_free(m);
}

static void test_init_is_deterministic(void **state)
{
    clf_model *a, *b, *c;
    size_t n;
    float *wa, *wb, *wc;

    (void)state;
    assert_int_equal(clf_model_create("mlp:16", 16, 16, 4, 20, &a), CLF_OK);
    assert_int_equal(clf_model_create("mlp:16", 16, 16, 4, 20, &b), CLF_OK);
    assert_int_equal(clf_model_create("mlp:16", 16, 16, 4, 21, &c), CLF_OK);
    for (size_t k = 0; k < clf_model_tensor_count(a); k += 2) {
        wa = read_all(a, k, &n);
        wb = read_all(b, k, &n);
        wc = read_all(c, k, &n);
        assert_memory_equal(wa, wb, n * sizeof *wa);
        assert_memory_not_equal(wa, wc, n * sizeof *wa);
        free(wa), free(wb), free(wc);
    }
    clf_model_free(a), clf_model_free(b), clf_model_free(c);
}

static void expect_tensor(clf_model *m, size_t k, const char *name, int rank, int d0, int d1,
                          bool trainable)
{
    clf_tensor_info info;
    size_t found;

    assert_int_equal(clf_model_tensor_info(m, k, &info), CLF_OK);
    assert_string_equal(info.name, name);
    assert_int_equal(info.rank, rank);
    assert_int_equal(info.shape[0], d0);
    if (rank > 1)
        assert_int_equal(info.shape[1], d1);
    assert_int_equal(info.count, rank > 1 ? (size_t)d0 * d1 : (size_t)d0);
    assert_true(info.trainable == trainable);
    assert_int_equal(clf_model_tensor_find(m, name, &found), CLF_OK);
    assert_int_equal(found, k);
}

/* Keras's names and layouts: a Dense kernel is (inputs, units). */
static void test_names_and_shapes(void **state)
{
    clf_model *m;
    size_t k;

    (void)state;
    assert_int_equal(clf_model_create("mlp:32", 28, 28, 10, 1, &m), CLF_OK);
    assert_int_equal(clf_model_tensor_count(m), 4);
    expect_tensor(m, 0, "dense/kernel", 2, 2352, 32, true);
    expect_tensor(m, 1, "dense/bias", 1, 32, 0, true);
    expect_tensor(m, 2, "dense_1/kernel", 2, 32, 10, true);
    expect_tensor(m, 3, "dense_1/bias", 1, 10, 0, true);
    assert_int_equal(clf_model_tensor_find(m, "dense_2/kernel", &k), CLF_ERR_ARG);
    assert_int_equal(clf_model_tensor_info(m, 4, &(clf_tensor_info){0}), CLF_ERR_ARG);
    clf_model_free(m);
}

/* Values written before compile are what the device starts from; after
 * compile, reads and writes go to the device. */
static void test_values_in_and_out(void **state)
{
    float w[12 * 2], got[12 * 2], bad[2] = {1.0f, NAN};
    clf_optimizer opt;
    clf_model *m;

    assert_int_equal(clf_model_create("linear", 2, 2, 2, 1, &m), CLF_OK);
    for (int i = 0; i < 24; i++)
        w[i] = (float)i / 8 - 1;
    assert_int_equal(clf_model_tensor_write(m, 0, w, 24), CLF_OK);
    assert_int_equal(clf_model_tensor_write(m, 0, w, 23), CLF_ERR_ARG);
    assert_int_equal(clf_model_tensor_write(m, 1, bad, 2), CLF_ERR_ARG);
    bad[1] = INFINITY;
    assert_int_equal(clf_model_tensor_write(m, 1, bad, 2), CLF_ERR_ARG);
    assert_int_equal(clf_model_tensor_write(m, 9, w, 2), CLF_ERR_ARG);

    clf_optimizer_default(&opt, CLF_OPT_SGD);
    opt.momentum = 0.5f;
    assert_int_equal(clf_model_compile(m, *state, &opt, CLF_PREPROCESS_UNIT, 2), CLF_OK);
    assert_int_equal(clf_model_tensor_read(m, 0, got, 24), CLF_OK);
    assert_memory_equal(got, w, sizeof w);
    w[5] = 3.5f;
    assert_int_equal(clf_model_tensor_write(m, 0, w, 24), CLF_OK);
    assert_int_equal(clf_model_tensor_read(m, 0, got, 24), CLF_OK);
    assert_memory_equal(got, w, sizeof w);

    /* sgd with momentum keeps one zeroed velocity per tensor */
    assert_int_equal(clf_model_opt_slots(m), 1);
    assert_string_equal(clf_model_opt_slot_name(m, 0), "momentum");
    assert_null(clf_model_opt_slot_name(m, 1));
    assert_int_equal(clf_model_opt_read(m, 0, 0, got, 24), CLF_OK);
    for (int i = 0; i < 24; i++)
        assert_true(got[i] == 0.0f);
    assert_int_equal(clf_model_opt_read(m, 0, 1, got, 24), CLF_ERR_ARG);
    clf_model_free(m);
}

/* A frozen tensor has no optimizer state to save or load. */
static void test_frozen_has_no_state(void **state)
{
    clf_layer_desc l[2];
    clf_graph_desc g = {l, 2, 1, "frozen"};
    clf_optimizer opt;
    clf_model *m;
    float v[6];

    clf_layer_desc_init(&l[0], CLF_LAYER_INPUT, "in");
    l[0].input_rank = 1, l[0].input_shape[0] = 2;
    clf_layer_desc_init(&l[1], CLF_LAYER_DENSE, "dense");
    l[1].n_inputs = 1, l[1].units = 2, l[1].trainable = false;
    l[1].activation = CLF_ACTIVATION_SOFTMAX;
    assert_int_equal(clf_model_from_desc(&g, 1, &m), CLF_OK);
    clf_optimizer_default(&opt, CLF_OPT_ADAM);
    assert_int_equal(clf_model_compile(m, *state, &opt, CLF_PREPROCESS_UNIT, 1), CLF_OK);
    assert_int_equal(clf_model_param_count(m, true), 0);
    assert_int_equal(clf_model_opt_read(m, 0, 0, v, 4), CLF_ERR_ARG);
    assert_int_equal(clf_model_tensor_read(m, 0, v, 4), CLF_OK);
    clf_model_free(m);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_glorot_statistics),
        cmocka_unit_test(test_glorot_per_layer_limit),
        cmocka_unit_test(test_init_is_deterministic),
        cmocka_unit_test(test_names_and_shapes),
        cmocka_unit_test(test_values_in_and_out),
        cmocka_unit_test(test_frozen_has_no_state),
    };

    return CLF_TEST_ON_BACKENDS(tests);
}
