/* Transfer models on the real MobileNetV2 (fetched by
 * tools/fetch_mobilenet.sh; skipped with a message when absent): the base
 * cut at a layer, frozen and loaded, with a head on top; parameter
 * counts, shapes and summary; heads from Keras JSON; the errors a user
 * meets (a layer that does not exist, an image size the base cannot
 * take, a head that does not fit); memory planning at the real size.
 *
 * Expected numbers:
 *   2,257,984 frozen parameters: the base cut at out_relu, Keras's
 *     MobileNetV2(include_top=False) count (DESIGN.md), also computed from
 *     model.json by node (tests/test_mobilenet_desc.c).
 *   Head Flatten -> Dense(4) at 224: 7 * 7 * 1280 = 62,720 features,
 *     62,720 * 4 + 4 = 250,884 trainable (the tutorial's figure).
 *   At 96: 3 * 3 * 1280 = 11,520 features; mlp:16 has 11,520 * 16 + 16 +
 *     16 * 4 + 4 = 184,404 trainable.
 *   tests/fixtures/keras/functional_tf2.json (GlobalAveragePooling2D ->
 *     Dropout -> Dense(4)) on 7x7x1280: 1280 * 4 + 4 = 5,124.
 *   Conv1/kernel's first values: index.json's weight_values, as TF.js
 *     dequantised them. */
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cJSON.h>
#include <cmocka.h>

#include "backend/cpu/cpu.h"
#include "model/model_internal.h"
#include "support/backends.h"
#include "support/fixtures.h"
#include "support/logcap.h"

#define KERAS_DIR CLFIT_SOURCE_DIR "/tests/fixtures/keras"

static const char *model_path(void)
{
    const char *p = fixture_mobilenet_json();

    if (!p) {
        print_message("%s\n", FIXTURE_FETCH_HINT);
        skip();
    }
    return p;
}

static clf_model *create(const char *cut, const char *head, int s, int classes)
{
    clf_model *m = NULL;

    assert_int_equal(clf_model_create_with_base(model_path(), cut, head, s, s, classes, 20,
                                                &m),
                     CLF_OK);
    return m;
}

static void counts(const clf_model *m, size_t trainable, size_t frozen)
{
    assert_int_equal(clf_model_param_count(m, true), trainable);
    assert_int_equal(clf_model_param_count(m, false) - trainable, frozen);
}

/* The tutorial's model: base (frozen, out_relu) -> Flatten -> Dense(4). */
static void test_tutorial_model(void **state)
{
    clf_model *m = create("out_relu", "linear", 224, 4);
    const cJSON *want;
    void *index;
    char *text;
    size_t k;
    float w[8];
    int h, wd;

    (void)state;
    counts(m, 250884, 2257984);
    assert_true(clf_model_input_size(m, &h, &wd));
    assert_int_equal(h, 224);
    assert_int_equal(wd, 224);
    assert_false(m->input_chw); /* TF.js models take NHWC images */
    /* every base tensor is frozen, the head's two are not */
    for (k = 0; k < clf_model_tensor_count(m); k++) {
        clf_tensor_info info;

        assert_int_equal(clf_model_tensor_info(m, k, &info), CLF_OK);
        assert_int_equal(info.trainable, k + 2 >= clf_model_tensor_count(m));
    }
    /* the pretrained values are in, by their Keras names */
    index = fixture_index();
    assert_non_null(index);
    want = cJSON_GetObjectItem(cJSON_GetObjectItem(cJSON_GetObjectItem(index, "weight_values"),
                                                   "Conv1/kernel"), "first");
    assert_int_equal(clf_model_tensor_find(m, "Conv1/kernel", &k), CLF_OK);
    {
        float all[864];

        assert_int_equal(clf_model_tensor_read(m, k, all, 864), CLF_OK);
        memcpy(w, all, sizeof w);
    }
    for (int i = 0; i < 8; i++)
        assert_true(w[i] == (float)cJSON_GetArrayItem(want, i)->valuedouble);
    fixture_index_free(index);

    assert_int_equal(clf_model_summary(m, &text), CLF_OK);
    print_message("%s", text);
    assert_non_null(strstr(text, "model_1 (Functional)"));
    assert_non_null(strstr(text, "(None, 7, 7, 1280)"));
    assert_non_null(strstr(text, "(None, 62720)"));
    assert_non_null(strstr(text, "Trainable params: 250,884"));
    assert_non_null(strstr(text, "Non-trainable params: 2,257,984"));
    free(text);
    clf_model_free(m);
}

static void test_mlp_head_at_96(void **state)
{
    clf_model *m = create("out_relu", "mlp:16", 96, 4);

    (void)state;
    counts(m, 184404, 2257984);
    assert_int_equal(m->layers[m->base_end - 1].shape.dim[0], 3);
    clf_model_free(m);
}

/* Heads written as Keras configs: a Sequential without an input shape at
 * 96, a functional one whose Input(7, 7, 1280) fits the base at 224 (and
 * is refused at 96, naming both ends), a head with the wrong class count. */
