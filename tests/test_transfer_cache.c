/* Feature caching: training a head from cached base features gives the
 * same model as training from images, bit for bit.
 *
 * The problem: the frozen net of support/convnet.h (11x11x3 images, a
 * trainable Dense(3) head), 10 images with random labels, batches of 4
 * (the last one 2), Adam, 2 epochs, each epoch a shuffled training pass
 * and then a validation pass over the same images, as fit() runs them.
 * The cached run goes through clf_feature_cache_train / test; the other
 * has caching off, which is plain train_batch / test_batch. Then the same
 * through fit() and evaluate() on loaders, as the CLI runs them.
 *
 * Why bit-exact (and on the cpu backend exactly so): a row's features
 * depend only on that image, computed by the same ops in the same order
 * whatever else is in the batch (the cpu convolutions accumulate each
 * output over the kernel in a fixed order, independent of the batch),
 * and the head then reads the very floats either way, copied to the host
 * and back unchanged. So the weights, the optimizer state and the
 * metrics must be identical, and the base must run on each image once.
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

#include "clfit/data.h"
#include "clfit/fit.h"
#include "core/rng.h"
#include "support/backends.h"
#include "support/convnet.h"
#include "support/logcap.h"

enum { S = 11, K = 3, N = 10, BATCH = 4, PX = S * S * 3 };

typedef struct run {
    clf_model *m;
    clf_metrics train[2], val[2];
} run;

static void epoch(run *r, int e, const uint8_t *img, const int32_t *labels, bool cached)
{
    size_t order[N];
    uint8_t bx[BATCH * PX];
    int32_t by[BATCH];
    clf_rng rng;

    for (size_t i = 0; i < N; i++)
        order[i] = i;
    clf_rng_seed(&rng, 100 + (uint64_t)e);
    clf_rng_shuffle(&rng, order, N);
    assert_int_equal(clf_model_reset_metrics(r->m), CLF_OK);
    for (int at = 0; at < N; at += BATCH) {
        int n = N - at < BATCH ? N - at : BATCH;

        for (int i = 0; i < n; i++) {
            memcpy(bx + (size_t)i * PX, img + order[at + i] * PX, PX);
            by[i] = labels[order[at + i]];
        }
        assert_int_equal(cached ? clf_feature_cache_train(r->m, bx, by, n)
                                : clf_model_train_batch(r->m, bx, by, n),
                         CLF_OK);
    }
    assert_int_equal(clf_model_metrics(r->m, &r->train[e]), CLF_OK);

    assert_int_equal(clf_model_reset_metrics(r->m), CLF_OK);
    for (int at = 0; at < N; at += BATCH) {
        int n = N - at < BATCH ? N - at : BATCH;

        assert_int_equal(cached ? clf_feature_cache_test(r->m, img + (size_t)at * PX,
                                                         labels + at, n)
                                : clf_model_test_batch(r->m, img + (size_t)at * PX,
                                                       labels + at, n),
                         CLF_OK);
    }
    assert_int_equal(clf_model_metrics(r->m, &r->val[e]), CLF_OK);
}

/* Two epochs; `limit` is the cache limit in bytes (0: no caching). With
 * `change`, the base's first kernel is rewritten between the epochs. */
static run train(clf_backend *be, size_t limit, size_t planned, bool change)
{
    uint8_t *img = convnet_images(S, N, 31);
    int32_t labels[N];
    clf_optimizer opt;
    convnet t;
    run r;

    for (int i = 0; i < N; i++)
        labels[i] = (int32_t)((i * 7) % K);
    convnet_init(&t, S, K);
    r.m = convnet_model(&t, 5);
    clf_optimizer_default(&opt, CLF_OPT_ADAM);
    assert_int_equal(clf_model_compile(r.m, be, &opt, CLF_PREPROCESS_UNIT, BATCH), CLF_OK);
    clf_fit_set_cache_limit(r.m, limit);
    assert_int_equal(clf_feature_cache_plan(r.m, planned), CLF_OK);
    epoch(&r, 0, img, labels, limit > 0);
    if (change) {
        float w[3 * 3 * 3 * 8];
        size_t k;

        assert_int_equal(clf_model_tensor_find(r.m, "conv/kernel", &k), CLF_OK);
        assert_int_equal(clf_model_tensor_read(r.m, k, w, 216), CLF_OK);
        for (int i = 0; i < 216; i++)
            w[i] *= -0.5f;
        assert_int_equal(clf_model_tensor_write(r.m, k, w, 216), CLF_OK);
    }
    epoch(&r, 1, img, labels, limit > 0);
    free(img);
    return r;
}

