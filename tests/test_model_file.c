/* Model files: save then load is bit-exact (tensors, config, metadata,
 * predictions); an independent Python reader sees the same tensors; and
 * every kind of bad file is refused with a message naming the file, the
 * tensor and what was expected: shapes that do not match the config,
 * missing and extra tensors, truncation at every byte, a flipped byte
 * anywhere in the header, NaN and Inf, other formats, a newer version. */
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "backend/backend.h"
#include "clfit/io.h"
#include "core/rng.h"
#include "io/keras_json.h"
#include "io/model_file.h"
#include "model/model_internal.h"
#include "support/logcap.h"
#include "support/tmpdir.h"

static const char *const names3[] = {"boot", "coat", "T-shirt/top"};

/* Every tensor of m filled from seed (biases too, which start at zero). */
static void fill_random(clf_model *m, uint64_t seed)
{
    clf_rng r;

    clf_rng_seed(&r, seed);
    for (size_t k = 0; k < clf_model_tensor_count(m); k++) {
        clf_tensor_info ti;
        float *v;

        assert_int_equal(clf_model_tensor_info(m, k, &ti), CLF_OK);
        v = malloc(ti.count * sizeof *v);
        for (size_t i = 0; i < ti.count; i++)
            v[i] = clf_rng_uniform(&r) * 2 - 1;
        assert_int_equal(clf_model_tensor_write(m, k, v, ti.count), CLF_OK);
        free(v);
    }
}

/* Input(4, 5, 3) channels-last -> Flatten -> Dense(6, relu, frozen)
 * -> Dropout(0.5) -> Dense(3, softmax): a frozen part like a transfer
 * model's base, and the other input layout. */
static clf_model *frozen_model(void)
{
    clf_layer_desc l[5];
    clf_graph_desc g = {.layers = l, .n_layers = 5, .output = 4, .name = "frozen_demo"};
    clf_model *m;

    clf_layer_desc_init(&l[0], CLF_LAYER_INPUT, "input");
    l[0].input_rank = 3;
    l[0].input_shape[0] = 4, l[0].input_shape[1] = 5, l[0].input_shape[2] = 3;
    clf_layer_desc_init(&l[1], CLF_LAYER_FLATTEN, "flatten");
    clf_layer_desc_init(&l[2], CLF_LAYER_DENSE, "base_dense");
    l[2].units = 6, l[2].activation = CLF_ACTIVATION_RELU, l[2].trainable = false;
    clf_layer_desc_init(&l[3], CLF_LAYER_DROPOUT, "dropout");
    l[3].rate = 0.5f;
    clf_layer_desc_init(&l[4], CLF_LAYER_DENSE, "head");
    l[4].units = 3, l[4].activation = CLF_ACTIVATION_SOFTMAX;
    for (int i = 1; i < 5; i++)
        l[i].n_inputs = 1, l[i].inputs[0] = i - 1;
    assert_int_equal(clf_model_from_desc(&g, 7, &m), CLF_OK);
    fill_random(m, 11);
    return m;
}

static clf_model *linear_model(uint64_t seed)
{
    clf_model *m;

    assert_int_equal(clf_model_create("linear", 4, 5, 3, seed, &m), CLF_OK);
    fill_random(m, seed);
    return m;
}

/* The file bytes of m saved with names3 and `pre`. */
static unsigned char *model_bytes(clf_model *m, clf_preprocess pre, size_t *len)
{
    clf_st_writer w;
    unsigned char *b;

    clf_st_writer_init(&w);
    assert_int_equal(clf_mf_put_model(&w, m, "model", names3, pre, NULL, NULL), CLF_OK);
    assert_int_equal(clf_st_writer_serialize(&w, true, &b, len), CLF_OK);
    clf_st_writer_free(&w);
    return b;
}

