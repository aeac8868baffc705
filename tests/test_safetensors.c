/* The safetensors container: byte layout of what clfit writes (checked
 * against the published format by hand), reading files built here byte
 * by byte, and every kind of damage the reader must refuse with a message
 * naming the file and the tensor. */
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include <cmocka.h>

#include "io/atomic_file.h"
#include "io/safetensors.h"
#include "support/logcap.h"
#include "support/tmpdir.h"

/* A file assembled by hand: 8-byte length, header text as given (no
 * padding), then `data`. The independent writer the reader is tested on. */
static unsigned char *hand_file(const char *header, const void *data, size_t data_len,
                                size_t *len)
{
    size_t h = strlen(header);
    unsigned char *b = malloc(8 + h + data_len);

    assert_non_null(b);
    for (int i = 0; i < 8; i++)
        b[i] = (unsigned char)((uint64_t)h >> (8 * i));
    memcpy(b + 8, header, h);
    if (data_len)
        memcpy(b + 8 + h, data, data_len);
    *len = 8 + h + data_len;
    return b;
}

/* Parses a hand-made file that must be refused; checks the status and
 * that the log holds every given string. */
static void expect_refused(const char *header, const void *data, size_t data_len,
                           const char *must1, const char *must2)
{
    size_t len;
    unsigned char *b = hand_file(header, data, data_len, &len);
    clf_st_file f;

    logcap_begin();
    assert_int_equal(clf_st_parse(b, len, "bad.safetensors", &f), CLF_ERR_FORMAT);
    if (!LOGCAP_HAS("bad.safetensors", must1, must2 ? must2 : must1))
        fail_msg("message lacks '%s' / '%s':\n%s", must1, must2 ? must2 : "",
                 logcap_text());
    logcap_end();
    assert_null(f.tensors);
    free(b);
}

/* Two tensors and metadata, written by clfit. */
static void make_writer(clf_st_writer *w)
{
    static const float a[6] = {1, -2, 3.5f, 0, 1e-30f, 6};
    static const float s[1] = {42};
    const int sa[2] = {2, 3};

    clf_st_writer_init(w);
    assert_int_equal(clf_st_writer_meta(w, "note", "hello"), CLF_OK);
    /* added out of name order: the file lists them sorted */
    assert_int_equal(clf_st_writer_copy_f32(w, "z/kernel", 2, sa, a), CLF_OK);
    assert_int_equal(clf_st_writer_copy_f32(w, "a/scalar", 0, NULL, s), CLF_OK);
}

/* The layout of a written file, byte by byte. Data: a/scalar (4 bytes) at
 * [0, 4), z/kernel (6 floats, 24 bytes) at [4, 28); 28 bytes in all. */
static void test_written_layout(void **state)
{
    clf_st_writer w;
    unsigned char *b;
    size_t len, n = 0;
    float v;

    (void)state;
    make_writer(&w);
    assert_int_equal(clf_st_writer_serialize(&w, false, &b, &len), CLF_OK);
    for (int i = 7; i >= 0; i--)
        n = n << 8 | b[i];
    assert_int_equal(n % 8, 0);               /* padded like the reference */
    assert_int_equal(len, 8 + n + 28);
    assert_int_equal(b[8], '{');
    assert_true(memchr(b + 8, '}', n) != NULL);
    assert_true(b[8 + n - 1] == ' ' || b[8 + n - 1] == '}');
    assert_non_null(strstr((char *)b + 8, "\"__metadata__\":{\"note\":\"hello\"}"));
    assert_non_null(strstr((char *)b + 8, "\"a/scalar\":{\"dtype\":\"F32\",\"shape\":[],"
                                          "\"data_offsets\":[0,4]}"));
    assert_non_null(strstr((char *)b + 8, "\"z/kernel\":{\"dtype\":\"F32\",\"shape\":[2,3],"
                                          "\"data_offsets\":[4,28]}"));
    memcpy(&v, b + 8 + n, 4);                 /* little-endian host */
    assert_true(v == 42.0f);
    memcpy(&v, b + 8 + n + 4 + 2 * 4, 4);     /* z/kernel[2] */
    assert_true(v == 3.5f);
    free(b);
    clf_st_writer_free(&w);
}

