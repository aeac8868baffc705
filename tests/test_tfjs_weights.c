/* The TF.js weights reader: half-precision conversion, a hand-made
 * manifest with every storage type split across shards (values worked out
 * by hand), missing and short shards, bad manifests, and the real
 * MobileNetV2 weights against the values TF.js itself decoded
 * (tests/fixtures/mobilenet/index.json, "weight_values", written by
 * tools/ref/tfjs_reference.js). */
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cJSON.h>
#include <cmocka.h>

#include "io/graph_shapes.h"
#include "io/keras_json.h"
#include "io/tfjs_weights.h"
#include "support/fixtures.h"
#include "support/logcap.h"

static void test_half_to_float(void **state)
{
    (void)state;
    assert_true(clf_half_to_float(0x3c00) == 1.0f);      /* exp 15, frac 0 */
    assert_true(clf_half_to_float(0xc000) == -2.0f);     /* sign, exp 16 */
    assert_true(clf_half_to_float(0x7bff) == 65504.0f);  /* (2 - 2^-10) * 2^15 */
    assert_true(clf_half_to_float(0x0001) == ldexpf(1.0f, -24)); /* smallest subnormal */
    assert_true(clf_half_to_float(0x03ff) == ldexpf(1023.0f, -24));
    /* 0x3555: exp 13, frac 341: (1 + 341/1024) / 4 = 0.333251953125 */
    assert_true(clf_half_to_float(0x3555) == 0.333251953125f);
    assert_true(clf_half_to_float(0x8000) == 0.0f && signbit(clf_half_to_float(0x8000)));
    assert_true(isinf(clf_half_to_float(0x7c00)) && clf_half_to_float(0x7c00) > 0);
    assert_true(isnan(clf_half_to_float(0x7e00)));
}

/* ---- A hand-made model ---- */

static char dir[64];

static void write_file(const char *name, const void *data, size_t n)
{
    char path[256];
    FILE *f;

    snprintf(path, sizeof path, "%s/%s", dir, name);
    f = fopen(path, "wb");
    assert_non_null(f);
    assert_int_equal(fwrite(data, 1, n, f), n);
    fclose(f);
}

static void write_text(const char *name, const char *text)
{
    write_file(name, text, strlen(text));
}

static void remove_file(const char *name)
{
    char path[256];

    snprintf(path, sizeof path, "%s/%s", dir, name);
    unlink(path);
}

/* Group 1, 24 bytes over two shards (the first ends inside a/bias):
 *   a/kernel [2,3] uint8, min -1, scale 0.5: q 0 1 2 3 4 255
 *   a/bias   [2]   float16: 0x3c00 (1), 0xc000 (-2)
 *   b/gamma  [1]   uint16, min 0.25, scale 0.125: q 0x0102 = 258
 *   c/w      [3]   float32: 1.5, -0.0, 3.25
 * Group 2: d/scalar [] float32 0.1f. */
static const unsigned char group1[24] = {
    0, 1, 2, 3, 4, 255,                     /* a/kernel */
    0x00, 0x3c, 0x00, 0xc0,                 /* a/bias */
    0x02, 0x01,                             /* b/gamma */
    0x00, 0x00, 0xc0, 0x3f,                 /* 1.5f = 0x3fc00000 */
    0x00, 0x00, 0x00, 0x80,                 /* -0.0f = 0x80000000 */
    0x00, 0x00, 0x50, 0x40,                 /* 3.25f = 0x40500000 */
};

#define MANIFEST_FMT \
    "{\"modelTopology\": {}, \"weightsManifest\": [" \
    "{\"paths\": [\"g1-a.bin\", \"g1-b.bin\"], \"weights\": [" \
    " {\"name\": \"a/kernel\", \"shape\": [2, 3], \"dtype\": \"float32\", \"quantization\":" \
    "  {\"dtype\": \"uint8\", \"min\": -1.0, \"scale\": 0.5, \"original_dtype\": \"float32\"}}," \
    " {\"name\": \"a/bias\", \"shape\": [2], \"dtype\": \"float32\"," \
    "  \"quantization\": {\"dtype\": \"float16\"}}," \
    " {\"name\": \"b/gamma\", \"shape\": [1], \"dtype\": \"%s\", \"quantization\":" \
    "  {\"dtype\": \"uint16\", \"min\": 0.25, \"scale\": 0.125}}," \
    " {\"name\": \"%s\", \"shape\": [3], \"dtype\": \"float32\"}]}," \
    "{\"paths\": [\"%s\"], \"weights\": [" \
    " {\"name\": \"d/scalar\", \"shape\": [], \"dtype\": \"float32\"}]}]}"