/* Every tensor, the Adam state and the metrics are the same. */
static void same_model(run *a, run *b)
{
    for (size_t k = 0; k < clf_model_tensor_count(a->m); k++) {
        clf_tensor_info info;
        float *x, *y;

        assert_int_equal(clf_model_tensor_info(a->m, k, &info), CLF_OK);
        x = malloc(info.count * sizeof *x);
        y = malloc(info.count * sizeof *y);
        assert_int_equal(clf_model_tensor_read(a->m, k, x, info.count), CLF_OK);
        assert_int_equal(clf_model_tensor_read(b->m, k, y, info.count), CLF_OK);
        assert_memory_equal(x, y, info.count * sizeof *x);
        for (int s = 0; info.trainable && s < clf_model_opt_slots(a->m); s++) {
            assert_int_equal(clf_model_opt_read(a->m, k, s, x, info.count), CLF_OK);
            assert_int_equal(clf_model_opt_read(b->m, k, s, y, info.count), CLF_OK);
            assert_memory_equal(x, y, info.count * sizeof *x);
        }
        free(x);
        free(y);
    }
    assert_memory_equal(a->train, b->train, sizeof a->train);
    assert_memory_equal(a->val, b->val, sizeof a->val);
    assert_int_equal(clf_model_step(a->m), clf_model_step(b->m));
}

static void test_cached_equals_uncached(void **state)
{
    clf_backend *be = clf_test_backend(*state);
    run plain = train(be, 0, N, false), cached = train(be, SIZE_MAX, N, false);

    same_model(&cached, &plain);
    /* 2 epochs of 10 training and 10 validation images */
    assert_int_equal(plain.m->base_images, 40);
    assert_int_equal(cached.m->base_images, 10);
    assert_int_equal(clf_feature_cache_rows(cached.m), 10);
    clf_model_free(plain.m);
    clf_model_free(cached.m);
    clf_backend_close(be);
}

/* New base weights after compile: the cache starts over and the folded
 * kernels are derived again, so both runs still agree. */
static void test_base_change_invalidates(void **state)
{
    clf_backend *be = clf_test_backend(*state);
    run plain = train(be, 0, N, true), cached = train(be, SIZE_MAX, N, true);

    same_model(&cached, &plain);
    assert_int_equal(cached.m->base_images, 20);
    clf_model_free(plain.m);
    clf_model_free(cached.m);
    clf_backend_close(be);
}

/* Limits: a first fit that would not fit is not cached at all (one
 * notice); a cache that fills up later keeps what it has and says so.
 * Either way the results are those of the uncached run. 72 features per
 * image: 288 bytes plus 32 of bookkeeping per row. */
static void test_limits(void **state)
{
    clf_backend *be = clf_test_backend("cpu");
    run plain, off, part;

    (void)state;
    plain = train(be, 0, N, false);
    logcap_begin();
    off = train(be, 5 * 320, N, false);
    assert_true(LOGCAP_HAS("not caching the frozen base's output", "10 images"));
    logcap_end();
    same_model(&off, &plain);
    assert_int_equal(off.m->base_images, 40);

    logcap_begin();
    part = train(be, 5 * 320, 5, false);
    assert_true(LOGCAP_HAS("feature cache full at 5 images"));
    logcap_end();
    same_model(&part, &plain);
    assert_int_equal(clf_feature_cache_rows(part.m), 5);
    clf_model_free(plain.m);
    clf_model_free(off.m);
    clf_model_free(part.m);
    clf_backend_close(be);
}

/* The model-level entry points: features out, then a step from them,
 * equal a step from the images. */
