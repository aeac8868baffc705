/* The real MobileNetV2 (nsfwjs 4.4.0) run forward by clfit on every
 * backend, against the outputs of an independent implementation:
 * @tensorflow/tfjs 4.22.0 on its float32 cpu backend, with the same
 * weights and inputs (tests/fixtures/mobilenet, made by
 * tools/ref/tfjs_reference.js; see its README).
 *
 * Checked: the features of the model cut at out_relu at 96x96 (two
 * images in one batch) and 224x224, the full model's 5-way softmax at
 * 224x224 (two images), and, as a debugging aid that points at the first
 * block that goes wrong, three intermediate activations at 96x96.
 *
 * "Relative error" is per tensor: max_i |x_i - ref_i| / max_i |ref_i|,
 * and must be at most 1e-4. Elementwise relative error is the wrong
 * measure here: a ReLU6 feature is a long sum with cancellation, and
 * TF.js's own float32 result differs from a float64 run by up to 2.1e-4
 * elementwise on small features, but by at most 5e-6 of the tensor's
 * largest magnitude (tools/ref/mobilenet_f64.py).
 *
 * Skips, saying how to fetch the model, when models/mobilenet_v2 is
 * absent. */
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "model/model_internal.h"
#include "support/backends.h"
#include "support/fixtures.h"

#define TOL 1e-4

/* The per-tensor relative error of n values against the fixture. */
static double tensor_error(const float *x, const fixture_tensor *ref)
{
    double big = 0.0, diff = 0.0;

    for (size_t i = 0; i < ref->count; i++) {
        big = fmax(big, fabs(ref->f32[i]));
        diff = fmax(diff, fabs((double)x[i] - ref->f32[i]));
    }
    return big > 0.0 ? diff / big : diff;
}

static void check_tensor(const char *backend, const float *x, const char *fixture)
{
    fixture_tensor ref;
    double err;

    assert_true(fixture_load(fixture, &ref));
    err = tensor_error(x, &ref);
    print_message("%s: %-26s relative error %.2e\n", backend, fixture, err);
    if (!(err <= TOL))
        fail_msg("%s: %s differs from the reference by %.3e of its largest value (limit "
                 "%.0e)", backend, fixture, err, TOL);
    fixture_free(&ref);
}

/* The two fixture images of size s, as one batch. */
static uint8_t *two_images(int s)
{
    char name[32];
    fixture_tensor a, b;
    size_t px = (size_t)s * s * 3;
    uint8_t *batch = malloc(2 * px);

    assert_non_null(batch);
    snprintf(name, sizeof name, "img_a_%d", s);
    assert_true(fixture_load(name, &a));
    snprintf(name, sizeof name, "img_b_%d", s);
    assert_true(fixture_load(name, &b));
    memcpy(batch, a.u8, px);
    memcpy(batch + px, b.u8, px);
    fixture_free(&a);
    fixture_free(&b);
    return batch;
}

static clf_model *compiled(clf_backend *be, const char *cut, const char *head, int s,
                           int classes, int batch, const char *const *keep)
{
    const char *path = fixture_mobilenet_json();
    clf_optimizer opt;
    clf_model *m;

    assert_int_equal(clf_model_create_with_base(path, cut, head, s, s, classes, 1, &m),
                     CLF_OK);
    for (int k = 0; keep && keep[k]; k++)
        clf_model_keep_output(m, clf_graph_find(&m->desc, keep[k]));
    clf_optimizer_default(&opt, CLF_OPT_ADAM);
    assert_int_equal(clf_model_compile(m, be, &opt, CLF_PREPROCESS_UNIT, batch), CLF_OK);
    return m;
}

static void out_relu_96(clf_backend *be, const char *name)
{
    static const char *const keep[] = {"Conv1_relu", "block_2_add", "block_16_project_BN",
                                       NULL};
    clf_model *m = compiled(be, "out_relu", "linear", 96, 4, 2, keep);
    size_t f = clf_model_feature_size(m);
    uint8_t *img = two_images(96);
    float *x = malloc(2 * f * sizeof *x), *act = malloc(48 * 48 * 32 * sizeof *act);

    assert_int_equal(f, 3 * 3 * 1280);
    assert_int_equal(clf_model_extract_features(m, img, 2, x), CLF_OK);
    check_tensor(name, x, "out_relu_a_96");
    check_tensor(name, x + f, "out_relu_b_96");

    /* the intermediates of image a (row 0) */
    for (int k = 0; keep[k]; k++) {
        char fixture[64];

        snprintf(fixture, sizeof fixture, "%s_a_96", keep[k]);
        assert_int_equal(clf_model_read_output(m, clf_graph_find(&m->desc, keep[k]), 1, act),
                         CLF_OK);
        check_tensor(name, act, fixture);
    }
    free(act);
    free(x);
    free(img);
    clf_model_free(m);
}

static void out_relu_224(clf_backend *be, const char *name)
{
    clf_model *m = compiled(be, "out_relu", "linear", 224, 4, 1, NULL);
    size_t f = clf_model_feature_size(m);
    uint8_t *img = two_images(224);
    float *x = malloc(f * sizeof *x);

    assert_int_equal(f, 7 * 7 * 1280);
    assert_int_equal(clf_model_extract_features(m, img, 1, x), CLF_OK);
    check_tensor(name, x, "out_relu_a_224");
    free(x);
    free(img);
    clf_model_free(m);
}

/* The whole model, its own head included (no cut, no new head). */
static void full_224(clf_backend *be, const char *name)
{
    clf_model *m = compiled(be, NULL, NULL, 224, 5, 2, NULL);
    uint8_t *img = two_images(224);
    float probs[10];

    assert_int_equal(clf_model_predict_batch(m, img, 2, probs), CLF_OK);
    check_tensor(name, probs, "full_a_224");
    check_tensor(name, probs + 5, "full_b_224");
    free(img);
    clf_model_free(m);
}

/* The test's state names the backend ("cpu", "opencl"). */
static void on_backend(void **state, void (*body)(clf_backend *, const char *))
{
    clf_backend *be;

    if (!fixture_mobilenet_json()) {
        print_message("%s\n", FIXTURE_FETCH_HINT);
        skip();
    }
    be = clf_test_backend(*state);
    body(be, clf_backend_kind(be));
    clf_backend_close(be);
}

static void test_out_relu_96(void **state)
{
    on_backend(state, out_relu_96);
}

static void test_out_relu_224(void **state)
{
    on_backend(state, out_relu_224);
}

static void test_full_model_224(void **state)
{
    on_backend(state, full_224);
}

#define ON(test, spec) {#test " on " spec, test, NULL, NULL, (void *)spec}

int main(void)
{
    const struct CMUnitTest tests[] = {
        ON(test_out_relu_96, "cpu"),     ON(test_out_relu_224, "cpu"),
        ON(test_full_model_224, "cpu"),  ON(test_out_relu_96, "opencl"),
        ON(test_out_relu_224, "opencl"), ON(test_full_model_224, "opencl"),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