/* Loads from memory; returns the status, frees what it made. */
static clf_status load_bytes(const unsigned char *b, size_t len, const char *what)
{
    clf_st_file f;
    clf_model *m = NULL;
    clf_model_info info;
    clf_status st = clf_st_parse(b, len, what, &f);

    if (st == CLF_OK)
        st = clf_mf_load_parsed(&f, &m, &info);
    if (st == CLF_OK)
        clf_model_info_free(&info);
    clf_model_free(m);
    clf_st_free(&f);
    return st;
}

static void assert_same_tensors(clf_model *a, clf_model *b)
{
    assert_int_equal(clf_model_tensor_count(a), clf_model_tensor_count(b));
    for (size_t k = 0; k < clf_model_tensor_count(a); k++) {
        clf_tensor_info ta, tb;
        float *va, *vb;

        assert_int_equal(clf_model_tensor_info(a, k, &ta), CLF_OK);
        assert_int_equal(clf_model_tensor_info(b, k, &tb), CLF_OK);
        assert_string_equal(ta.name, tb.name);
        assert_int_equal(ta.trainable, tb.trainable);
        assert_memory_equal(ta.shape, tb.shape, sizeof ta.shape);
        va = malloc(ta.count * sizeof *va);
        vb = malloc(ta.count * sizeof *vb);
        assert_int_equal(clf_model_tensor_read(a, k, va, ta.count), CLF_OK);
        assert_int_equal(clf_model_tensor_read(b, k, vb, tb.count), CLF_OK);
        assert_memory_equal(va, vb, ta.count * sizeof *va);
        free(va), free(vb);
    }
}

static void save_load_one(clf_model *m, clf_preprocess pre, bool chw)
{
    const char *dir = tmpdir_make("mf");
    char path[4096], *ja, *jb;
    clf_model *back;
    clf_model_info info;

    tmpdir_path(path, sizeof path, dir, "m.safetensors");
    assert_int_equal(clf_model_save(m, path, names3, pre, "base.json cut at flatten"), CLF_OK);
    assert_int_equal(clf_model_load(path, &back, &info), CLF_OK);

    assert_same_tensors(m, back);
    /* fields a layer kind does not use differ between built-in and parsed
     * descriptions, so the configs are compared as Keras would see them */
    assert_int_equal(clf_keras_json_write(clf_model_desc(m), &ja), CLF_OK);
    assert_int_equal(clf_keras_json_write(clf_model_desc(back), &jb), CLF_OK);
    assert_string_equal(ja, jb);
    free(ja), free(jb);
    assert_int_equal(clf_model_desc(back)->layers[0].channels_first, chw);
    assert_int_equal(info.classes, 3);
    for (int i = 0; i < 3; i++)
        assert_string_equal(info.class_names[i], names3[i]);
    assert_int_equal(info.preprocess, pre);
    assert_int_equal(info.height, 4);
    assert_int_equal(info.width, 5);
    assert_string_equal(info.base, "base.json cut at flatten");
    assert_int_equal(info.format_version, CLF_MODEL_FORMAT_VERSION);
    clf_model_info_free(&info);
    clf_model_free(back);
    tmpdir_remove(dir);
}

static void test_save_load_linear(void **state)
{
    clf_model *m = linear_model(5);

    (void)state;
    save_load_one(m, CLF_PREPROCESS_SYMMETRIC, true);
    clf_model_free(m);
}

static void test_save_load_frozen(void **state)
{
    clf_model *m = frozen_model();

    (void)state;
    assert_false(clf_model_desc(m)->layers[2].trainable);
    save_load_one(m, CLF_PREPROCESS_NONE, false);
    clf_model_free(m);
}

/* A compiled model saved from the device predicts, after loading and
 * compiling again, exactly what it predicted before. */