static void test_json_heads(void **state)
{
    clf_model *m = NULL;
    clf_backend *be;
    clf_optimizer opt;
    fixture_tensor img;

    (void)state;
    m = create("out_relu", KERAS_DIR "/head_flatten_tf2.json", 96, 4);
    counts(m, 46084, 2257984);
    assert_true(clf_graph_find(&m->desc, "dense_2") > m->base_end);
    clf_model_free(m);

    m = create("out_relu", KERAS_DIR "/functional_tf2.json", 224, 4);
    counts(m, 5124, 2257984);
    /* one training step through Dropout and GlobalAveragePooling2D's
     * backward, on one image */
    be = clf_test_backend("cpu");
    clf_optimizer_default(&opt, CLF_OPT_ADAM);
    assert_int_equal(clf_model_compile(m, be, &opt, CLF_PREPROCESS_UNIT, 1), CLF_OK);
    assert_true(fixture_load("img_a_224", &img));
    assert_int_equal(clf_model_train_batch(m, img.u8, (int32_t[]){2}, 1), CLF_OK);
    assert_int_equal(clf_model_step(m), 1);
    fixture_free(&img);
    clf_model_free(m);
    clf_backend_close(be);

    logcap_begin();
    assert_int_equal(clf_model_create_with_base(model_path(), "out_relu",
                                                KERAS_DIR "/functional_tf2.json", 96, 96, 4,
                                                1, &m),
                     CLF_ERR_SHAPE);
    assert_null(m);
    assert_true(LOGCAP_HAS("functional_tf2.json", "'out_relu'", "3x3x1280"));
    logcap_end();

    logcap_begin();
    assert_int_equal(clf_model_create_with_base(model_path(), "out_relu",
                                                KERAS_DIR "/head_flatten_tf2.json", 96, 96, 3,
                                                1, &m),
                     CLF_ERR_SHAPE);
    assert_true(LOGCAP_HAS("head_flatten_tf2.json ends in 4 classes, but 3 are wanted"));
    logcap_end();
}

static void test_bad_base_layer(void **state)
{
    clf_model *m = (clf_model *)1;

    (void)state;
    logcap_begin();
    assert_int_equal(clf_model_create_with_base(model_path(), "out_reluu", "linear", 224, 224,
                                                4, 1, &m),
                     CLF_ERR_ARG);
    assert_null(m);
    assert_true(LOGCAP_HAS("no layer named 'out_reluu'", "out_relu"));
    logcap_end();
}

/* The full model ends in a fixed 7x7 pooling; cut at out_relu the base
 * takes any size down to 32x32 but not a 1x1 image. */
static void test_bad_image_size(void **state)
{
    clf_model *m = (clf_model *)1;

    (void)state;
    logcap_begin();
    assert_int_equal(clf_model_create_with_base(model_path(), NULL, NULL, 96, 96, 5, 1, &m),
                     CLF_ERR_SHAPE);
    assert_null(m);
    assert_true(LOGCAP_HAS("'average_pooling2d_1' (AveragePooling2D)", "96x96"));
    logcap_end();

    logcap_begin();
    assert_int_equal(clf_model_create_with_base(model_path(), "out_relu", "linear", 1, 1, 4,
                                                1, &m),
                     CLF_ERR_SHAPE);
    assert_true(LOGCAP_HAS("'Conv1' (Conv2D)", "1x1 images"));
    logcap_end();

    m = create("out_relu", "linear", 32, 4);
    assert_int_equal(m->layers[m->base_end - 1].shape.dim[0], 1);
    clf_model_free(m);
}

/* At 224 with batch 12 one buffer per layer would take 1.5 GB; the plan
 * shares a few: every layer runs, and fewer than 8 buffers hold them. */
static void test_plan_at_224(void **state)
{
    clf_model *m = create("out_relu", "linear", 224, 4);
    clf_backend *be = clf_test_backend("cpu");
    clf_buf *seen[64];
    clf_optimizer opt;
    size_t unplanned = 0, planned = 0;
    int n_seen = 0;

    (void)state;
    clf_optimizer_default(&opt, CLF_OPT_ADAM);
    assert_int_equal(clf_model_compile(m, be, &opt, CLF_PREPROCESS_UNIT, 12), CLF_OK);
    assert_int_equal(m->chunk, 12);
    for (int i = 1; i < m->desc.n_layers; i++) {
        const clf_layer *l = &m->layers[i];
        bool known = false;

        unplanned += 12 * l->size * sizeof(float);
        if (!l->live || l->full || l->skip || l->alias)
            continue;
        for (int k = 0; k < n_seen; k++)
            known |= seen[k] == l->out.buf;
        if (!known) {
            assert_true(n_seen < 8);
            seen[n_seen++] = l->out.buf;
        }
    }
    for (int k = 0; k < n_seen; k++)
        planned += seen[k]->bytes;
    print_message("static layers: %d ops in %d shared buffers, %.0f MB (one per layer: "
                  "%.0f MB)\n", m->static_ops, n_seen, planned / 1e6, unplanned / 1e6);
    assert_true(planned * 4 < unplanned);
    clf_model_free(m);
    clf_backend_close(be);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_tutorial_model), cmocka_unit_test(test_mlp_head_at_96),
        cmocka_unit_test(test_json_heads),     cmocka_unit_test(test_bad_base_layer),
        cmocka_unit_test(test_bad_image_size), cmocka_unit_test(test_plan_at_224),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
