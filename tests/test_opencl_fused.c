/* The fused dense_update op (a Dense layer's weight and bias gradients
 * with the optimizer step, gradients never stored) on OpenCL against the
 * cpu backend, over the kernel's paths: 16-row blocks in spans of 8 with
 * leftover rows (units <= 16), the column-block path (units > 16), the
 * bias, adam, plain sgd (no slots at all), momentum and Nesterov, a
 * leading dimension wider than the row and offsets.
 *
 * Both backends sum each gradient over the batch in order with a separate
 * multiply and add and then do the same update arithmetic, so they agree
 * to 1e-6 relative (usually bit for bit).
 *
 * A model-level case checks that a training step, which fuses the update
 * into backward, gives the weights that backward followed by the separate
 * update gives (mlp:8: the second Dense must compute dX from the weights
 * before their update). */
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "backend/backend.h"
#include "model/model_internal.h"
#include "support/backends.h"

typedef struct upd_case {
    int rows, in, units, pad;
    size_t x_off, dy_off;
    bool bias;
    clf_opt_step opt;
} upd_case;

static void compare(clf_twin *tw, const clf_tbuf *b, size_t n, const char *what)
{
    float *out[2];

    clf_tbuf_read(tw, b, 0, n, out);
    clf_test_close(out[1], out[0], NULL, n, 1e-6, what);
    free(out[0]);
    free(out[1]);
}

/* Parameter values and their two slots on both backends; v (slot 1) is
 * kept non-negative as Adam's second moment is. */
typedef struct param3 {
    clf_tbuf t[3];
} param3;

static param3 param_rand(clf_twin *tw, clf_rng *r, size_t n)
{
    param3 p;

    p.t[0] = clf_tbuf_rand(tw, r, n, -1.0f, 1.0f);
    p.t[1] = clf_tbuf_rand(tw, r, n, -1e-2f, 1e-2f);
    p.t[2] = clf_tbuf_rand(tw, r, n, 0.0f, 1e-3f);
    return p;
}

static void param_check_free(clf_twin *tw, param3 *p, size_t n, const char *what)
{
    static const char *const part[3] = {"value", "slot 0", "slot 1"};
    char text[96];

    for (int i = 0; i < 3; i++) {
        snprintf(text, sizeof text, "dense_update %s %s", what, part[i]);
        compare(tw, &p->t[i], n, text);
        clf_tbuf_free(tw, &p->t[i]);
    }
}

/* Runs two steps of one case on both backends and compares everything. */
static void check(clf_twin *tw, const upd_case *c, uint64_t seed)
{
    int ldx = c->in + c->pad;
    size_t nw = (size_t)c->in * c->units;
    bool s0 = c->opt.adam || c->opt.momentum != 0.0f;
    clf_rng r;
    clf_tbuf x, dy;
    param3 w, b;

    clf_rng_seed(&r, seed);
    x = clf_tbuf_rand(tw, &r, c->x_off + (size_t)c->rows * ldx, -1.0f, 1.0f);
    dy = clf_tbuf_rand(tw, &r, c->dy_off + (size_t)c->rows * c->units, -0.5f, 0.5f);
    w = param_rand(tw, &r, nw);
    b = param_rand(tw, &r, (size_t)c->units);
    for (int step = 0; step < 2; step++)
        for (int s = 0; s < 2; s++) {
            clf_buf *ws[2] = {s0 ? w.t[1].on[s] : NULL, c->opt.adam ? w.t[2].on[s] : NULL};
            clf_buf *bs[2] = {s0 ? b.t[1].on[s] : NULL, c->opt.adam ? b.t[2].on[s] : NULL};

            assert_int_equal(CLF_TWIN_OP(tw, s, dense_update, c->rows, c->in, c->units,
                                         x.on[s], c->x_off, ldx, dy.on[s], c->dy_off,
                                         &c->opt, w.t[0].on[s], ws,
                                         c->bias ? b.t[0].on[s] : NULL, bs),
                             CLF_OK);
        }
    param_check_free(tw, &w, nw, "weights");
    param_check_free(tw, &b, (size_t)c->units, "bias");
    clf_tbuf_free(tw, &x);
    clf_tbuf_free(tw, &dy);
}

static const clf_opt_step adam = {true, 1e-3f, 0.9f, 0.999f, 1e-7f, 0.0f, false};

/* in = 300: 18 blocks of 16 rows (spans of 8, 8 and 2), 12 leftover rows;
 * 10 and 4 units as the seed model; one batch row; 33 batch rows. */
static void test_adam_blocks(void **state)
{
    const upd_case cases[] = {
        {12, 300, 10, 3, 5, 2, true, adam},
        {12, 300, 4, 0, 0, 0, true, adam},
        {1, 37, 16, 1, 1, 1, false, adam},
        {33, 130, 7, 0, 3, 0, true, adam},
    };
    clf_twin tw;

    (void)state;
    clf_twin_open(&tw);
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++)
        check(&tw, &cases[i], 100 + i);
    clf_twin_close(&tw);
}