static void test_predictions_survive(void **state)
{
    const char *dir = tmpdir_make("mfp");
    char path[4096];
    clf_backend *be;
    clf_optimizer opt;
    clf_model *m = frozen_model(), *back;
    clf_model_info info;
    uint8_t img[2 * 4 * 5 * 3];
    float pa[6], pb[6];

    (void)state;
    for (size_t i = 0; i < sizeof img; i++)
        img[i] = (uint8_t)(i * 37 % 251);
    assert_int_equal(clf_cpu_backend_open(&be), CLF_OK);
    clf_optimizer_default(&opt, CLF_OPT_ADAM);
    assert_int_equal(clf_model_compile(m, be, &opt, CLF_PREPROCESS_UNIT, 2), CLF_OK);
    assert_int_equal(clf_model_predict_batch(m, img, 2, pa), CLF_OK);

    tmpdir_path(path, sizeof path, dir, "m.safetensors");
    assert_int_equal(clf_model_save(m, path, names3, CLF_PREPROCESS_UNIT, NULL), CLF_OK);
    assert_int_equal(clf_model_load(path, &back, &info), CLF_OK);
    assert_int_equal(clf_model_compile(back, be, &opt, info.preprocess, 2), CLF_OK);
    assert_int_equal(clf_model_predict_batch(back, img, 2, pb), CLF_OK);
    assert_memory_equal(pa, pb, sizeof pa);

    clf_model_info_free(&info);
    clf_model_free(back);
    clf_model_free(m);
    clf_backend_close(be);
    tmpdir_remove(dir);
}

/* The training split goes into the file and comes back as written; a
 * file saved without one says it has none. */
static void test_split_record(void **state)
{
    const char *dir = tmpdir_make("mfs");
    char path[4096];
    clf_model *m = linear_model(1), *back;
    clf_model_info info;
    const clf_split_record rec = {.fractions = {0.5, 0.25, 0.25}, .n = 3,
                                  .seed = 18446744073709551615ull, .images = 5478};

    (void)state;
    tmpdir_path(path, sizeof path, dir, "s.safetensors");
    assert_int_equal(clf_model_save_split(m, path, names3, CLF_PREPROCESS_UNIT, NULL, &rec),
                     CLF_OK);
    assert_int_equal(clf_model_load(path, &back, &info), CLF_OK);
    assert_true(info.has_split);
    assert_int_equal(info.split.n, 3);
    assert_true(info.split.fractions[0] == 0.5 && info.split.fractions[1] == 0.25 &&
                info.split.fractions[2] == 0.25);
    assert_true(info.split.seed == 18446744073709551615ull); /* 2^64 - 1, beyond a double */
    assert_int_equal(info.split.images, 5478);
    clf_model_info_free(&info);
    clf_model_free(back);

    assert_int_equal(clf_model_save(m, path, names3, CLF_PREPROCESS_UNIT, NULL), CLF_OK);
    assert_int_equal(clf_model_load(path, &back, &info), CLF_OK);
    assert_false(info.has_split);
    clf_model_info_free(&info);
    clf_model_free(back);
    clf_model_free(m);
    tmpdir_remove(dir);
}

/* ---- bad files ---- */

/* A writer holding m's file, for tampering before serializing. */
static void writer_of(clf_st_writer *w, clf_model *m)
{
    clf_st_writer_init(w);
    assert_int_equal(clf_mf_put_model(w, m, "model", names3, CLF_PREPROCESS_UNIT, NULL, NULL),
                     CLF_OK);
}

/* Serializes w (with a valid CRC: the damage is in the content) and
 * expects load to fail with st and a message holding the strings. */
static void expect_load_fails(clf_st_writer *w, clf_status st, const char *a, const char *b)
{
    unsigned char *buf;
    size_t len;

    assert_int_equal(clf_st_writer_serialize(w, true, &buf, &len), CLF_OK);
    logcap_begin();
    assert_int_equal(load_bytes(buf, len, "bad.safetensors"), st);
    if (!LOGCAP_HAS("bad.safetensors", a, b))
        fail_msg("message lacks '%s' / '%s':\n%s", a, b, logcap_text());
    logcap_end();
    free(buf);
    clf_st_writer_free(w);
}

