/* A loss that becomes NaN or infinite stops fit() with CLF_ERR_NUMERIC and
 * an error naming the epoch and the step, on every backend; a loader the
 * compiled model cannot take stops it before the first step.
 *
 * The Dense kernel is overwritten from fit()'s own callbacks at a known
 * point, so the epoch and step where the loss goes bad are known by
 * construction: weights written after epoch 1 act at epoch 2, step 1;
 * written after step 2 of epoch 1, at epoch 1, step 3. The weights are
 * finite (tensor_write refuses NaN) but huge, so the logits overflow:
 *   column 0 = +1e38, column 1 = -1e38: z0 = +inf, z1 = -inf; the stable
 *     log-softmax subtracts max = +inf from z0: inf - inf = NaN.
 *   column 0 = 0, column 1 = -1e38: z = (0, -inf); an image of class 1
 *     has loss lse - z1 = 0 - (-inf) = +inf.
 * (Each image has 48 values of at least 40/255, so 48 * 0.15 * 1e38 is
 * beyond FLT_MAX = 3.4e38.) */
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "clfit/data.h"
#include "clfit/fit.h"
#include "clfit/model.h"
#include "support/backends.h"
#include "support/logcap.h"

/* 4 x 4 RGB images, 2 classes alternating; 24 images in batches of 4, in
 * order: 6 steps an epoch. */
enum { S = 4, PIX = S * S * 3, N = 24, BATCH = 4 };

typedef struct run {
    clf_backend *be;
    clf_dataset *ds;
    clf_loader *train;
    clf_model *model;
    size_t kernel;               /* index of the Dense kernel */
    float col[2];                /* values written into kernel columns */
    int at_epoch;                /* poison after this epoch ends (0-based) */
    size_t at_step;              /* or after this step of epoch 0 (1-based) */
} run;

static void open_run(run *r, const char *device)
{
    uint8_t px[N * PIX];
    int32_t labels[N];
    size_t idx[N];
    clf_optimizer opt;

    for (int i = 0; i < N; i++) {
        labels[i] = i % 2;
        idx[i] = (size_t)i;
        memset(px + (size_t)i * PIX, labels[i] ? 200 : 40, PIX);
    }
    r->be = clf_test_backend(device);
    assert_int_equal(clf_dataset_from_memory(px, labels, N, S, S, 2, &r->ds), CLF_OK);
    assert_int_equal(clf_loader_create(r->ds, idx, N, BATCH, false, 1, &r->train), CLF_OK);
    assert_int_equal(clf_model_create("linear", S, S, 2, 1, &r->model), CLF_OK);
    clf_optimizer_default(&opt, CLF_OPT_SGD);
    assert_int_equal(clf_model_compile(r->model, r->be, &opt, CLF_PREPROCESS_UNIT, BATCH),
                     CLF_OK);
    assert_int_equal(clf_model_tensor_find(r->model, "dense/kernel", &r->kernel), CLF_OK);
}

static void close_run(run *r)
{
    clf_model_free(r->model);
    clf_loader_free(r->train);
    clf_dataset_free(r->ds);
    clf_backend_close(r->be);
}

/* Sets kernel column c (the weights into class c) to r->col[c]; the
 * kernel is (inputs, units) row-major. */
static void poison(run *r)
{
    float w[PIX * 2];

    for (size_t i = 0; i < PIX * 2; i++)
        w[i] = r->col[i % 2];
    assert_int_equal(clf_model_tensor_write(r->model, r->kernel, w, PIX * 2), CLF_OK);
}

static void on_step(void *user, int epoch, size_t step, size_t steps,
                    const clf_metrics *running, double seconds)
{
    run *r = user;

    (void)steps, (void)running, (void)seconds;
    if (epoch == 0 && step == r->at_step)
        poison(r);
}

static void count_step(void *user, int epoch, size_t step, size_t steps,
                       const clf_metrics *running, double seconds)
{
    (void)epoch, (void)step, (void)steps, (void)running, (void)seconds;
    (*(int *)user)++;
}

static clf_status on_epoch_end(void *user, const clf_epoch_logs *logs)
{
    run *r = user;

    if (logs->epoch == r->at_epoch)
        poison(r);
    return CLF_OK;
}