/* Writes model.json (with the given gamma dtype, c/w name and group-2
 * path) and the shards: g1-a.bin has 8 bytes, g1-b.bin b_len bytes. */
static void make_model(const char *gamma_dtype, const char *cw_name, const char *g2_path,
                       size_t b_len)
{
    char json[2048];
    float scalar = 0.1f;
    unsigned char b[32] = {0};

    snprintf(json, sizeof json, MANIFEST_FMT, gamma_dtype, cw_name, g2_path);
    write_file("model.json", json, strlen(json));
    write_file("g1-a.bin", group1, 8);
    memcpy(b, group1 + 8, 16);
    write_file("g1-b.bin", b, b_len);
    write_file("g2.bin", &scalar, 4);
}

static int make_dir(void **state)
{
    (void)state;
    snprintf(dir, sizeof dir, "/tmp/clfit-tfjs-XXXXXX");
    return mkdtemp(dir) ? 0 : -1;
}

static int remove_dir(void **state)
{
    (void)state;
    remove_file("model.json");
    remove_file("g1-a.bin");
    remove_file("g1-b.bin");
    remove_file("g2.bin");
    return rmdir(dir);
}

static const char *model_path(void)
{
    static char path[128];

    snprintf(path, sizeof path, "%s/model.json", dir);
    return path;
}

static const clf_named_tensor *find(const clf_weight_set *ws, const char *name)
{
    const clf_named_tensor *t = clf_weight_set_find(ws, name);

    if (!t)
        fail_msg("no tensor %s", name);
    return t;
}

static void test_manifest_values(void **state)
{
    static const float kernel[6] = {-1.0f, -0.5f, 0.0f, 0.5f, 1.0f, 126.5f};
    clf_weight_set ws;
    const clf_named_tensor *t;

    (void)state;
    make_model("float32", "c/w", "g2.bin", 16);
    assert_int_equal(clf_tfjs_weights_read(model_path(), &ws), CLF_OK);
    assert_int_equal(ws.n, 5);

    t = find(&ws, "a/kernel");
    assert_int_equal(t->rank, 2);
    assert_int_equal(t->shape[1], 3);
    for (int i = 0; i < 6; i++)
        assert_true(t->data[i] == kernel[i]);    /* -1 + 0.5 q, exact */
    t = find(&ws, "a/bias");
    assert_true(t->data[0] == 1.0f && t->data[1] == -2.0f);
    t = find(&ws, "b/gamma");
    assert_true(t->data[0] == 32.5f);            /* 0.25 + 258 * 0.125 */
    t = find(&ws, "c/w");
    assert_true(t->data[0] == 1.5f && t->data[2] == 3.25f);
    assert_true(t->data[1] == 0.0f && signbit(t->data[1]));
    t = find(&ws, "d/scalar");
    assert_int_equal(t->rank, 0);
    assert_int_equal(t->count, 1);
    assert_true(t->data[0] == 0.1f);

    assert_ptr_equal(clf_weight_set_find_var(&ws, "a", "bias"), find(&ws, "a/bias"));
    assert_null(clf_weight_set_find(&ws, "a/gamma"));
    clf_weight_set_free(&ws);
    assert_int_equal(ws.n, 0);
}

/* Reads model_path() expecting status want and a log naming a and b. */
static void expect_error(clf_status want, const char *a, const char *b)
{
    clf_weight_set ws;
    clf_status st;

    logcap_begin();
    st = clf_tfjs_weights_read(model_path(), &ws);
    logcap_end();
    if (st != want)
        fail_msg("status %s, want %s; log: %s", clf_status_name(st), clf_status_name(want),
                 logcap_text());
    assert_int_equal(ws.n, 0);
    assert_null(ws.tensors);
    if (!LOGCAP_HAS(a, b))
        fail_msg("log does not name '%s' and '%s': %s", a, b, logcap_text());
}

static void test_missing_shard(void **state)
{
    (void)state;
    make_model("float32", "c/w", "g2.bin", 16);
    remove_file("g1-b.bin");
    /* g1-b.bin starts at byte 8, inside a/bias (bytes 6..9) */
    expect_error(CLF_ERR_IO, "g1-b.bin' could not be read", "tensor 'a/bias'");
    make_model("float32", "c/w", "g2-missing.bin", 16);
    expect_error(CLF_ERR_IO, "g2-missing.bin", "tensor 'd/scalar'");
}

static void test_short_shard(void **state)
{
    (void)state;
    /* 8 + 10 = 18 bytes; c/w needs bytes 12..23 */
    make_model("float32", "c/w", "g2.bin", 10);
    expect_error(CLF_ERR_FORMAT, "tensor 'c/w' (12 bytes of float32 at byte 12)",
                 "after 18 bytes in 'g1-b.bin'");
}