static void replace_meta(clf_st_writer *w, const char *key, const char *value)
{
    assert_true(cJSON_ReplaceItemInObject(w->meta, key, cJSON_CreateString(value)));
}

/* linear at 4x5, 3 classes: dense/kernel is (60, 3). A config for 4
 * classes needs (60, 4). */
static void test_shapes_differ_from_config(void **state)
{
    clf_model *m = linear_model(1), *other;
    clf_st_writer w;
    char *config;

    (void)state;
    assert_int_equal(clf_model_create("linear", 4, 5, 4, 1, &other), CLF_OK);
    assert_int_equal(clf_keras_json_write(clf_model_desc(other), &config), CLF_OK);
    writer_of(&w, m);
    replace_meta(&w, CLF_MF_CONFIG, config);
    expect_load_fails(&w, CLF_ERR_SHAPE, "tensor 'dense/kernel' is F32 [60, 3]",
                      "the model config needs F32 [60, 4]");
    free(config);
    clf_model_free(other);
    clf_model_free(m);
}

static void test_missing_and_extra_tensors(void **state)
{
    clf_model *m = linear_model(1);
    clf_st_writer w;
    const float v[2] = {1, 2};
    const int shape[1] = {2};

    (void)state;
    writer_of(&w, m);
    free(w.entries[1].name);              /* dense/bias, added second */
    free(w.entries[1].data);
    w.n = 1;
    expect_load_fails(&w, CLF_ERR_FORMAT, "tensor 'dense/bias' is missing",
                      "needs it, F32 [3]");

    writer_of(&w, m);
    assert_int_equal(clf_st_writer_copy_f32(&w, "dense_9/kernel", 1, shape, v), CLF_OK);
    expect_load_fails(&w, CLF_ERR_FORMAT, "tensor 'dense_9/kernel'", "not part of the model");
    clf_model_free(m);
}

/* A split entry that is there must be whole: each is refused by name. */
static void test_bad_split_record(void **state)
{
    static const char *const bad[] = {
        "not json", "{}", "{\"fractions\":[],\"seed\":\"1\",\"images\":3}",
        "{\"fractions\":[0.5,0.2,0.2,0.1],\"seed\":\"1\",\"images\":3}",
        "{\"fractions\":[1.5],\"seed\":\"1\",\"images\":3}",
        "{\"fractions\":[0.7,0.3],\"seed\":\"-1\",\"images\":3}",
        "{\"fractions\":[0.7,0.3],\"seed\":\"18446744073709551616\",\"images\":3}",
        "{\"fractions\":[0.7,0.3],\"seed\":\"1\",\"images\":2.5}",
    };
    clf_model *m = linear_model(1);
    clf_st_writer w;

    (void)state;
    for (size_t i = 0; i < sizeof bad / sizeof *bad; i++) {
        writer_of(&w, m);
        assert_int_equal(clf_st_writer_meta(&w, CLF_MF_SPLIT, bad[i]), CLF_OK);
        expect_load_fails(&w, CLF_ERR_FORMAT, "metadata \"clfit.split\" must be",
                          "\"seed\": a whole number");
    }
    clf_model_free(m);
}

/* Version 0 (or "x") is unsupported, not blamed on a newer clfit. */
static void test_version_below_one(void **state)
{
    static const char *const versions[] = {"0", "x"};
    clf_model *m = linear_model(1);
    clf_st_writer w;
    unsigned char *buf;
    size_t len;

    (void)state;
    for (int i = 0; i < 2; i++) {
        writer_of(&w, m);
        replace_meta(&w, CLF_MF_VERSION, versions[i]);
        assert_int_equal(clf_st_writer_serialize(&w, true, &buf, &len), CLF_OK);
        logcap_begin();
        assert_int_equal(load_bytes(buf, len, "old.safetensors"), CLF_ERR_FORMAT);
        assert_true(LOGCAP_HAS("old.safetensors: unsupported format version", versions[i],
                               "reads versions 1 to 1"));
        if (strstr(logcap_text(), "newer"))
            fail_msg("version %s blamed on a newer clfit:\n%s", versions[i], logcap_text());
        logcap_end();
        free(buf);
        clf_st_writer_free(&w);
    }
    clf_model_free(m);
}