/* Trains 3 epochs; the damage must stop it at epoch `ep`, step `st`
 * (1-based, as the message counts), with *pos at the last good batch. */
static void expect_stop(const char *device, float col0, float col1, int at_epoch,
                        size_t at_step, const char *kind, int ep, size_t st)
{
    run r = {.col = {col0, col1}, .at_epoch = at_epoch, .at_step = at_step};
    clf_fit_callbacks cb = {.user = &r, .on_step = on_step, .on_epoch_end = on_epoch_end};
    clf_fit_position pos = {0};
    char where[64];

    open_run(&r, device);
    snprintf(where, sizeof where, "at epoch %d, step %zu", ep, st);
    logcap_begin();
    assert_int_equal(clf_fit(r.model, r.train, NULL, 3, &pos, &cb), CLF_ERR_NUMERIC);
    if (!LOGCAP_HAS(kind, where, "training stopped", "--learning-rate"))
        fail_msg("%s: log does not say '%s' '%s':\n%s", device, kind, where, logcap_text());
    logcap_end();

    /* the batch that went bad is not counted as done */
    assert_int_equal(pos.epoch, ep - 1);
    assert_int_equal(pos.step, st - 1);
    close_run(&r);
}

static void nan_after_epoch(const char *device)
{
    expect_stop(device, 1e38f, -1e38f, 0, 0, "the loss became NaN", 2, 1);
}

static void nan_mid_epoch(const char *device)
{
    expect_stop(device, 1e38f, -1e38f, -1, 2, "the loss became NaN", 1, 3);
}

/* The loader does not shuffle and labels alternate, so every batch holds
 * images of class 1. */
static void inf_after_epoch(const char *device)
{
    expect_stop(device, 0.0f, -1e38f, 0, 0, "the loss became infinite", 2, 1);
}

/* A validation loader with batches larger than compile's batch size is
 * refused before the first step (no step taken, nothing counted), naming
 * both sizes; it used to fail only at the first validation, an epoch in. */
static void cpu_val_batch_too_big(void **state)
{
    run r = {.at_epoch = -1};
    clf_fit_position pos = {0};
    clf_loader *val;
    size_t idx[N];
    int steps = 0;
    clf_fit_callbacks cb = {.user = &steps, .on_step = count_step};

    (void)state;
    open_run(&r, "cpu");
    for (int i = 0; i < N; i++)
        idx[i] = (size_t)i;
    assert_int_equal(clf_loader_create(r.ds, idx, N, 2 * BATCH, false, 1, &val), CLF_OK);
    logcap_begin();
    assert_int_equal(clf_fit(r.model, r.train, val, 1, &pos, &cb), CLF_ERR_ARG);
    if (!LOGCAP_HAS("validation loader gives batches of 8 images", "at most 4"))
        fail_msg("log does not name the sizes:\n%s", logcap_text());
    logcap_end();
    assert_int_equal(steps, 0);
    assert_int_equal(pos.epoch, 0);
    assert_int_equal(pos.step, 0);
    clf_loader_free(val);
    close_run(&r);
}

static void cpu_nan_after_epoch(void **state) { (void)state; nan_after_epoch("cpu"); }
static void cpu_nan_mid_epoch(void **state) { (void)state; nan_mid_epoch("cpu"); }
static void cpu_inf(void **state) { (void)state; inf_after_epoch("cpu"); }
static void ocl_nan_after_epoch(void **state) { (void)state; nan_after_epoch("opencl"); }
static void ocl_nan_mid_epoch(void **state) { (void)state; nan_mid_epoch("opencl"); }
static void ocl_inf(void **state) { (void)state; inf_after_epoch("opencl"); }

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(cpu_nan_after_epoch), cmocka_unit_test(cpu_nan_mid_epoch),
        cmocka_unit_test(cpu_inf),             cmocka_unit_test(ocl_nan_after_epoch),
        cmocka_unit_test(ocl_nan_mid_epoch),   cmocka_unit_test(ocl_inf),
        cmocka_unit_test(cpu_val_batch_too_big),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