static void test_long_shard_warns(void **state)
{
    clf_weight_set ws;

    (void)state;
    make_model("float32", "c/w", "g2.bin", 19);
    logcap_begin();
    assert_int_equal(clf_tfjs_weights_read(model_path(), &ws), CLF_OK);
    logcap_end();
    assert_true(LOGCAP_HAS("3 bytes after the last tensor are unused"));
    clf_weight_set_free(&ws);
}

static void test_bad_manifests(void **state)
{
    (void)state;
    make_model("int32", "c/w", "g2.bin", 16);
    expect_error(CLF_ERR_UNSUPPORTED, "weight 'b/gamma'", "dtype int32");
    make_model("float32", "a/kernel", "g2.bin", 16);
    expect_error(CLF_ERR_FORMAT, "weight 'a/kernel'", "appears twice");
    make_model("float32", "c/w", "../g2.bin", 16);
    expect_error(CLF_ERR_FORMAT, "weight group 2", "without '..'");
    write_text("model.json", "{\"weightsManifest\": [{\"paths\": [\"g2.bin\"], \"weights\": "
               "[{\"name\": \"q\", \"shape\": [1], \"dtype\": \"float32\", \"quantization\": "
               "{\"dtype\": \"uint8\", \"min\": 0}}]}]}");
    expect_error(CLF_ERR_FORMAT, "weight 'q'", "'min' and 'scale'");
    write_text("model.json", "{\"weightsManifest\": [{\"paths\": [\"g2.bin\"], \"weights\": "
               "[{\"name\": \"s\", \"shape\": [1, -2], \"dtype\": \"float32\"}]}]}");
    expect_error(CLF_ERR_FORMAT, "weight 's'", "shape must be");
    write_text("model.json", "{\"modelTopology\": {}}");
    expect_error(CLF_ERR_FORMAT, "model.json", "no 'weightsManifest'");
}

/* A float32 tensor holding NaN is refused. */
static void test_nan_weight(void **state)
{
    const float nan_bits = NAN;

    (void)state;
    make_model("float32", "c/w", "g2.bin", 16);
    write_file("g2.bin", &nan_bits, 4);
    expect_error(CLF_ERR_FORMAT, "weight 'd/scalar'", "element 0 is nan");
}

/* Plain float32 weights as TF.js's model.save() wrote them
 * (tools/ref/tfjs_small_model.js): kernel[i] = ((i mod 7) - 3) / 8 for
 * the [16, 3] kernel in row-major order, bias [0.5, -0.25, 1]. */
static void test_tfjs_saved_weights(void **state)
{
    clf_weight_set ws;
    const clf_named_tensor *k, *b;

    (void)state;
    assert_int_equal(clf_tfjs_weights_read(CLFIT_SOURCE_DIR
                                           "/tests/fixtures/keras/tfjs_sequential/model.json",
                                           &ws),
                     CLF_OK);
    assert_int_equal(ws.n, 2);
    k = find(&ws, "dense/kernel");
    assert_int_equal(k->shape[0], 16);
    assert_int_equal(k->shape[1], 3);
    for (int i = 0; i < 48; i++)
        assert_true(k->data[i] == (float)((i % 7) - 3) / 8.0f);
    b = find(&ws, "dense/bias");
    assert_true(b->data[0] == 0.5f && b->data[1] == -0.25f && b->data[2] == 1.0f);
    clf_weight_set_free(&ws);
}

/* ---- The real MobileNetV2 ---- */

static void test_real_weights_match_tfjs(void **state)
{
    const char *path = fixture_mobilenet_json();
    cJSON *index, *probes, *p;
    clf_weight_set ws;

    (void)state;
    if (!path) {
        print_message("%s\n", FIXTURE_FETCH_HINT);
        skip();
    }
    assert_int_equal(clf_tfjs_weights_read(path, &ws), CLF_OK);
    assert_int_equal(ws.n, 266);
    assert_int_equal(find(&ws, "Conv1/kernel")->rank, 4);
    assert_int_equal(find(&ws, "Conv1/kernel")->shape[3], 32);

    index = fixture_index();
    assert_non_null(index);
    probes = cJSON_GetObjectItemCaseSensitive(index, "weight_values");
    assert_true(cJSON_GetArraySize(probes) >= 5);
    cJSON_ArrayForEach(p, probes) {
        const clf_named_tensor *t = find(&ws, p->string);
        const cJSON *first = cJSON_GetObjectItemCaseSensitive(p, "first"), *v;
        double sum = 0.0;
        int i = 0;

        assert_int_equal(t->count, cJSON_GetObjectItemCaseSensitive(p, "count")->valueint);
        /* TF.js and clfit both round min + q * scale once to float32. */
        cJSON_ArrayForEach(v, first) {
            if (t->data[i] != (float)v->valuedouble)
                fail_msg("%s[%d] = %.9g, TF.js %.9g", t->name, i, t->data[i], v->valuedouble);
            i++;
        }
        /* JS summed the same float32 values in order, in double. */
        for (size_t k = 0; k < t->count; k++)
            sum += t->data[k];
        assert_true(sum == cJSON_GetObjectItemCaseSensitive(p, "sum")->valuedouble);
    }
    fixture_index_free(index);
    clf_weight_set_free(&ws);
}