static void test_bad_metadata(void **state)
{
    clf_model *m = linear_model(1);
    clf_st_writer w;

    (void)state;
    writer_of(&w, m);
    replace_meta(&w, CLF_MF_CLASSES, "[\"a\", \"b\"]");
    expect_load_fails(&w, CLF_ERR_FORMAT, "array of 3 class names", "[\"a\", \"b\"]");

    writer_of(&w, m);
    replace_meta(&w, CLF_MF_VERSION, "2");
    expect_load_fails(&w, CLF_ERR_UNSUPPORTED, "format version \"2\"", "reads versions 1 to 1");


    writer_of(&w, m);
    replace_meta(&w, CLF_MF_FORMAT, "checkpoint");
    expect_load_fails(&w, CLF_ERR_FORMAT, "a clfit checkpoint file",
                      "where a model file was expected");

    writer_of(&w, m);
    replace_meta(&w, CLF_MF_INPUT, "{\"height\":4,\"width\":6,\"channels\":3,"
                                   "\"layout\":\"channels_first\"}");
    expect_load_fails(&w, CLF_ERR_FORMAT, "input layer 'input_1' has shape (3, 4, 5)",
                      "says (3, 4, 6)");

    writer_of(&w, m);
    replace_meta(&w, CLF_MF_PREPROCESS, "imagenet");
    expect_load_fails(&w, CLF_ERR_FORMAT, "\"clfit.preprocess\"", "unit, symmetric or none");
    clf_model_free(m);
}

/* NaN and Inf in a tensor (the CRC is valid: the values were written so). */
static void test_non_finite_values(void **state)
{
    clf_model *m = linear_model(1);
    clf_st_writer w;

    (void)state;
    writer_of(&w, m);
    w.entries[1].data[2] = NAN;           /* dense/bias[2] */
    expect_load_fails(&w, CLF_ERR_FORMAT, "tensor 'dense/bias': value 2 is NaN",
                      "finite numbers only");
    writer_of(&w, m);
    w.entries[0].data[59] = -INFINITY;    /* dense/kernel[59] */
    expect_load_fails(&w, CLF_ERR_FORMAT, "tensor 'dense/kernel': value 59 is infinite",
                      "finite");
    clf_model_free(m);
}

/* Cut after every byte: always refused with a message, never a crash
 * (run under ASan/valgrind to see no read past the cut). */
static void test_truncated_at_every_byte(void **state)
{
    clf_model *m = linear_model(2);
    size_t len;
    unsigned char *b = model_bytes(m, CLF_PREPROCESS_UNIT, &len);

    (void)state;
    assert_int_equal(load_bytes(b, len, "whole"), CLF_OK);
    for (size_t k = 0; k < len; k++) {
        unsigned char *cut = malloc(k + 1);

        memcpy(cut, b, k);
        logcap_begin();
        assert_int_not_equal(load_bytes(cut, k, "cut.safetensors"), CLF_OK);
        if (!LOGCAP_HAS("cut.safetensors"))
            fail_msg("cut at %zu: no message naming the file", k);
        logcap_end();
        free(cut);
    }
    free(b);
    clf_model_free(m);
}

/* Every byte of the length field and the header, changed in three ways
 * (lowest bit, highest bit, all bits): always refused with a message. */