/* Write, read back: same names, shapes, bits, metadata; CRC holds. */
static void test_round_trip(void **state)
{
    clf_st_writer w;
    clf_st_file f;
    unsigned char *b;
    size_t len;
    float got[6];
    const clf_st_tensor *t;

    (void)state;
    make_writer(&w);
    assert_int_equal(clf_st_writer_serialize(&w, true, &b, &len), CLF_OK);
    assert_int_equal(clf_st_parse(b, len, "rt", &f), CLF_OK);
    assert_int_equal(f.n, 2);
    assert_string_equal(clf_st_meta(&f, "note"), "hello");
    assert_non_null(clf_st_meta(&f, CLF_ST_CRC_KEY));
    assert_int_equal(clf_st_check_crc(&f), CLF_OK);

    t = clf_st_find(&f, "z/kernel");
    assert_non_null(t);
    assert_int_equal(t->rank, 2);
    assert_int_equal(t->shape[0], 2);
    assert_int_equal(t->shape[1], 3);
    assert_int_equal(clf_st_get_f32(&f, t, got, 6), CLF_OK);
    assert_memory_equal(got, w.entries[1].data, sizeof got);
    t = clf_st_find(&f, "a/scalar");
    assert_int_equal(t->rank, 0);
    assert_int_equal(t->count, 1);

    /* the wrong count is refused, naming the tensor */
    logcap_begin();
    assert_int_equal(clf_st_get_f32(&f, t, got, 2), CLF_ERR_FORMAT);
    assert_true(LOGCAP_HAS("rt", "a/scalar", "expected F32 with 2"));
    logcap_end();
    clf_st_free(&f);
    free(b);
    clf_st_writer_free(&w);
}

/* A file another writer made: unpadded header, other dtypes, a zero-size
 * tensor, no metadata. Offsets: x F32 [2] at [0, 8), e F32 [0, 3] at
 * [8, 8), y U8 [3] at [8, 11). */
static void test_foreign_file(void **state)
{
    const char *hdr = "{\"y\":{\"dtype\":\"U8\",\"shape\":[3],\"data_offsets\":[8,11]},"
                      "\"e\":{\"dtype\":\"F32\",\"shape\":[0,3],\"data_offsets\":[8,8]},"
                      "\"x\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[0,8]}}  ";
    unsigned char data[11] = {0, 0, 0x80, 0x3f, 0, 0, 0, 0xc0, 1, 2, 3}; /* 1.0f, -2.0f */
    size_t len;
    unsigned char *b = hand_file(hdr, data, sizeof data, &len);
    clf_st_file f;
    float x[2];

    (void)state;
    assert_int_equal(clf_st_parse(b, len, "foreign", &f), CLF_OK);
    assert_int_equal(f.n, 3);
    assert_null(f.meta);
    assert_int_equal(clf_st_get_f32(&f, clf_st_find(&f, "x"), x, 2), CLF_OK);
    assert_true(x[0] == 1.0f && x[1] == -2.0f);
    assert_int_equal(clf_st_find(&f, "e")->count, 0);
    assert_int_equal(clf_st_find(&f, "y")->dtype, CLF_ST_U8);

    logcap_begin();
    assert_int_equal(clf_st_check_crc(&f), CLF_ERR_FORMAT);   /* not clfit's */
    assert_true(LOGCAP_HAS("foreign", CLF_ST_CRC_KEY));
    assert_int_equal(clf_st_get_f32(&f, clf_st_find(&f, "y"), x, 3), CLF_ERR_FORMAT);
    assert_true(LOGCAP_HAS("'y' is U8"));
    logcap_end();
    clf_st_free(&f);
    free(b);
}

static void test_refused_headers(void **state)
{
    const float one = 1.0f, nan = NAN, inf[2] = {0, -INFINITY};

    (void)state;
    expect_refused("[]", NULL, 0, "must be a JSON object starting with '{'", NULL);
    expect_refused("{\"x\":", NULL, 0, "not one valid JSON object", NULL);
    expect_refused("{} x", NULL, 0, "not one valid JSON object", NULL);
    expect_refused("{\"\xc3\x28\":1}", NULL, 0, "not valid UTF-8 at byte 10", NULL);
    expect_refused("{\"t\":{\"dtype\":\"F33\",\"shape\":[1],\"data_offsets\":[0,4]}}", &one, 4,
                   "'t'", "\"dtype\" must be one of");
    expect_refused("{\"t\":{\"dtype\":\"F32\",\"shape\":[1.5],\"data_offsets\":[0,4]}}", &one,
                   4, "'t'", "whole number");
    expect_refused("{\"t\":{\"dtype\":\"F32\",\"shape\":[-1],\"data_offsets\":[0,4]}}", &one, 4,
                   "'t'", "whole number");
    /* 2^26 cubed = 2^78 elements: the product overflows size_t */
    expect_refused("{\"t\":{\"dtype\":\"F32\",\"shape\":[67108864,67108864,67108864],"
                   "\"data_offsets\":[0,4]}}", &one, 4, "'t'", "overflows");
    expect_refused("{\"t\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[0,4]}}", &one, 4,
                   "'t'", "a F32 tensor of 2 values takes 8");
    expect_refused("{\"t\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[4,8]}}", &inf, 8,
                   "'t' starts at data offset 4", "end at 0");
    expect_refused("{\"t\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[0,4]}}", &inf, 8,
                   "take 4 bytes of data", "holds 8");
    expect_refused("{\"t\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[0,4]},"
                   "\"u\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[2,6]}}", &inf, 8,
                   "'u' starts at data offset 2", "end at 4");
    expect_refused("{\"t\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[0,4]},"
                   "\"t\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[4,8]}}", &inf, 8,
                   "'t'", "appears twice");
    expect_refused("{\"__metadata__\":{\"k\":1}}", NULL, 0, "'k' is not a string", NULL);
    expect_refused("{\"t\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[0,4]}}", &nan, 4,
                   "'t': value 0 is NaN", NULL);
    expect_refused("{\"t\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[0,8]}}", inf, 8,
                   "'t': value 1 is infinite", NULL);
}

