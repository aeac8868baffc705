/* Damaged JPEGs: which libjpeg warnings refuse a file and which do not.
 *
 * The rule (host/data/image_jpeg_check.c): a file whose pixel data is
 * missing is refused; one whose every pixel was decoded is kept even when
 * libjpeg warned. The inputs are made here from tests/fixtures/images and
 * from a JPEG written with libjpeg's compressor (restart markers), so each
 * damage is exactly known. What PIL 9.4 does with the same bytes is noted
 * per case (checked once with /usr/bin/python3 and Image.open().load()). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <jpeglib.h>

#include "data/image.h"
#include "test_data_util.h"

/* Offset of the first marker FF `code` after SOI, walking the segments. */
static size_t marker_at(const uint8_t *d, size_t len, uint8_t code)
{
    size_t off = 2;

    while (off + 4 <= len && d[off] == 0xFF) {
        if (d[off + 1] == code)
            return off;
        off += 2 + ((size_t)d[off + 2] << 8 | d[off + 3]);
    }
    fail_msg("marker FF %02X not found", code);
    return 0;
}

/* A copy of d[0..at) + `ins` (n bytes) + d[at..len) + `tail` (m bytes). */
static uint8_t *splice(const uint8_t *d, size_t len, size_t at, const void *ins, size_t n,
                       size_t keep, const void *tail, size_t m, size_t *out_len)
{
    uint8_t *o = malloc(len + n + m);

    assert_non_null(o);
    assert_true(keep <= len && at <= keep);
    memcpy(o, d, at);
    memcpy(o + at, ins, n);
    memcpy(o + at + n, d + at, keep - at);
    if (m)
        memcpy(o + n + keep, tail, m);
    *out_len = n + keep + m;
    return o;
}

static clf_status decode(const uint8_t *d, size_t len, clf_image *im, char *why)
{
    why[0] = '\0';
    return clf_image_decode(d, len, "t.jpg", im, why, CLF_WHY_SIZE);
}

static void expect_refused(const uint8_t *d, size_t len, const char *reason)
{
    char why[CLF_WHY_SIZE];
    clf_image im;

    assert_int_equal(decode(d, len, &im, why), CLF_ERR_IMAGE);
    assert_null(im.rgb);
    if (!strstr(why, reason))
        fail_msg("reason '%s' does not mention '%s'", why, reason);
}

/* Three stray bytes between the tables and the scan: libjpeg warns
 * "Corrupt JPEG data: 3 extraneous bytes before marker 0xda" and decodes
 * every pixel. Kept, with exactly the clean file's pixels (PIL: loads,
 * same pixels). Common in scraped datasets. */
static void extraneous_bytes_kept(void **state)
{
    static const uint8_t junk[3] = {1, 2, 3};
    size_t len, n;
    uint8_t *d = fixture("quads.jpg", &len), *bad;
    char why[CLF_WHY_SIZE];
    clf_image clean, im;

    (void)state;
    assert_int_equal(decode(d, len, &clean, why), CLF_OK);
    bad = splice(d, len, marker_at(d, len, 0xDA), junk, 3, len, NULL, 0, &n);
    if (decode(bad, n, &im, why) != CLF_OK)
        fail_msg("extraneous bytes refused: %s", why);
    assert_int_equal(im.w, clean.w);
    assert_int_equal(im.h, clean.h);
    assert_memory_equal(im.rgb, clean.rgb, (size_t)im.w * im.h * 3);
    clf_image_free(&im);
    clf_image_free(&clean);
    free(bad);
    free(d);
}

/* The same stray bytes, then the file cut in the middle of its scan. The
 * first warning is the harmless one; the cut must still be found (PIL:
 * "Truncated File Read"). With an EOI marker appended after the cut the
 * scan ends early on a marker instead ("premature end of data segment";
 * PIL: refused as well). */
