/* Whole steps through the public API: a tiny separable problem is learnt
 * to 100% training accuracy, pixels are scaled and laid out as each
 * preprocessing mode and input layout says, and bad batches are refused
 * before any op reaches the backend. */
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
#include "core/rng.h"
#include "model/model_internal.h"
#include "support/backends.h"

/* ---- a tiny separable problem ---- */

enum { S = 8, PIX = S * S * 3, K = 4, PER_CLASS = 8, NIMG = K * PER_CLASS, BATCH = 12 };

/* Class k is a bright quadrant k (about 200) on a dark ground (about 40),
 * with +-20 of noise per pixel: separable by a linear model. */
static void make_data(uint8_t *img, int32_t *labels)
{
    clf_rng r;

    clf_rng_seed(&r, 3);
    for (int i = 0; i < NIMG; i++) {
        int k = i % K;

        labels[i] = k;
        for (int y = 0; y < S; y++)
            for (int x = 0; x < S; x++) {
                int q = (y >= S / 2) * 2 + (x >= S / 2);

                for (int c = 0; c < 3; c++) {
                    int v = (q == k ? 200 : 40) + (int)clf_rng_below(&r, 41) - 20;
                    img[(size_t)i * PIX + (y * S + x) * 3 + c] = (uint8_t)v;
                }
            }
    }
}

/* One epoch in a shuffled order, batches of 12 (the last one short: 8);
 * returns the epoch's training accuracy. */
static double epoch(clf_model *m, const uint8_t *img, const int32_t *labels, clf_rng *r)
{
    size_t order[NIMG];
    uint8_t bx[BATCH * PIX];
    int32_t by[BATCH];
    clf_metrics mt;

    for (size_t i = 0; i < NIMG; i++)
        order[i] = i;
    clf_rng_shuffle(r, order, NIMG);
    assert_int_equal(clf_model_reset_metrics(m), CLF_OK);
    for (int start = 0; start < NIMG; start += BATCH) {
        int n = NIMG - start < BATCH ? NIMG - start : BATCH;

        for (int i = 0; i < n; i++) {
            memcpy(bx + (size_t)i * PIX, img + order[start + i] * PIX, PIX);
            by[i] = labels[order[start + i]];
        }
        assert_int_equal(clf_model_train_batch(m, bx, by, n), CLF_OK);
    }
    assert_int_equal(clf_model_metrics(m, &mt), CLF_OK);
    assert_int_equal(mt.count, NIMG);
    assert_true(isfinite(mt.loss_sum));
    return mt.correct / (double)mt.count;
}

static void learn(clf_backend *be, const char *spec, clf_optimizer_kind kind, float lr)
{
    static uint8_t img[NIMG * PIX];
    int32_t labels[NIMG];
    float probs[NIMG * K];
    clf_optimizer opt;
    clf_metrics mt;
    clf_model *m;
    clf_rng r;
    double acc = 0;
    int e;

    make_data(img, labels);
    assert_int_equal(clf_model_create(spec, S, S, K, 20, &m), CLF_OK);
    clf_optimizer_default(&opt, kind);
    opt.learning_rate = lr;
    assert_int_equal(clf_model_compile(m, be, &opt, CLF_PREPROCESS_UNIT, BATCH), CLF_OK);
    clf_rng_seed(&r, 4);
    for (e = 0; e < 15 && acc < 1.0; e++)
        acc = epoch(m, img, labels, &r);
    if (acc < 1.0)
        fail_msg("%s: training accuracy %.3f after %d epochs", spec, acc, e);
    print_message("%s: 100%% training accuracy after %d epochs\n", spec, e);

    /* evaluation agrees, and predict's rows are distributions whose
     * arg-max is the label */
    assert_int_equal(clf_model_reset_metrics(m), CLF_OK);
    for (int start = 0; start < NIMG; start += BATCH) {
        int n = NIMG - start < BATCH ? NIMG - start : BATCH;

        assert_int_equal(clf_model_test_batch(m, img + (size_t)start * PIX, labels + start, n),
                         CLF_OK);
        assert_int_equal(clf_model_predict_batch(m, img + (size_t)start * PIX, n,
                                                 probs + (size_t)start * K),
                         CLF_OK);
    }
    assert_int_equal(clf_model_metrics(m, &mt), CLF_OK);
    assert_true(mt.correct == NIMG && mt.count == NIMG);
    for (int i = 0; i < NIMG; i++) {
        double sum = 0;
        int best = 0;

        for (int k = 0; k < K; k++) {
            sum += probs[i * K + k];
            best = probs[i * K + k] > probs[i * K + best] ? k : best;
        }
        assert_true(fabs(sum - 1.0) < 1e-5);
        assert_int_equal(best, labels[i]);
    }
    clf_model_free(m);
}