static void test_feature_steps(void **state)
{
    clf_backend *be = clf_test_backend(*state);
    uint8_t *img = convnet_images(S, BATCH, 41);
    int32_t labels[BATCH] = {0, 1, 2, 1};
    clf_optimizer opt;
    clf_model *a, *b;
    convnet t;
    float *f;
    run ra, rb;

    convnet_init(&t, S, K);
    a = convnet_model(&t, 5);
    b = convnet_model(&t, 5);
    clf_optimizer_default(&opt, CLF_OPT_ADAM);
    assert_int_equal(clf_model_compile(a, be, &opt, CLF_PREPROCESS_UNIT, BATCH), CLF_OK);
    assert_int_equal(clf_model_compile(b, be, &opt, CLF_PREPROCESS_UNIT, BATCH), CLF_OK);
    f = malloc(BATCH * clf_model_feature_size(a) * sizeof *f);
    assert_int_equal(clf_model_extract_features(a, img, BATCH, f), CLF_OK);
    assert_int_equal(clf_model_train_features(a, f, labels, BATCH), CLF_OK);
    assert_int_equal(clf_model_train_batch(b, img, labels, BATCH), CLF_OK);
    assert_int_equal(clf_model_test_features(a, f, labels, BATCH), CLF_OK);
    assert_int_equal(clf_model_test_batch(b, img, labels, BATCH), CLF_OK);
    ra.m = a, rb.m = b;
    assert_int_equal(clf_model_metrics(a, &ra.train[0]), CLF_OK);
    assert_int_equal(clf_model_metrics(b, &rb.train[0]), CLF_OK);
    memset(ra.train + 1, 0, sizeof ra.train[1]), memset(rb.train + 1, 0, sizeof rb.train[1]);
    memset(ra.val, 0, sizeof ra.val), memset(rb.val, 0, sizeof rb.val);
    same_model(&ra, &rb);
    assert_int_equal(ra.train[0].count, 2 * BATCH);

    clf_model_free(a);
    clf_model_free(b);

    /* a model without a frozen base has no features to extract */
    assert_int_equal(clf_model_create("linear", S, S, K, 1, &a), CLF_OK);
    assert_int_equal(clf_model_compile(a, be, &opt, CLF_PREPROCESS_UNIT, BATCH), CLF_OK);
    assert_int_equal(clf_model_feature_size(a), 0);
    logcap_begin();
    assert_int_equal(clf_model_extract_features(a, img, BATCH, f), CLF_ERR_ARG);
    assert_true(LOGCAP_HAS("no frozen base"));
    logcap_end();
    clf_model_free(a);
    free(f);
    free(img);
    clf_backend_close(be);
}

/* ---- through fit() and evaluate(), as the CLI runs them ---- */

static clf_model *fit_run(clf_backend *be, size_t limit, const clf_dataset *ds,
                          clf_metrics *test)
{
    size_t train_idx[7] = {0, 1, 2, 3, 4, 5, 6}, val_idx[3] = {7, 8, 9};
    clf_loader *train, *val;
    clf_fit_position pos = {0};
    clf_optimizer opt;
    convnet t;
    clf_model *m;

    convnet_init(&t, S, K);
    m = convnet_model(&t, 5);
    clf_optimizer_default(&opt, CLF_OPT_ADAM);
    assert_int_equal(clf_model_compile(m, be, &opt, CLF_PREPROCESS_UNIT, BATCH), CLF_OK);
    clf_fit_set_cache_limit(m, limit);
    assert_int_equal(clf_loader_create(ds, train_idx, 7, BATCH, true, 20, &train), CLF_OK);
    assert_int_equal(clf_loader_create(ds, val_idx, 3, BATCH, false, 20, &val), CLF_OK);
    /* one epoch per call, as the CLI calls it */
    assert_int_equal(clf_fit(m, train, val, 1, &pos, NULL), CLF_OK);
    assert_int_equal(clf_fit(m, train, val, 2, &pos, NULL), CLF_OK);
    assert_int_equal(clf_evaluate(m, val, test), CLF_OK);
    clf_loader_free(train);
    clf_loader_free(val);
    return m;
}

static void test_fit_cached_equals_uncached(void **state)
{
    clf_backend *be = clf_test_backend(*state);
    uint8_t *img = convnet_images(S, N, 51);
    int32_t labels[N];
    clf_dataset *ds;
    run a, b;

    for (int i = 0; i < N; i++)
        labels[i] = (int32_t)((i * 5 + 1) % K);
    assert_int_equal(clf_dataset_from_memory(img, labels, N, S, S, K, &ds), CLF_OK);
    memset(&a, 0, sizeof a), memset(&b, 0, sizeof b);
    a.m = fit_run(be, SIZE_MAX, ds, &a.val[0]);
    b.m = fit_run(be, 0, ds, &b.val[0]);
    same_model(&a, &b);
    /* the base ran once per image: 7 + 3 in the first epoch, then never */
    assert_int_equal(a.m->base_images, 10);
    assert_int_equal(b.m->base_images, 2 * 10 + 3);
    clf_model_free(a.m);
    clf_model_free(b.m);
    clf_dataset_free(ds);
    free(img);
    clf_backend_close(be);
}

#define ON(test, spec) {#test " on " spec, test, NULL, NULL, (void *)spec}

int main(void)
{
    const struct CMUnitTest tests[] = {
        ON(test_cached_equals_uncached, "cpu"),
        ON(test_cached_equals_uncached, "opencl"),
        ON(test_base_change_invalidates, "cpu"),
        ON(test_base_change_invalidates, "opencl"),
        cmocka_unit_test(test_limits),
        ON(test_feature_steps, "cpu"),
        ON(test_feature_steps, "opencl"),
        ON(test_fit_cached_equals_uncached, "cpu"),
        ON(test_fit_cached_equals_uncached, "opencl"),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