/* UTF-8 as the reference checks it (Rust's str::from_utf8): overlong
 * forms, surrogates and code points past U+10FFFF are refused, naming the
 * byte (8 for the length field + 1 for '{' + 1 for '"' = byte 10). */
static void test_utf8_header(void **state)
{
    static const char *const bad[] = {
        "{\"\xc0\x80\":1}",          /* overlong NUL */
        "{\"\xe0\x80\xaf\":1}",      /* overlong '/' */
        "{\"\xed\xa0\x80\":1}",      /* surrogate U+D800 */
        "{\"\xf4\x90\x80\x80\":1}",  /* U+110000 */
        "{\"\x80\":1}",              /* a lone continuation byte */
        "{\"\xe2\x82\":1}",          /* cut short by the quote */
    };
    const char *ok = "{\"\xf0\x9f\x98\x80 \xc3\xa9\":{\"dtype\":\"U8\",\"shape\":[0],"
                     "\"data_offsets\":[0,0]}}";
    size_t len;
    unsigned char *b;
    clf_st_file f;

    (void)state;
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
        expect_refused(bad[i], NULL, 0, "not valid UTF-8 at byte 10", NULL);
    b = hand_file(ok, NULL, 0, &len);
    assert_int_equal(clf_st_parse(b, len, "emoji", &f), CLF_OK);
    assert_string_equal(f.tensors[0].name, "\xf0\x9f\x98\x80 \xc3\xa9");
    clf_st_free(&f);
    free(b);
}

/* Files that are not safetensors at all. */
static void test_other_formats(void **state)
{
    static const unsigned char png[16] = {0x89, 'P', 'N', 'G', '\r', '\n', 0x1a, '\n',
                                          0, 0, 0, 13, 'I', 'H', 'D', 'R'};
    static const char text[] = "epoch,accuracy,loss\n0,0.5,1.2\n";
    static const unsigned char small_len[12] = {2, 0, 0, 0, 0, 0, 0, 0, 'x', 'y', 'z', 'w'};
    clf_st_file f;

    (void)state;
    logcap_begin();
    assert_int_equal(clf_st_parse(png, sizeof png, "pic.png", &f), CLF_ERR_FORMAT);
    assert_true(LOGCAP_HAS("pic.png", "not a safetensors file", "only 8 bytes follow"));
    assert_int_equal(clf_st_parse(text, strlen(text), "log.csv", &f), CLF_ERR_FORMAT);
    assert_true(LOGCAP_HAS("log.csv", "not a safetensors file"));
    assert_int_equal(clf_st_parse("", 0, "empty", &f), CLF_ERR_FORMAT);
    assert_true(LOGCAP_HAS("empty: 0 bytes is too short"));
    assert_int_equal(clf_st_parse(small_len, sizeof small_len, "two", &f), CLF_ERR_FORMAT);
    assert_true(LOGCAP_HAS("two", "starting with '{'"));
    logcap_end();
}

/* Cut after every byte: always refused, never read past the end. */
static void test_truncated_everywhere(void **state)
{
    clf_st_writer w;
    clf_st_file f;
    unsigned char *b, *cut;
    size_t len;

    (void)state;
    make_writer(&w);
    assert_int_equal(clf_st_writer_serialize(&w, true, &b, &len), CLF_OK);
    logcap_begin();
    for (size_t k = 0; k < len; k++) {
        cut = malloc(k + 1); /* exactly k bytes visible to the reader */
        memcpy(cut, b, k);
        assert_int_equal(clf_st_parse(cut, k, "cut", &f), CLF_ERR_FORMAT);
        free(cut);
    }
    logcap_end();
    free(b);
    clf_st_writer_free(&w);
}