static void test_linear_adam_learns(void **state)
{
    learn(*state, "linear", CLF_OPT_ADAM, 1e-3f);
}

static void test_mlp_adam_learns(void **state)
{
    learn(*state, "mlp:16", CLF_OPT_ADAM, 1e-3f);
}

static void test_linear_sgd_learns(void **state)
{
    learn(*state, "linear", CLF_OPT_SGD, 0.1f);
}

/* ---- pixels in: scale and layout ---- */

/* Input(3, 1, 2) channels-first, or Input(1, 2, 3), -> Flatten
 * -> Dense(2, softmax); one 1x2 image with pixels (R,G,B) = (0, 51, 255)
 * and (102, 127, 204). */
static void check_pixels(clf_backend *be, bool chw, clf_preprocess pre, const float *want)
{
    static const uint8_t img[6] = {0, 51, 255, 102, 127, 204};
    clf_layer_desc layers[3];
    clf_graph_desc g = {layers, 3, 2, "pixels"};
    clf_optimizer opt;
    clf_model *m;
    float got[6];
    int h, w;

    clf_layer_desc_init(&layers[0], CLF_LAYER_INPUT, "in");
    layers[0].input_rank = 3;
    layers[0].channels_first = chw;
    memcpy(layers[0].input_shape, chw ? (int[3]){3, 1, 2} : (int[3]){1, 2, 3}, sizeof(int[3]));
    clf_layer_desc_init(&layers[1], CLF_LAYER_FLATTEN, "flatten");
    layers[1].n_inputs = 1;
    clf_layer_desc_init(&layers[2], CLF_LAYER_DENSE, "dense");
    layers[2].n_inputs = 1, layers[2].inputs[0] = 1;
    layers[2].units = 2, layers[2].activation = CLF_ACTIVATION_SOFTMAX;
    assert_int_equal(clf_model_from_desc(&g, 1, &m), CLF_OK);
    assert_true(clf_model_input_size(m, &h, &w) && h == 1 && w == 2);
    clf_optimizer_default(&opt, CLF_OPT_ADAM);
    assert_int_equal(clf_model_compile(m, be, &opt, pre, 1), CLF_OK);
    assert_int_equal(clf_model_load_images(m, img, 1), CLF_OK);
    assert_int_equal(clf_model_read_output(m, 0, 1, got), CLF_OK);
    for (int i = 0; i < 6; i++)
        if (fabsf(got[i] - want[i]) > 1e-6f * (1 + fabsf(want[i])))
            fail_msg("%s %s: input[%d] = %.8g, want %.8g", chw ? "CHW" : "HWC",
                     clf_preprocess_name(pre), i, (double)got[i], (double)want[i]);
    clf_model_free(m);
}

static void test_preprocess_and_layout(void **state)
{
    /* CHW: R of both pixels, then G, then B: 0 102 | 51 127 | 255 204 */
    const float chw_none[6] = {0, 102, 51, 127, 255, 204};
    /* unit: v / 255 */
    const float chw_unit[6] = {0, 0.4f, 0.2f, 127 / 255.0f, 1, 0.8f};
    /* symmetric: v / 127.5 - 1 */
    const float chw_sym[6] = {-1, 102 / 127.5f - 1, 51 / 127.5f - 1, 127 / 127.5f - 1, 1,
                              204 / 127.5f - 1};
    /* HWC keeps the file's order */
    const float hwc_unit[6] = {0, 0.2f, 1, 0.4f, 127 / 255.0f, 0.8f};

    check_pixels(*state, true, CLF_PREPROCESS_NONE, chw_none);
    check_pixels(*state, true, CLF_PREPROCESS_UNIT, chw_unit);
    check_pixels(*state, true, CLF_PREPROCESS_SYMMETRIC, chw_sym);
    check_pixels(*state, false, CLF_PREPROCESS_UNIT, hwc_unit);
}

/* ---- refusals: a backend that counts the ops it is asked to run ---- */