static void test_real_weights_fit_graph(void **state)
{
    const char *path = fixture_mobilenet_json();
    clf_graph_desc g, cut;
    clf_weight_set ws;
    clf_shape s[162];
    clf_named_tensor *gamma;

    (void)state;
    if (!path) {
        print_message("%s\n", FIXTURE_FETCH_HINT);
        skip();
    }
    assert_int_equal(clf_keras_json_read(path, &g), CLF_OK);
    assert_int_equal(clf_tfjs_weights_read(path, &ws), CLF_OK);
    assert_int_equal(clf_graph_shapes_hw(&g, 0, 0, s), CLF_OK);
    assert_int_equal(clf_weight_set_check(&g, s, &ws), CLF_OK);
    assert_int_equal(clf_graph_cut(&g, "out_relu", &cut), CLF_OK);
    assert_int_equal(clf_graph_shapes_hw(&cut, 96, 96, s), CLF_OK);
    assert_int_equal(clf_weight_set_check(&cut, s, &ws), CLF_OK);

    /* A config that disagrees with the weights: 16 filters, not 32. */
    g.layers[clf_graph_find(&g, "Conv1")].filters = 16;
    assert_int_equal(clf_graph_shapes_hw(&g, 0, 0, s), CLF_OK);
    logcap_begin();
    assert_int_equal(clf_weight_set_check(&g, s, &ws), CLF_ERR_SHAPE);
    logcap_end();
    if (!LOGCAP_HAS("layer 'Conv1' (Conv2D): weight tensor 'Conv1/kernel' has shape "
                    "[3,3,3,32], the layer needs [3,3,3,16]"))
        fail_msg("log: %s", logcap_text());

    /* A tensor the graph needs is not in the file. */
    gamma = (clf_named_tensor *)find(&ws, "bn_Conv1/gamma");
    gamma->name[0] = 'X';
    assert_int_equal(clf_graph_shapes_hw(&cut, 224, 224, s), CLF_OK);
    logcap_begin();
    assert_int_equal(clf_weight_set_check(&cut, s, &ws), CLF_ERR_FORMAT);
    logcap_end();
    if (!LOGCAP_HAS("layer 'bn_Conv1' (BatchNormalization): weight tensor 'bn_Conv1/gamma' "
                    "(shape [32]) is missing"))
        fail_msg("log: %s", logcap_text());

    clf_graph_desc_free(&cut);
    clf_graph_desc_free(&g);
    clf_weight_set_free(&ws);
}

/* Names under a model scope ("model/dense/kernel") are found by layer. */
static void test_find_var_scoped(void **state)
{
    float x = 0;
    clf_named_tensor t[2] = {
        {.name = "m/dense/kernel", .count = 1, .data = &x},
        {.name = "m/dense_1/kernel", .count = 1, .data = &x},
    };
    clf_weight_set ws = {t, 2};

    (void)state;
    assert_ptr_equal(clf_weight_set_find_var(&ws, "dense", "kernel"), &t[0]);
    assert_ptr_equal(clf_weight_set_find_var(&ws, "dense_1", "kernel"), &t[1]);
    assert_null(clf_weight_set_find_var(&ws, "nse", "kernel"));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_half_to_float),
        cmocka_unit_test(test_manifest_values),
        cmocka_unit_test(test_missing_shard),
        cmocka_unit_test(test_short_shard),
        cmocka_unit_test(test_long_shard_warns),
        cmocka_unit_test(test_bad_manifests),
        cmocka_unit_test(test_nan_weight),
        cmocka_unit_test(test_find_var_scoped),
        cmocka_unit_test(test_tfjs_saved_weights),
        cmocka_unit_test(test_real_weights_match_tfjs),
        cmocka_unit_test(test_real_weights_fit_graph),
    };

    return cmocka_run_group_tests(tests, make_dir, remove_dir);
}
