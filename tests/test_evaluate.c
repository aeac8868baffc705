/* clf_evaluate_confusion on both backends: figures, matrix and the
 * progress callbacks against values worked out by hand.
 *
 * Ten 4 x 4 RGB images, each one grey level: 7 of class 0 (level 40) then
 * 3 of class 1 (level 200), evaluated in batches of 4 (4, 4, 2). With the
 * Dense kernel's column 0 zero, column 1 all 0.01 and zero biases, an
 * image of level v has logits (0, a), a = 48 * (v / 255) * 0.01 > 0, so
 * every image is given class 1 (confusion [[0, 7], [0, 3]], accuracy 0.3),
 * and the losses are log(1 + e^a) for class 0 and log(1 + e^-a) for class 1.
 * With the kernel all zero the logits tie and the first arg-max, class 0,
 * is given (confusion [[7, 0], [3, 0]], accuracy 0.7, every loss log 2). */
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "clfit/data.h"
#include "clfit/fit.h"
#include "clfit/model.h"
#include "support/backends.h"

enum { S = 4, PIX = S * S * 3, N = 10, N0 = 7, BATCH = 4 };

typedef struct run {
    clf_backend *be;
    clf_dataset *ds;
    clf_loader *ld;
    clf_model *model;
} run;

/* What the callbacks saw. */
typedef struct seen {
    int calls;
    size_t done[8], batches;
    size_t count[8];
    double loss[8];
    int stop_after;              /* set *stop after this many batches (0: never) */
    volatile sig_atomic_t stop;
} seen;

static int level(int i) { return i < N0 ? 40 : 200; }

static void open_run(run *r, const char *device, float column1)
{
    uint8_t px[N * PIX];
    int32_t labels[N];
    size_t idx[N], kernel, bias;
    float w[PIX * 2], b[2] = {0.0f, 0.0f};
    clf_optimizer opt;

    for (int i = 0; i < N; i++) {
        labels[i] = i < N0 ? 0 : 1;
        idx[i] = (size_t)i;
        memset(px + (size_t)i * PIX, level(i), PIX);
    }
    for (size_t i = 0; i < PIX * 2; i++)
        w[i] = i % 2 ? column1 : 0.0f; /* (inputs, units) row-major */
    r->be = clf_test_backend(device);
    assert_int_equal(clf_dataset_from_memory(px, labels, N, S, S, 2, &r->ds), CLF_OK);
    assert_int_equal(clf_loader_create(r->ds, idx, N, BATCH, false, 1, &r->ld), CLF_OK);
    assert_int_equal(clf_model_create("linear", S, S, 2, 1, &r->model), CLF_OK);
    clf_optimizer_default(&opt, CLF_OPT_ADAM);
    assert_int_equal(clf_model_compile(r->model, r->be, &opt, CLF_PREPROCESS_UNIT, BATCH),
                     CLF_OK);
    assert_int_equal(clf_model_tensor_find(r->model, "dense/kernel", &kernel), CLF_OK);
    assert_int_equal(clf_model_tensor_find(r->model, "dense/bias", &bias), CLF_OK);
    assert_int_equal(clf_model_tensor_write(r->model, kernel, w, PIX * 2), CLF_OK);
    assert_int_equal(clf_model_tensor_write(r->model, bias, b, 2), CLF_OK);
}

static void close_run(run *r)
{
    clf_model_free(r->model);
    clf_loader_free(r->ld);
    clf_dataset_free(r->ds);
    clf_backend_close(r->be);
}

static void on_batch(void *user, size_t done, size_t batches, const clf_metrics *running)
{
    seen *s = user;

    assert_true(s->calls < 8);
    s->done[s->calls] = done;
    s->count[s->calls] = running->count;
    s->loss[s->calls] = running->loss_sum;
    s->batches = batches;
    s->calls++;
    if (s->stop_after && s->calls == s->stop_after)
        s->stop = 1;
}

/* Image i's loss with logits (0, a(i)): log(1 + e^(a or -a)). */
static double image_loss(int i, float column1)
{
    double a = 48.0 * (level(i) / 255.0) * column1;

    return i < N0 ? log1p(exp(a)) : log1p(exp(-a));
}

static void check_figures(const char *device, float column1, const uint64_t want[4],
                          double want_acc)
{
    run r;
    seen s = {0};
    clf_eval_callbacks cb = {.user = &s, .on_batch = on_batch, .stop = &s.stop};
    clf_metrics mt;
    uint64_t confusion[4];
    double sum = 0.0;
    const size_t counts[3] = {4, 8, 10};

    open_run(&r, device, column1);
    assert_int_equal(clf_evaluate_confusion(r.model, r.ld, NULL, 0, &mt, confusion, &cb),
                     CLF_OK);
    for (int i = 0; i < 4; i++)
        assert_int_equal(confusion[i], want[i]);
    assert_int_equal(mt.count, N);
    assert_float_equal(clf_metrics_accuracy(&mt), want_acc, 1e-12);

    assert_int_equal(s.calls, 3);
    assert_int_equal(s.batches, 3);
    for (int c = 0; c < 3; c++) {
        double partial = 0.0;

        for (int i = 0; i < (int)counts[c]; i++)
            partial += image_loss(i, column1);
        assert_int_equal(s.done[c], c + 1);
        assert_int_equal(s.count[c], counts[c]);
        assert_float_equal(s.loss[c], partial, 1e-5 * partial);
    }
    for (int i = 0; i < N; i++)
        sum += image_loss(i, column1);
    assert_float_equal(mt.loss_sum, sum, 1e-5 * sum);
    close_run(&r);
}

/* Asked to stop after batch 2: CLF_ERR_INTERRUPTED, no third batch. */
static void check_stop(const char *device)
{
    run r;
    seen s = {.stop_after = 2};
    clf_eval_callbacks cb = {.user = &s, .on_batch = on_batch, .stop = &s.stop};
    clf_metrics mt;
    uint64_t confusion[4];

    open_run(&r, device, 0.01f);
    assert_int_equal(clf_evaluate_confusion(r.model, r.ld, NULL, 0, &mt, confusion, &cb),
                     CLF_ERR_INTERRUPTED);
    assert_int_equal(s.calls, 2);
    assert_int_equal(s.done[1], 2);
    close_run(&r);
}

static void run_device(const char *device)
{
    const uint64_t given1[4] = {0, N0, 0, N - N0}, given0[4] = {N0, 0, N - N0, 0};

    check_figures(device, 0.01f, given1, (double)(N - N0) / N);
    check_figures(device, 0.0f, given0, (double)N0 / N);
    check_stop(device);
}

static void cpu_evaluate(void **state) { (void)state; run_device("cpu"); }
static void ocl_evaluate(void **state) { (void)state; run_device("opencl"); }

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(cpu_evaluate),
        cmocka_unit_test(ocl_evaluate),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