/* More than 16 units: blocks of 16 columns and a partial one. */
static void test_adam_wide(void **state)
{
    const upd_case wide = {5, 50, 40, 2, 1, 3, true, adam};
    const upd_case exact = {3, 20, 32, 0, 0, 0, false, adam};
    clf_twin tw;

    (void)state;
    clf_twin_open(&tw);
    check(&tw, &wide, 200);
    check(&tw, &exact, 201);
    clf_twin_close(&tw);
}

/* Plain SGD passes no slots (the op must not touch them), then momentum
 * and Nesterov. */
static void test_sgd(void **state)
{
    const clf_opt_step plain = {false, 0.01f, 0, 0, 0, 0.0f, false};
    const clf_opt_step mom = {false, 0.01f, 0, 0, 0, 0.9f, false};
    const clf_opt_step nest = {false, 0.01f, 0, 0, 0, 0.9f, true};
    const upd_case cases[] = {
        {12, 100, 10, 1, 2, 3, true, plain},
        {12, 100, 10, 0, 0, 0, true, mom},
        {4, 70, 20, 0, 0, 0, true, nest},
    };
    clf_twin tw;

    (void)state;
    clf_twin_open(&tw);
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++)
        check(&tw, &cases[i], 300 + i);
    clf_twin_close(&tw);
}

/* Weights of a model after `steps` steps on fixed random batches, either
 * through clf_model_train_batch (fused) or through forward, loss,
 * backward, update one by one (unfused). */
static float *train_weights(clf_backend *be, bool fused, int steps, size_t *count)
{
    enum { H = 4, W = 5, K = 3, B = 6 };
    uint8_t img[B * H * W * 3];
    int32_t labels[B];
    clf_optimizer opt;
    clf_model *m;
    clf_rng r;
    size_t total = 0, at = 0;
    float *out;

    assert_int_equal(clf_model_create("mlp:8", H, W, K, 3, &m), CLF_OK);
    clf_optimizer_default(&opt, CLF_OPT_ADAM);
    opt.learning_rate = 0.05f;
    assert_int_equal(clf_model_compile(m, be, &opt, CLF_PREPROCESS_UNIT, B), CLF_OK);
    clf_rng_seed(&r, 9);
    for (int s = 0; s < steps; s++) {
        for (size_t i = 0; i < sizeof img; i++)
            img[i] = (uint8_t)clf_rng_below(&r, 256);
        for (int i = 0; i < B; i++)
            labels[i] = (int32_t)clf_rng_below(&r, K);
        if (fused) {
            assert_int_equal(clf_model_train_batch(m, img, labels, B), CLF_OK);
            continue;
        }
        assert_int_equal(clf_model_load_images(m, img, B), CLF_OK);
        assert_int_equal(clf_model_load_labels(m, labels, B), CLF_OK);
        assert_int_equal(clf_model_forward(m, B, true), CLF_OK);
        assert_int_equal(clf_model_loss(m, B, true), CLF_OK);
        assert_int_equal(clf_model_backward(m, B), CLF_OK);
        assert_int_equal(clf_model_update(m), CLF_OK);
    }
    for (size_t t = 0; t < clf_model_tensor_count(m); t++) {
        clf_tensor_info ti;

        assert_int_equal(clf_model_tensor_info(m, t, &ti), CLF_OK);
        total += ti.count;
    }
    out = malloc(total * sizeof *out);
    assert_non_null(out);
    for (size_t t = 0; t < clf_model_tensor_count(m); t++) {
        clf_tensor_info ti;

        assert_int_equal(clf_model_tensor_info(m, t, &ti), CLF_OK);
        assert_int_equal(clf_model_tensor_read(m, t, out + at, ti.count), CLF_OK);
        at += ti.count;
    }
    assert_int_equal(clf_model_step(m), (uint64_t)steps);
    clf_model_free(m);
    *count = total;
    return out;
}

static void fused_matches_unfused(const char *spec)
{
    clf_backend *be = clf_test_backend(spec);
    size_t n1, n2;
    float *a = train_weights(be, true, 3, &n1);
    float *b = train_weights(be, false, 3, &n2);

    assert_int_equal(n1, n2);
    clf_test_close(a, b, NULL, n1, 1e-6, "fused training step");
    free(a);
    free(b);
    clf_backend_close(be);
}

static void test_model_step_cpu(void **state)
{
    (void)state;
    fused_matches_unfused("cpu");
}

static void test_model_step_opencl(void **state)
{
    (void)state;
    fused_matches_unfused("opencl");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_adam_blocks),
        cmocka_unit_test(test_adam_wide),
        cmocka_unit_test(test_sgd),
        cmocka_unit_test(test_model_step_cpu),
        cmocka_unit_test(test_model_step_opencl),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