static void test_flipped_header_bytes(void **state)
{
    static const unsigned char masks[3] = {0x01, 0x80, 0xff};
    clf_model *m = linear_model(3);
    size_t len, n = 0;
    unsigned char *b = model_bytes(m, CLF_PREPROCESS_UNIT, &len);

    (void)state;
    for (int i = 7; i >= 0; i--)
        n = n << 8 | b[i];
    for (size_t k = 0; k < 8 + n; k++)
        for (int j = 0; j < 3; j++) {
            b[k] ^= masks[j];
            logcap_begin();
            if (load_bytes(b, len, "flip.safetensors") == CLF_OK)
                fail_msg("byte %zu ^ 0x%02x was not noticed", k, masks[j]);
            if (!LOGCAP_HAS("flip.safetensors"))
                fail_msg("byte %zu ^ 0x%02x: no message naming the file", k, masks[j]);
            logcap_end();
            b[k] ^= masks[j];
        }
    free(b);
    clf_model_free(m);
}

/* Files on disk that are no model file at all. */
static void test_other_files(void **state)
{
    static const unsigned char png[69] = {
        0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a, 0x00, 0x00, 0x00, 0x0d, 0x49, 0x48,
        0x44, 0x52, 0x00, 0x00, 0x00, 0x01, 0x00, 0x00, 0x00, 0x01, 0x08, 0x02, 0x00, 0x00,
        0x00, 0x90, 0x77, 0x53, 0xde, 0x00, 0x00, 0x00, 0x0c, 0x49, 0x44, 0x41, 0x54, 0x78,
        0x9c, 0x63, 0xf8, 0xcf, 0xc0, 0x00, 0x00, 0x03, 0x01, 0x01, 0x00, 0xc9, 0xfe, 0x92,
        0xef, 0x00, 0x00, 0x00, 0x00, 0x49, 0x45, 0x4e, 0x44, 0xae, 0x42, 0x60, 0x82};
    static const unsigned char big_len[12] = {0x00, 0x10, 0, 0, 0, 0, 0, 0, '{', '}', ' ', ' '};
    static const char plain[] = "{\"w\":{\"dtype\":\"F32\",\"shape\":[],\"data_offsets\":[0,4]}}";
    const char *dir = tmpdir_make("mfo");
    char path[4096];
    unsigned char foreign[8 + sizeof plain - 1 + 4] = {sizeof plain - 1};
    clf_model *m;

    (void)state;
    memcpy(foreign + 8, plain, sizeof plain - 1);
    struct { const char *name; const void *data; size_t len; const char *says; } cases[] = {
        {"pic.png", png, sizeof png, "not a safetensors file"},
        {"notes.txt", "just some text\n", 15, "not a safetensors file"},
        {"empty.safetensors", "", 0, "0 bytes is too short"},
        {"big.safetensors", big_len, sizeof big_len, "header length of 4096 bytes"},
        {"foreign.safetensors", foreign, sizeof foreign, "not one clfit wrote"},
        {"model.json", "{\"format\": \"layers-model\", \"modelTopology\": {}}", 47,
         "it is JSON, like a TF.js/Keras model.json"},
        {"tiny.json", " {}\n", 4, "used with 'train --base'"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        tmpdir_path(path, sizeof path, dir, cases[i].name);
        assert_int_equal(tmpdir_write(path, cases[i].data, cases[i].len), 0);
        logcap_begin();
        assert_int_equal(clf_model_load(path, &m, NULL), CLF_ERR_FORMAT);
        assert_null(m);
        if (!LOGCAP_HAS(path, cases[i].says))
            fail_msg("%s: message lacks '%s':\n%s", cases[i].name, cases[i].says,
                     logcap_text());
        logcap_end();
    }
    tmpdir_path(path, sizeof path, dir, "absent.safetensors");
    logcap_begin();
    assert_int_equal(clf_model_load(path, &m, NULL), CLF_ERR_IO);
    assert_true(LOGCAP_HAS(path, "cannot open"));
    logcap_end();
    tmpdir_remove(dir);
}

/* ---- the independent reader ---- */

/* Sum of the float bits as unsigned words mod 2^64, and of the values. */
static void checksums(const float *v, size_t n, uint64_t *bits, double *sum)
{
    *bits = 0;
    *sum = 0;
    for (size_t i = 0; i < n; i++) {
        uint32_t u;

        memcpy(&u, &v[i], 4);
        *bits += u;
        *sum += v[i];
    }
}

/* The line the script printed for tensor ti, checked against m's values. */
static void check_reader_line(const char *out, clf_model *m, size_t k)
{
    clf_tensor_info ti;
    char head[256], *line;
    unsigned long long bits;
    uint64_t want_bits;
    double sum, want_sum;
    float *v;

    assert_int_equal(clf_model_tensor_info(m, k, &ti), CLF_OK);
    snprintf(head, sizeof head, "\ntensor %s F32 %d", ti.name, ti.shape[0]);
    for (int i = 1; i < ti.rank; i++)
        snprintf(head + strlen(head), sizeof head - strlen(head), ",%d", ti.shape[i]);
    strcat(head, " bits=");
    line = strstr(out, head);
    if (!line)
        fail_msg("reader output lacks '%s':\n%s", head + 1, out);
    assert_int_equal(sscanf(line + strlen(head), "%llu sum=%lf", &bits, &sum), 2);

    v = malloc(ti.count * sizeof *v);
    assert_int_equal(clf_model_tensor_read(m, k, v, ti.count), CLF_OK);
    checksums(v, ti.count, &want_bits, &want_sum);
    assert_true(bits == want_bits);
    /* numpy sums pairwise, this loop in order: both within 1e-12 of the
     * sum of |v| (at most 60 values of magnitude <= 1 here) */
    assert_true(fabs(sum - want_sum) <= 1e-12 * ti.count);
    free(v);
}

static void test_python_reader(void **state)
{
    const char *dir = tmpdir_make("mfpy");
    char path[4096], cmd[8192], out[16384];
    size_t used = 0, n;
    clf_model *m = frozen_model();
    FILE *p;

    (void)state;
    if (access("/usr/bin/python3", X_OK) != 0) {
        tmpdir_remove(dir);
        clf_model_free(m);
        skip(); /* the script needs Debian's python3 with numpy */
    }
    tmpdir_path(path, sizeof path, dir, "m.safetensors");
    assert_int_equal(clf_model_save(m, path, names3, CLF_PREPROCESS_UNIT, NULL), CLF_OK);
    snprintf(cmd, sizeof cmd, "/usr/bin/python3 %s/tools/ref/read_safetensors.py '%s' 2>&1",
             CLFIT_SOURCE_DIR, path);
    p = popen(cmd, "r");
    assert_non_null(p);
    while ((n = fread(out + used, 1, sizeof out - 1 - used, p)) > 0)
        used += n;
    out[used] = 0;
    assert_int_equal(pclose(p), 0);

    assert_non_null(strstr(out, "aligned"));
    assert_null(strstr(out, "unaligned"));
    assert_non_null(strstr(out, "metadata clfit.class_names "
                                "\"[\\\"boot\\\",\\\"coat\\\",\\\"T-shirt/top\\\"]\""));
    assert_non_null(strstr(out, "metadata clfit.format \"model\""));
    for (size_t k = 0; k < clf_model_tensor_count(m); k++)
        check_reader_line(out, m, k);
    clf_model_free(m);
    tmpdir_remove(dir);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_save_load_linear),
        cmocka_unit_test(test_save_load_frozen),
        cmocka_unit_test(test_predictions_survive),
        cmocka_unit_test(test_split_record),
        cmocka_unit_test(test_bad_split_record),
        cmocka_unit_test(test_shapes_differ_from_config),
        cmocka_unit_test(test_missing_and_extra_tensors),
        cmocka_unit_test(test_bad_metadata),
        cmocka_unit_test(test_version_below_one),
        cmocka_unit_test(test_non_finite_values),
        cmocka_unit_test(test_truncated_at_every_byte),
        cmocka_unit_test(test_flipped_header_bytes),
        cmocka_unit_test(test_other_files),
        cmocka_unit_test(test_python_reader),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