static clf_backend_ops counting_ops;
static const clf_backend_ops *real_ops;
static int op_calls;

static clf_status count_write(clf_backend *be, clf_buf *dst, size_t off, const void *src,
                              size_t bytes)
{
    op_calls++;
    return real_ops->write(be, dst, off, src, bytes);
}

static clf_status count_u8(clf_backend *be, int n, int h, int w, int c, bool chw, float sc,
                           float sh, clf_buf *src, size_t so, clf_buf *dst, size_t dso)
{
    op_calls++;
    return real_ops->u8_to_float(be, n, h, w, c, chw, sc, sh, src, so, dst, dso);
}

static clf_status count_gemm(clf_backend *be, bool ta, bool tb, int m, int n, int k,
                             float alpha, clf_buf *a, size_t ao, int lda, clf_buf *b,
                             size_t bo, int ldb, float beta, clf_buf *c, size_t co, int ldc)
{
    op_calls++;
    return real_ops->gemm(be, ta, tb, m, n, k, alpha, a, ao, lda, b, bo, ldb, beta, c, co,
                          ldc);
}

static clf_status count_xent(clf_backend *be, int rows, int cols, clf_buf *x, size_t xo,
                             clf_buf *l, size_t lo, float gs, clf_buf *g, size_t go,
                             clf_buf *s, size_t so)
{
    op_calls++;
    return real_ops->softmax_xent(be, rows, cols, x, xo, l, lo, gs, g, go, s, so);
}

typedef struct counted {
    clf_backend wrapped;
    clf_model *m;
    float w0[K];
} counted;

static void counted_model(clf_backend *be, counted *c)
{
    clf_optimizer opt;

    real_ops = be->ops;
    counting_ops = *be->ops;
    counting_ops.write = count_write;
    counting_ops.u8_to_float = count_u8;
    counting_ops.gemm = count_gemm;
    counting_ops.softmax_xent = count_xent;
    c->wrapped = *be;
    c->wrapped.ops = &counting_ops;
    assert_int_equal(clf_model_create("linear", S, S, K, 1, &c->m), CLF_OK);
    clf_optimizer_default(&opt, CLF_OPT_ADAM);
    assert_int_equal(clf_model_compile(c->m, &c->wrapped, &opt, CLF_PREPROCESS_UNIT, 4),
                     CLF_OK);
    assert_int_equal(clf_model_tensor_read(c->m, 1, c->w0, K), CLF_OK);
    op_calls = 0;
}

/* Nothing ran and nothing changed. */
static void expect_untouched(counted *c)
{
    float w[K];
    clf_metrics mt;

    assert_int_equal(op_calls, 0);
    assert_int_equal(clf_model_step(c->m), 0);
    assert_int_equal(clf_model_tensor_read(c->m, 1, w, K), CLF_OK);
    assert_memory_equal(w, c->w0, sizeof w);
    assert_int_equal(clf_model_metrics(c->m, &mt), CLF_OK);
    assert_int_equal(mt.count, 0);
}

static char last_error[512];

static void capture(clf_log_level level, const char *msg, void *user)
{
    (void)user;
    if (level == CLF_LOG_ERROR)
        snprintf(last_error, sizeof last_error, "%s", msg);
}

static void test_bad_label_refused_before_any_op(void **state)
{
    static uint8_t img[4 * PIX];
    const int32_t labels[4] = {0, 1, 7, 2}, negative[4] = {0, -1, 1, 2};
    counted c;

    counted_model(*state, &c);
    clf_log_set_callback(capture, NULL);
    assert_int_equal(clf_model_train_batch(c.m, img, labels, 4), CLF_ERR_ARG);
    assert_non_null(strstr(last_error, "label 7 at position 2"));
    assert_int_equal(clf_model_test_batch(c.m, img, negative, 4), CLF_ERR_ARG);
    assert_non_null(strstr(last_error, "label -1 at position 1"));
    clf_log_set_callback(NULL, NULL);
    expect_untouched(&c);

    /* a label past the batch's n is not read */
    assert_int_equal(clf_model_train_batch(c.m, img, labels, 2), CLF_OK);
    assert_true(op_calls > 0);
    clf_model_free(c.m);
}