/* A changed data byte keeps the file well-formed; the CRC catches it. */
static void test_crc_catches_data_change(void **state)
{
    clf_st_writer w;
    clf_st_file f;
    unsigned char *b;
    size_t len;

    (void)state;
    make_writer(&w);
    assert_int_equal(clf_st_writer_serialize(&w, true, &b, &len), CLF_OK);
    b[len - 4] ^= 0x01; /* lowest mantissa byte of z/kernel[5] = 6.0f */
    assert_int_equal(clf_st_parse(b, len, "flip", &f), CLF_OK);
    logcap_begin();
    assert_int_equal(clf_st_check_crc(&f), CLF_ERR_FORMAT);
    assert_true(LOGCAP_HAS("flip", "checksum mismatch"));
    logcap_end();
    clf_st_free(&f);
    free(b);
    clf_st_writer_free(&w);
}

static void test_writer_refusals(void **state)
{
    clf_st_writer w;
    const int shape[1] = {1};
    const float v = 1;
    unsigned char *b;
    size_t len;

    (void)state;
    clf_st_writer_init(&w);
    logcap_begin();
    assert_int_equal(clf_st_writer_meta(&w, "__x", "y"), CLF_ERR_ARG);
    assert_int_equal(clf_st_writer_copy_f32(&w, "t", 1, shape, &v), CLF_ERR_ARG); /* sticky */
    assert_int_equal(clf_st_writer_serialize(&w, true, &b, &len), CLF_ERR_ARG);
    clf_st_writer_free(&w);

    clf_st_writer_init(&w);
    assert_int_equal(clf_st_writer_copy_f32(&w, "t", 1, shape, &v), CLF_OK);
    assert_int_equal(clf_st_writer_copy_f32(&w, "t", 1, shape, &v), CLF_ERR_ARG);
    assert_true(LOGCAP_HAS("'t' added twice"));
    clf_st_writer_free(&w);

    /* a Latin-1 class name: the reader would refuse the file, so no file */
    clf_st_writer_init(&w);
    assert_int_equal(clf_st_writer_meta(&w, "names", "[\"caf\xe9\"]"), CLF_OK);
    assert_int_equal(clf_st_writer_serialize(&w, true, &b, &len), CLF_ERR_ARG);
    assert_true(LOGCAP_HAS("not UTF-8 text", "it is not written"));
    logcap_end();
    clf_st_writer_free(&w);
}

/* Saving replaces the file in one step; failures leave no temp files. */
static void test_atomic_save(void **state)
{
    const char *dir = tmpdir_make("st");
    char path[4096], sub[4096];
    clf_st_writer w;
    clf_st_file f;

    (void)state;
    assert_non_null(dir);
    tmpdir_path(path, sizeof path, dir, "a.safetensors");
    assert_int_equal(tmpdir_write(path, "old", 3), 0);
    make_writer(&w);
    assert_int_equal(clf_st_writer_save(&w, path), CLF_OK);
    assert_int_equal(clf_st_read(path, &f), CLF_OK);
    assert_int_equal(clf_st_check_crc(&f), CLF_OK);
    clf_st_free(&f);
    assert_int_equal(tmpdir_count(dir, ".tmp"), 0);

    /* the target is a folder: refused before the rename, the temp file goes */
    tmpdir_path(sub, sizeof sub, dir, "folder");
    assert_int_equal(mkdir(sub, 0755), 0);
    logcap_begin();
    assert_int_equal(clf_st_writer_save(&w, sub), CLF_ERR_IO);
    assert_true(LOGCAP_HAS("folder: is a folder", "give the path of a regular file"));
    tmpdir_path(sub, sizeof sub, dir, "missing/a.safetensors");
    assert_int_equal(clf_st_writer_save(&w, sub), CLF_ERR_IO);
    assert_true(LOGCAP_HAS("missing/a.safetensors: cannot create", "folder exists"));
    logcap_end();
    assert_int_equal(tmpdir_count(dir, ".tmp"), 0);
    clf_st_writer_free(&w);
    tmpdir_remove(dir);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_written_layout),
        cmocka_unit_test(test_round_trip),
        cmocka_unit_test(test_foreign_file),
        cmocka_unit_test(test_refused_headers),
        cmocka_unit_test(test_utf8_header),
        cmocka_unit_test(test_other_formats),
        cmocka_unit_test(test_truncated_everywhere),
        cmocka_unit_test(test_crc_catches_data_change),
        cmocka_unit_test(test_writer_refusals),
        cmocka_unit_test(test_atomic_save),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