static void extraneous_then_cut_refused(void **state)
{
    static const uint8_t junk[3] = {1, 2, 3}, eoi[2] = {0xFF, 0xD9};
    size_t len, n, sos;
    uint8_t *d = fixture("noise.jpg", &len), *bad;

    (void)state;
    sos = marker_at(d, len, 0xDA);
    bad = splice(d, len, sos, junk, 3, sos + (len - sos) / 2, NULL, 0, &n);
    expect_refused(bad, n, "Premature end of JPEG file");
    free(bad);
    bad = splice(d, len, sos, junk, 3, sos + (len - sos) / 2, eoi, 2, &n);
    expect_refused(bad, n, "premature end of data segment");
    free(bad);
    free(d);
}

/* Cut before its frame header: TurboJPEG 2.1's header call then reports
 * success without setting the size (clfit read an uninitialised width
 * before; found while checking the CLI's messages). Refused with
 * libjpeg's reason, not as a "0 x 0 image". */
static void cut_before_frame_header(void **state)
{
    size_t len;
    uint8_t *d = fixture("noise.jpg", &len);

    (void)state;
    expect_refused(d, marker_at(d, len, 0xC0), "JPEG header failed: Premature end");
    expect_refused(d, 100, "JPEG header failed: Premature end");
    free(d);
}

/* ---- a JPEG with restart markers, written by libjpeg ---- */

enum { RW = 64, RH = 64 };

/* Noise, compressed with a restart marker after every MCU row. */
static uint8_t *restart_jpeg(unsigned long *len)
{
    struct jpeg_compress_struct c;
    struct jpeg_error_mgr err;
    unsigned char *out = NULL;
    uint8_t row[RW * 3];
    uint32_t x = 12345;

    c.err = jpeg_std_error(&err);
    jpeg_create_compress(&c);
    jpeg_mem_dest(&c, &out, len);
    c.image_width = RW;
    c.image_height = RH;
    c.input_components = 3;
    c.in_color_space = JCS_RGB;
    jpeg_set_defaults(&c);
    c.restart_in_rows = 1;
    jpeg_start_compress(&c, TRUE);
    while (c.next_scanline < RH) {
        JSAMPROW r = row;

        for (int i = 0; i < RW * 3; i++) {
            x = x * 1103515245u + 12345u;
            row[i] = (uint8_t)(x >> 24);
        }
        jpeg_write_scanlines(&c, &r, 1);
    }
    jpeg_finish_compress(&c);
    jpeg_destroy_compress(&c);
    return out;
}

/* Offset of the n-th RSTm marker (FF D0..D7) in the scan data. */
static size_t rst_at(const uint8_t *d, size_t len, int n)
{
    for (size_t i = marker_at(d, len, 0xDA); i + 1 < len; i++)
        if (d[i] == 0xFF && d[i + 1] >= 0xD0 && d[i + 1] <= 0xD7 && n-- == 0)
            return i;
    fail_msg("restart marker not found");
    return 0;
}

/* Intact, it decodes. With one restart segment's data removed, libjpeg
 * meets RST2 where it expects RST1, warns "found marker 0xd2 instead of
 * RST1" and fills the lost rows: refused. */
static void restart_segment_lost_refused(void **state)
{
    unsigned long ulen = 0;
    uint8_t *d = restart_jpeg(&ulen), *bad;
    size_t len = ulen, a, b;
    char why[CLF_WHY_SIZE];
    clf_image im;

    (void)state;
    if (decode(d, len, &im, why) != CLF_OK)
        fail_msg("intact restart JPEG refused: %s", why);
    assert_int_equal(im.w, RW);
    clf_image_free(&im);

    a = rst_at(d, len, 0) + 2; /* the data after RST0 ... */
    b = rst_at(d, len, 1) + 2; /* ... through RST1 goes */
    bad = malloc(len);
    assert_non_null(bad);
    memcpy(bad, d, a);
    memcpy(bad + a, d + b, len - b);
    expect_refused(bad, len - (b - a), "instead of RST");
    free(bad);
    free(d);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(extraneous_bytes_kept),
        cmocka_unit_test(extraneous_then_cut_refused),
        cmocka_unit_test(cut_before_frame_header),
        cmocka_unit_test(restart_segment_lost_refused),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