static void test_bad_batch_sizes_refused(void **state)
{
    static uint8_t img[5 * PIX];
    const int32_t labels[5] = {0, 1, 2, 3, 0};
    float probs[5 * K];
    counted c;

    counted_model(*state, &c);
    assert_int_equal(clf_model_train_batch(c.m, img, labels, 5), CLF_ERR_ARG);
    assert_int_equal(clf_model_train_batch(c.m, img, labels, 0), CLF_ERR_ARG);
    assert_int_equal(clf_model_train_batch(c.m, img, labels, -1), CLF_ERR_ARG);
    assert_int_equal(clf_model_train_batch(c.m, NULL, labels, 2), CLF_ERR_ARG);
    assert_int_equal(clf_model_train_batch(c.m, img, NULL, 2), CLF_ERR_ARG);
    assert_int_equal(clf_model_predict_batch(c.m, img, 5, probs), CLF_ERR_ARG);
    assert_int_equal(clf_model_predict_batch(c.m, img, 2, NULL), CLF_ERR_ARG);
    expect_untouched(&c);
    clf_model_free(c.m);
}

static void test_compile_misuse(void **state)
{
    clf_optimizer opt;
    clf_model *m;
    uint8_t img[PIX] = {0};
    int32_t label = 0;
    clf_metrics mt;

    clf_optimizer_default(&opt, CLF_OPT_ADAM);
    assert_int_equal(clf_model_create("linear", S, S, K, 1, &m), CLF_OK);
    assert_int_equal(clf_model_train_batch(m, img, &label, 1), CLF_ERR_ARG);
    assert_int_equal(clf_model_metrics(m, &mt), CLF_ERR_ARG);
    assert_int_equal(clf_model_opt_slots(m), 0);
    assert_int_equal(clf_model_compile(m, *state, &opt, CLF_PREPROCESS_UNIT, 0), CLF_ERR_ARG);
    assert_int_equal(clf_model_compile(m, *state, &opt, (clf_preprocess)9, 4), CLF_ERR_ARG);
    opt.learning_rate = 0;
    assert_int_equal(clf_model_compile(m, *state, &opt, CLF_PREPROCESS_UNIT, 4), CLF_ERR_ARG);
    clf_optimizer_default(&opt, CLF_OPT_ADAM);
    assert_int_equal(clf_model_compile(m, *state, &opt, CLF_PREPROCESS_UNIT, 4), CLF_OK);
    assert_int_equal(clf_model_compile(m, *state, &opt, CLF_PREPROCESS_UNIT, 4), CLF_ERR_ARG);
    assert_int_equal(clf_model_train_batch(m, img, &label, 1), CLF_OK);
    assert_int_equal(clf_model_step(m), 1);
    clf_model_free(m);
}

/* The same seed and data give bit-identical weights after a few steps. */
static void test_training_is_deterministic(void **state)
{
    static uint8_t img[NIMG * PIX];
    int32_t labels[NIMG];
    float w[2][S * S * 3 * 16];
    clf_tensor_info info;

    make_data(img, labels);
    for (int run = 0; run < 2; run++) {
        clf_optimizer opt;
        clf_model *m;

        assert_int_equal(clf_model_create("mlp:16", S, S, K, 11, &m), CLF_OK);
        clf_optimizer_default(&opt, CLF_OPT_ADAM);
        assert_int_equal(clf_model_compile(m, *state, &opt, CLF_PREPROCESS_UNIT, BATCH),
                         CLF_OK);
        for (int s = 0; s < 3; s++)
            assert_int_equal(clf_model_train_batch(m, img + (size_t)s * BATCH * PIX,
                                                   labels + s * BATCH, s < 2 ? BATCH : 8),
                             CLF_OK);
        assert_int_equal(clf_model_tensor_info(m, 0, &info), CLF_OK);
        assert_int_equal(clf_model_tensor_read(m, 0, w[run], info.count), CLF_OK);
        clf_model_free(m);
    }
    assert_memory_equal(w[0], w[1], info.count * sizeof(float));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_linear_adam_learns),
        cmocka_unit_test(test_mlp_adam_learns),
        cmocka_unit_test(test_linear_sgd_learns),
        cmocka_unit_test(test_preprocess_and_layout),
        cmocka_unit_test(test_bad_label_refused_before_any_op),
        cmocka_unit_test(test_bad_batch_sizes_refused),
        cmocka_unit_test(test_compile_misuse),
        cmocka_unit_test(test_training_is_deterministic),
    };

    return CLF_TEST_ON_BACKENDS(tests);
}
