/* The Keras-style summary and parameter counts, worked out by hand. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "model/model_internal.h"

static char *summary_of(clf_model *m)
{
    char *text = NULL;

    assert_int_equal(clf_model_summary(m, &text), CLF_OK);
    assert_non_null(text);
    return text;
}

/* linear at 224x224, 10 classes: Flatten gives 3 * 224 * 224 = 150528;
 * Dense: 150528 * 10 + 10 = 1505290 parameters, 4 bytes each =
 * 6021160 bytes = 6021160 / 1024^2 MB = 5.74 MB. */
static void test_linear_224(void **state)
{
    static const char want[] =
        "Model: \"sequential\"\n"
        "_________________________________________________________________\n"
        " Layer (type)                Output Shape              Param #\n"
        "=================================================================\n"
        " flatten (Flatten)           (None, 150528)            0\n"
        "_________________________________________________________________\n"
        " dense (Dense)               (None, 10)                1505290\n"
        "=================================================================\n"
        "Total params: 1,505,290 (5.74 MB)\n"
        "Trainable params: 1,505,290 (5.74 MB)\n"
        "Non-trainable params: 0 (0.00 B)\n"
        "_________________________________________________________________\n";
    clf_model *m;
    char *text;

    (void)state;
    assert_int_equal(clf_model_create("linear", 224, 224, 10, 20, &m), CLF_OK);
    assert_int_equal(clf_model_param_count(m, false), 1505290);
    assert_int_equal(clf_model_param_count(m, true), 1505290);
    assert_int_equal(clf_model_classes(m), 10);
    text = summary_of(m);
    assert_string_equal(text, want);
    free(text);
    clf_model_free(m);
}

/* mlp:64 at 224x224, 10 classes: dense 150528 * 64 + 64 = 9633856,
 * dense_1 64 * 10 + 10 = 650, total 9634506 = 38538024 bytes = 36.75 MB. */
static void test_mlp_224(void **state)
{
    static const char want[] =
        "Model: \"sequential\"\n"
        "_________________________________________________________________\n"
        " Layer (type)                Output Shape              Param #\n"
        "=================================================================\n"
        " flatten (Flatten)           (None, 150528)            0\n"
        "_________________________________________________________________\n"
        " dense (Dense)               (None, 64)                9633856\n"
        "_________________________________________________________________\n"
        " dense_1 (Dense)             (None, 10)                650\n"
        "=================================================================\n"
        "Total params: 9,634,506 (36.75 MB)\n"
        "Trainable params: 9,634,506 (36.75 MB)\n"
        "Non-trainable params: 0 (0.00 B)\n"
        "_________________________________________________________________\n";
    clf_model *m;
    char *text;

    (void)state;
    assert_int_equal(clf_model_create("mlp:64", 224, 224, 10, 20, &m), CLF_OK);
    text = summary_of(m);
    assert_string_equal(text, want);
    free(text);
    clf_model_free(m);
}

/* Fashion-MNIST sizes: 3 * 28 * 28 = 2352 inputs; mlp:128 has
 * 2352 * 128 + 128 = 301184 and 128 * 10 + 10 = 1290: 302474 in all
 * (1209896 bytes = 1.15 MB); linear at 28: 2352 * 10 + 10 = 23530
 * (94120 bytes = 91.91 KB). */
static void test_small_images(void **state)
{
    clf_model *m;
    char *text;

    (void)state;
    assert_int_equal(clf_model_create("mlp:128", 28, 28, 10, 20, &m), CLF_OK);
    assert_int_equal(clf_model_param_count(m, false), 302474);
    text = summary_of(m);
    assert_non_null(strstr(text, " dense (Dense)               (None, 128)"
                                 "               301184\n"));
    assert_non_null(strstr(text, " dense_1 (Dense)             (None, 10)"
                                 "                1290\n"));
    assert_non_null(strstr(text, "Total params: 302,474 (1.15 MB)\n"));
    free(text);
    clf_model_free(m);

    assert_int_equal(clf_model_create("linear", 28, 28, 4, 20, &m), CLF_OK);
    assert_int_equal(clf_model_param_count(m, false), 2352 * 4 + 4);
    clf_model_free(m);
    assert_int_equal(clf_model_create("linear", 28, 28, 10, 20, &m), CLF_OK);
    text = summary_of(m);
    assert_non_null(strstr(text, "Total params: 23,530 (91.91 KB)\n"));
    free(text);
    clf_model_free(m);
}

/* A graph that is not a chain prints like a Keras functional model: an
 * input row and the layers each row reads. A frozen Dense counts as
 * non-trainable: a(4 * 3 + 3 = 15, frozen), b(15), out(3 * 2 + 2 = 8). */
static void test_functional_and_frozen(void **state)
{
    clf_layer_desc l[5];
    clf_graph_desc g = {l, 5, 4, "model"};
    clf_model *m;
    char *text;

    (void)state;
    clf_layer_desc_init(&l[0], CLF_LAYER_INPUT, "input_1");
    l[0].input_rank = 1, l[0].input_shape[0] = 4;
    clf_layer_desc_init(&l[1], CLF_LAYER_DENSE, "a");
    l[1].n_inputs = 1, l[1].units = 3, l[1].trainable = false;
    clf_layer_desc_init(&l[2], CLF_LAYER_DENSE, "b");
    l[2].n_inputs = 1, l[2].units = 3;
    clf_layer_desc_init(&l[3], CLF_LAYER_ADD, "add");
    l[3].n_inputs = 2, l[3].inputs[0] = 1, l[3].inputs[1] = 2;
    clf_layer_desc_init(&l[4], CLF_LAYER_DENSE, "out");
    l[4].n_inputs = 1, l[4].inputs[0] = 3, l[4].units = 2;
    l[4].activation = CLF_ACTIVATION_SOFTMAX;
    assert_int_equal(clf_model_from_desc(&g, 1, &m), CLF_OK);
    text = summary_of(m);
    assert_non_null(strstr(text, "Model: \"model\"\n"));
    assert_non_null(strstr(text, "Connected to"));
    assert_non_null(strstr(text, " input_1 (InputLayer)        [(None, 4)]"));
    assert_non_null(strstr(text, " add (Add)                   (None, 3)                 0"
                                 "         a[0][0], b[0][0]\n"));
    assert_non_null(strstr(text, "Total params: 38 (152.00 B)\n"));
    assert_non_null(strstr(text, "Trainable params: 23 (92.00 B)\n"));
    assert_non_null(strstr(text, "Non-trainable params: 15 (60.00 B)\n"));
    assert_int_equal(clf_model_param_count(m, true), 23);
    free(text);
    clf_model_free(m);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_linear_224),
        cmocka_unit_test(test_mlp_224),
        cmocka_unit_test(test_small_images),
        cmocka_unit_test(test_functional_and_frozen),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
