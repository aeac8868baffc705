/* Decoding one image: every format and the bad inputs of issue 5's table.
 *
 * Fixtures come from tools/make_image_fixtures.py; the pixel values below
 * are the ones that script writes (stated here by hand, and checked there
 * by reading each file back with PIL). Truncated and oversized variants
 * are derived here from those files. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <zlib.h>

#include "data/image.h"
#include "test_data_util.h"

/* The 4 x 3 pattern of the lossless fixtures (make_image_fixtures.RGB). */
static const uint8_t RGB[3][4][3] = {
    {{255, 0, 0}, {0, 255, 0}, {0, 0, 255}, {255, 255, 255}},
    {{0, 0, 0}, {128, 64, 32}, {10, 200, 90}, {250, 5, 130}},
    {{1, 2, 3}, {100, 100, 100}, {200, 150, 50}, {33, 66, 99}},
};
static const uint8_t GREY[3][4] = {{0, 50, 100, 150}, {200, 250, 7, 77}, {177, 255, 1, 128}};

/* Decodes fixture `name`; fails the test with the reason if it does not. */
static clf_image decode_fixture(const char *name)
{
    char why[CLF_WHY_SIZE] = "";
    size_t len = 0;
    unsigned char *d = fixture(name, &len);
    clf_image im;
    clf_status st;

    if (!d)
        fail_msg("fixture %s missing: run tools/make_image_fixtures.py", name);
    st = clf_image_decode(d, len, name, &im, why, sizeof why);
    free(d);
    if (st != CLF_OK)
        fail_msg("%s: %s", name, why);
    return im;
}

/* Decoding must fail; returns the reason for the caller to check. */
static void expect_reject(const uint8_t *d, size_t len, const char *name, const char *reason)
{
    char why[CLF_WHY_SIZE] = "";
    clf_image im;

    assert_int_equal(clf_image_decode(d, len, name, &im, why, sizeof why), CLF_ERR_IMAGE);
    assert_null(im.rgb);
    if (!strstr(why, reason))
        fail_msg("%s: reason '%s' does not mention '%s'", name, why, reason);
}

static void expect_pixel(const clf_image *im, int x, int y, int r, int g, int b, int tol)
{
    const uint8_t *p = im->rgb + ((size_t)y * im->w + x) * 3;

    if (abs(p[0] - r) > tol || abs(p[1] - g) > tol || abs(p[2] - b) > tol)
        fail_msg("pixel (%d,%d) = (%d,%d,%d), want (%d,%d,%d) +- %d", x, y, p[0], p[1], p[2],
                 r, g, b, tol);
}

static void put_le(uint8_t *p, uint32_t v, int bytes)
{
    for (int i = 0; i < bytes; i++)
        p[i] = (uint8_t)(v >> (8 * i));
}

/* im is the 4 x 3 RGB pattern of the fixtures; freed here. */
static void expect_rgb_image(clf_image *im)
{
    assert_int_equal(im->w, 4);
    assert_int_equal(im->h, 3);
    for (int y = 0; y < 3; y++)
        for (int x = 0; x < 4; x++)
            expect_pixel(im, x, y, RGB[y][x][0], RGB[y][x][1], RGB[y][x][2], 0);
    clf_image_free(im);
}

static void expect_rgb_pattern(const char *name)
{
    clf_image im = decode_fixture(name);

    expect_rgb_image(&im);
}

static void expect_grey_pattern(const char *name)
{
    clf_image im = decode_fixture(name);

    assert_int_equal(im.w, 4);
    assert_int_equal(im.h, 3);
    for (int y = 0; y < 3; y++)
        for (int x = 0; x < 4; x++)
            expect_pixel(&im, x, y, GREY[y][x], GREY[y][x], GREY[y][x], 0);
    clf_image_free(&im);
}

/* ---- PNG ------------------------------------------------------------------ */

static void png_rgb(void **state)
{
    (void)state;
    expect_rgb_pattern("rgb.png");
}

static void png_grey(void **state)
{
    (void)state;
    expect_grey_pattern("grey.png");
}

/* Alpha is dropped, not composited: pixel (1,0) has alpha 0 and keeps its
 * grey 50; (2,0) has alpha 128 and keeps 100. */
static void png_grey_alpha(void **state)
{
    (void)state;
    expect_grey_pattern("grey_alpha.png");
}

static void png_rgba(void **state)
{
    (void)state;
    expect_rgb_pattern("rgba.png");
}

/* Palette with a tRNS chunk: the palette colours come out. */
static void png_palette(void **state)
{
    (void)state;
    expect_rgb_pattern("palette.png");
}

/* 16-bit samples v = 257 * k + d (|d| < 128) become k = round(v / 257):
 * 0x0000 -> 0, 0xFFFF -> 255, 0x1234 = 4660 -> 18 (4660/257 = 18.13),
 * 0xABCD = 43981 -> 171 (171.13), 0x6400 = 25600 -> 100 (99.61),
 * 0x3232 = 12850 -> 50, 0x0101 -> 1, 0xFEFE -> 254, 0x8070 = 32880 -> 128
 * (127.94), 0x4000 = 16384 -> 64 (63.75), 0xC0FF = 49407 -> 192 (192.25),
 * 0x00FF = 255 -> 1 (0.99). */
static void png_16bit(void **state)
{
    clf_image im = decode_fixture("rgb16.png");

    (void)state;
    assert_int_equal(im.w, 2);
    assert_int_equal(im.h, 2);
    expect_pixel(&im, 0, 0, 0, 255, 18, 0);
    expect_pixel(&im, 1, 0, 171, 100, 50, 0);
    expect_pixel(&im, 0, 1, 1, 254, 128, 0);
    expect_pixel(&im, 1, 1, 64, 192, 1, 0);
    clf_image_free(&im);

    im = decode_fixture("grey16.png");
    assert_int_equal(im.w, 3);
    expect_pixel(&im, 0, 0, 0, 0, 0, 0);
    expect_pixel(&im, 1, 0, 255, 255, 255, 0);
    expect_pixel(&im, 2, 0, 18, 18, 18, 0);
    expect_pixel(&im, 0, 1, 171, 171, 171, 0);
    expect_pixel(&im, 1, 1, 100, 100, 100, 0);
    expect_pixel(&im, 2, 1, 50, 50, 50, 0);
    clf_image_free(&im);
}

/* Adam7, 9 x 9 so that every pass has pixels; pixel (x, y) is
 * (28x, 28y, (9x + 17y) mod 256) (make_image_fixtures.interlaced_pattern). */
static void png_interlaced(void **state)
{
    clf_image im = decode_fixture("interlaced.png");

    (void)state;
    assert_int_equal(im.w, 9);
    assert_int_equal(im.h, 9);
    for (int y = 0; y < 9; y++)
        for (int x = 0; x < 9; x++)
            expect_pixel(&im, x, y, 28 * x, 28 * y, (9 * x + 17 * y) % 256, 0);
    clf_image_free(&im);
}

static void png_one_pixel(void **state)
{
    clf_image im = decode_fixture("one.png");

    (void)state;
    assert_int_equal(im.w, 1);
    assert_int_equal(im.h, 1);
    expect_pixel(&im, 0, 0, 12, 34, 56, 0);
    clf_image_free(&im);
}

/* A PNG named .jpg decodes as the PNG it is. */
static void png_named_jpg(void **state)
{
    (void)state;
    expect_rgb_pattern("png_named.jpg");
}

/* ---- JPEG ------------------------------------------------------------------ */

/* 16 x 16 files with four solid 8 x 8 quadrants; quadrant i covers
 * x in [8 (i % 2), +8), y in [8 (i / 2), +8). Lossy: within 3 levels. */
static void expect_quads(const char *name, const int want[4][3])
{
    clf_image im = decode_fixture(name);

    assert_int_equal(im.w, 16);
    assert_int_equal(im.h, 16);
    for (int y = 0; y < 16; y++)
        for (int x = 0; x < 16; x++) {
            const int *c = want[(y / 8) * 2 + x / 8];

            expect_pixel(&im, x, y, c[0], c[1], c[2], 3);
        }
    clf_image_free(&im);
}

static const int QUADS[4][3] = {{200, 30, 30}, {30, 200, 30}, {30, 30, 200}, {128, 128, 128}};

static void jpeg_baseline(void **state)
{
    (void)state;
    expect_quads("quads.jpg", QUADS);
}

static void jpeg_progressive(void **state)
{
    (void)state;
    expect_quads("quads_progressive.jpg", QUADS);
}

static void jpeg_grey(void **state)
{
    static const int want[4][3] = {{50, 50, 50}, {100, 100, 100}, {150, 150, 150},
                                   {200, 200, 200}};

    (void)state;
    expect_quads("grey.jpg", want);
}

/* CMYK quadrants (C, M, Y, K) as PIL converts them, with nk = 255 - K and
 * R = nk - C * nk / 255 (rounded as PIL's MULDIV255):
 *   (0, 0, 0, 0)        -> (255, 255, 255)
 *   (255, 0, 0, 0)      -> (255 - 255, 255, 255) = (0, 255, 255)
 *   (0, 0, 0, 128)      -> nk = 127 -> (127, 127, 127)
 *   (100, 50, 200, 30)  -> nk = 225: 225 - 88, 225 - 44, 225 - 176
 *                        = (137, 181, 49) */
static void jpeg_cmyk(void **state)
{
    static const int want[4][3] = {{255, 255, 255}, {0, 255, 255}, {127, 127, 127},
                                   {137, 181, 49}};

    (void)state;
    expect_quads("cmyk.jpg", want);
}

/* 7 x 5 with 4:2:0 chroma: odd sides need the partial-block path. */
static void jpeg_odd_size(void **state)
{
    clf_image im = decode_fixture("odd.jpg");

    (void)state;
    assert_int_equal(im.w, 7);
    assert_int_equal(im.h, 5);
    for (int y = 0; y < 5; y++)
        for (int x = 0; x < 7; x++)
            expect_pixel(&im, x, y, 90, 160, 220, 3);
    clf_image_free(&im);
}

/* Offset of the first marker 0xFF `code` in a JPEG, walking its segments
 * from SOI; the segment ends at off + 2 + its 16-bit length. */
static size_t find_marker(const uint8_t *d, size_t len, uint8_t code)
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

static size_t segment_end(const uint8_t *d, size_t off)
{
    return off + 2 + ((size_t)d[off + 2] << 8 | d[off + 3]);
}

/* A JPEG cut in the middle of its entropy-coded data: libjpeg warns
 * "Premature end of JPEG file" and would hand back grey rows. */
static void jpeg_truncated(void **state)
{
    size_t len;
    uint8_t *d = fixture("noise.jpg", &len);

    (void)state;
    expect_reject(d, len / 2, "cut.jpg", "JPEG decoding failed");
    free(d);
    d = fixture("noise_progressive.jpg", &len);
    expect_reject(d, len / 2, "cut_progressive.jpg", "JPEG decoding failed");
    free(d);
}

/* Cut mid-data, then an EOI marker appended: "Corrupt JPEG data". */
static void jpeg_cut_then_eoi(void **state)
{
    size_t len;
    uint8_t *d = fixture("noise.jpg", &len);

    (void)state;
    d[len / 2] = 0xFF;
    d[len / 2 + 1] = 0xD9;
    expect_reject(d, len / 2 + 2, "eoi.jpg", "JPEG");
    free(d);
}

/* Ends right after the frame header (SOF0), and right after the scan
 * header (SOS) with no pixel data at all. */
static void jpeg_ends_after_headers(void **state)
{
    size_t len;
    uint8_t *d = fixture("quads.jpg", &len);

    (void)state;
    expect_reject(d, segment_end(d, find_marker(d, len, 0xC0)), "sof.jpg", "JPEG");
    expect_reject(d, segment_end(d, find_marker(d, len, 0xDA)), "sos.jpg",
                  "Premature end of JPEG file");
    free(d);
}

/* ---- stb_image formats ------------------------------------------------------ */

static void bmp_decodes(void **state)
{
    (void)state;
    expect_rgb_pattern("rgb.bmp");
    expect_grey_pattern("grey.bmp"); /* 8-bit palette BMP */
}

/* A top-down BMP (negative height, rows stored first to last) is legal
 * and common from Windows tools: made here from the bottom-up fixture by
 * negating the height and reversing its rows; the pixels must not move. */
static void bmp_top_down(void **state)
{
    char why[CLF_WHY_SIZE] = "";
    size_t len, at, row = 12; /* 4 pixels x 3 bytes, already a multiple of 4 */
    uint8_t *d = fixture("rgb.bmp", &len), *flipped;
    clf_image im;

    (void)state;
    assert_non_null(d);
    at = (size_t)d[10] | (size_t)d[11] << 8; /* the pixel data's offset */
    assert_int_equal(len, at + 3 * row);
    flipped = malloc(len);
    assert_non_null(flipped);
    memcpy(flipped, d, at);
    for (size_t y = 0; y < 3; y++)
        memcpy(flipped + at + y * row, d + at + (2 - y) * row, row);
    put_le(flipped + 22, (uint32_t)-3, 4);
    assert_int_equal(clf_image_decode(flipped, len, "top_down.bmp", &im, why, sizeof why),
                     CLF_OK);
    expect_rgb_image(&im);
    free(flipped);
    free(d);
}

static void tga_decodes(void **state)
{
    (void)state;
    expect_rgb_pattern("rgb.tga");
    expect_rgb_pattern("rgb_rle.tga");
}

static void pnm_decodes(void **state)
{
    (void)state;
    expect_rgb_pattern("rgb.ppm");
    expect_grey_pattern("grey.pgm");
}

/* 16-bit binary PGM (maxval above 255) is refused: Debian's stb_image 2.27
 * reads its samples in the host's byte order (0x1234 came out as 0x34..).
 * The second input is what fuzzing found: a 16-bit PGM that made stb_image
 * read past its buffer when asked for 3 channels. */
static void pgm_16bit_refused(void **state)
{
    static const uint8_t pgm[] = "P5\n2 1\n65535\n\x12\x34\xab\xcd";
    static const uint8_t found[] = "P5\n4 6\n2552d\x96\xc8" "5\xff\x01\x80";

    (void)state;
    expect_reject(pgm, sizeof pgm - 1, "x.pgm", "16-bit PNM (maxval above 255)");
    expect_reject(found, sizeof found - 1, "x.pgm", "16-bit PNM");
}

/* The first frame; the second (all black) must not come out. */
static void gif_first_frame(void **state)
{
    (void)state;
    expect_rgb_pattern("anim.gif");
}

static void pbm_refused(void **state)
{
    size_t len;
    uint8_t *d = fixture("bits.pbm", &len);

    (void)state;
    expect_reject(d, len, "bits.pbm", "only binary PGM/PPM");
    expect_reject((const uint8_t *)"P3\n1 1\n255\n1 2 3\n", 17, "ascii.ppm", "PGM/PPM");
    free(d);
}

/* Each format cut inside its pixel data. stb_image alone would return the
 * missing pixels as zeros; the reader notices the read past the end. */
static void stb_truncated(void **state)
{
    static const struct {
        const char *name;
        size_t keep;
    } cut[] = {
        {"rgb.bmp", 54 + 18},    /* 54-byte header, rows of 12 bytes */
        {"rgb.tga", 18 + 18},    /* 18-byte header, 3 bytes a pixel */
        {"rgb_rle.tga", 18 + 8}, /* inside the run-length packets */
        {"rgb.ppm", 11 + 20},    /* "P6\n4 3\n255\n" then 36 bytes */
        {"anim.gif", 104},       /* inside the first frame's LZW data */
    };

    (void)state;
    for (size_t i = 0; i < sizeof cut / sizeof cut[0]; i++) {
        size_t len;
        uint8_t *d = fixture(cut[i].name, &len);

        assert_true(cut[i].keep < len);
        expect_reject(d, cut[i].keep, cut[i].name, "truncated");
        free(d);
    }
}

/* ---- not images ------------------------------------------------------------- */

static void zero_bytes(void **state)
{
    (void)state;
    expect_reject((const uint8_t *)"", 0, "empty.png", "empty file");
}

static void text_named_png(void **state)
{
    size_t len;
    uint8_t *d = fixture("text.png", &len);

    (void)state;
    expect_reject(d, len, "text.png", "not an image");
    free(d);
}

static void png_truncated(void **state)
{
    size_t len;
    uint8_t *d = fixture("noise.png", &len);

    (void)state;
    expect_reject(d, len / 2, "cut.png", "PNG");
    expect_reject(d, 20, "header_only.png", "PNG"); /* inside IHDR */
    free(d);
}

static void webp_named(void **state)
{
    (void)state;
    expect_reject((const uint8_t *)"RIFF\x10\0\0\0WEBPVP8 ", 16, "x.jpg", "WebP");
}

/* ---- decompression bombs: refused from the header ----------------------------
 * Each file below declares a huge image but holds (almost) no pixel data.
 * The reason must come from the size guard ("refusing to decode"), which
 * shows the decoder was never started: decoding would fail differently. */

static void put_be32(uint8_t *p, uint32_t v)
{
    p[0] = (uint8_t)(v >> 24);
    p[1] = (uint8_t)(v >> 16);
    p[2] = (uint8_t)(v >> 8);
    p[3] = (uint8_t)v;
}

/* Writes a chunk (length, tag, data, CRC over tag and data); its size. */
static size_t png_chunk(uint8_t *out, const char *tag, const uint8_t *data, uint32_t n)
{
    put_be32(out, n);
    memcpy(out + 4, tag, 4);
    if (n)
        memcpy(out + 8, data, n);
    put_be32(out + 8 + n, (uint32_t)crc32(0, out + 4, 4 + n));
    return 12 + n;
}

/* Signature, IHDR (8-bit RGB, w x h), an empty IDAT, IEND: 57 bytes. */
static size_t png_header(uint8_t *out, uint32_t w, uint32_t h)
{
    static const uint8_t sig[8] = {0x89, 'P', 'N', 'G', '\r', '\n', 0x1a, '\n'};
    uint8_t ihdr[13] = {0, 0, 0, 0, 0, 0, 0, 0, 8, 2, 0, 0, 0};
    size_t n = 8;

    memcpy(out, sig, 8);
    put_be32(ihdr, w);
    put_be32(ihdr + 4, h);
    n += png_chunk(out + n, "IHDR", ihdr, 13);
    n += png_chunk(out + n, "IDAT", NULL, 0);
    n += png_chunk(out + n, "IEND", NULL, 0);
    return n;
}

static void bomb_png(void **state)
{
    uint8_t d[64];
    size_t n;

    (void)state;
    n = png_header(d, 100000, 100000); /* a side over 32768 */
    expect_reject(d, n, "bomb.png", "refusing to decode");
    n = png_header(d, 20000, 20000); /* sides fine, 1.2 GB over 256 MiB */
    expect_reject(d, n, "bomb.png", "refusing to decode");
    n = png_header(d, 4, 3); /* control: a sane header fails later */
    expect_reject(d, n, "sane.png", "PNG decoding failed");
}

/* The SOF0 of quads.jpg rewritten: height at +5, width at +7 (big-endian). */
static void bomb_jpeg(void **state)
{
    size_t len, sof;
    uint8_t *d = fixture("quads.jpg", &len);

    (void)state;
    sof = find_marker(d, len, 0xC0);
    d[sof + 5] = d[sof + 7] = 0xFD; /* 0xFDE8 = 65000 */
    d[sof + 6] = d[sof + 8] = 0xE8;
    expect_reject(d, len, "bomb.jpg", "refusing to decode");
    d[sof + 5] = d[sof + 7] = 0x4E; /* 0x4E20 = 20000: 1.2 GB */
    d[sof + 6] = d[sof + 8] = 0x20;
    expect_reject(d, len, "bomb.jpg", "refusing to decode");
    free(d);
}

/* BMP (int32 width/height at 18/22), GIF (16-bit screen size at 6/8), TGA
 * (16-bit at 12/14), PNM (text header): 20000 x 20000 each. */
static void bomb_stb(void **state)
{
    static const char pnm[] = "P6\n20000 20000\n255\nabcdefgh";
    size_t len;
    uint8_t *d;

    (void)state;
    d = fixture("rgb.bmp", &len);
    put_le(d + 18, 20000, 4);
    put_le(d + 22, 20000, 4);
    expect_reject(d, len, "bomb.bmp", "refusing to decode");
    free(d);

    d = fixture("anim.gif", &len);
    put_le(d + 6, 20000, 2);
    put_le(d + 8, 20000, 2);
    expect_reject(d, len, "bomb.gif", "refusing to decode");
    free(d);

    d = fixture("rgb.tga", &len);
    put_le(d + 12, 20000, 2);
    put_le(d + 14, 20000, 2);
    expect_reject(d, len, "bomb.tga", "refusing to decode");
    free(d);

    expect_reject((const uint8_t *)pnm, sizeof pnm - 1, "bomb.ppm", "refusing to decode");
}

/* Header numbers too long for stb_image's int arithmetic (fuzzing found
 * 3333333333 overflowing it) are refused before it reads them; nine
 * digits still reach the size guard. Comments are skipped like stb does. */
static void pnm_long_numbers(void **state)
{
    static const char ten[] = "P6\n4 # w\n3333333333\n255\nxyz";
    static const char nine[] = "P5 #c\n999999999 1 255 x";

    (void)state;
    expect_reject((const uint8_t *)ten, sizeof ten - 1, "x.ppm", "more than 9 digits");
    expect_reject((const uint8_t *)nine, sizeof nine - 1, "x.pgm", "refusing to decode");
}

/* Within the caps, but far more pixels than the file can hold: BMP and
 * TGA are refused from the header (stb_image would decode the whole
 * declared size from zeros first; fuzzing found a 246-byte run-length TGA
 * declaring 12304 x 4112 pixels that took seconds). */
static void too_small_for_size(void **state)
{
    size_t len;
    uint8_t *d;

    (void)state;
    d = fixture("rgb_rle.tga", &len);
    put_le(d + 12, 12000, 2);
    put_le(d + 14, 4000, 2);
    expect_reject(d, len, "big.tga", "cannot hold 12000 x 4000 pixels");
    free(d);

    d = fixture("rgb.bmp", &len);
    put_le(d + 18, 4000, 4);
    put_le(d + 22, 3000, 4);
    expect_reject(d, len, "big.bmp", "cannot hold 4000 x 3000 pixels");
    free(d);

    /* The fuzzer's 17-byte case: a TGA header one byte short, declaring
     * 2816 x 17803 pixels at 32 bits. */
    expect_reject((const uint8_t *)"\xc9\x00\x0b P5     \xc9\x00\x0b\x8b" "E ", 17,
                  "short.tga", "cannot hold 2816 x 17803 pixels");
}

static void size_guard_arithmetic(void **state)
{
    char why[CLF_WHY_SIZE];
    size_t bytes = 0;

    (void)state;
    /* 8192 * 8192 * 4 = 268435456 = 2^28: exactly the cap, allowed */
    assert_int_equal(clf_image_check_size("X", 8192, 8192, 4, &bytes, why, sizeof why),
                     CLF_OK);
    assert_int_equal(bytes, (size_t)1 << 28);
    /* 8192 * 8193 * 4 is 32768 bytes over */
    assert_int_equal(clf_image_check_size("X", 8193, 8192, 4, &bytes, why, sizeof why),
                     CLF_ERR_IMAGE);
    assert_int_equal(clf_image_check_size("X", 32769, 1, 3, &bytes, why, sizeof why),
                     CLF_ERR_IMAGE);
    assert_int_equal(clf_image_check_size("X", 0, 5, 3, &bytes, why, sizeof why),
                     CLF_ERR_IMAGE);
    assert_int_equal(clf_image_check_size("X", UINT64_MAX, UINT64_MAX, 3, &bytes, why,
                                          sizeof why),
                     CLF_ERR_IMAGE);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(png_rgb),
        cmocka_unit_test(png_grey),
        cmocka_unit_test(png_grey_alpha),
        cmocka_unit_test(png_rgba),
        cmocka_unit_test(png_palette),
        cmocka_unit_test(png_16bit),
        cmocka_unit_test(png_interlaced),
        cmocka_unit_test(png_one_pixel),
        cmocka_unit_test(png_named_jpg),
        cmocka_unit_test(jpeg_baseline),
        cmocka_unit_test(jpeg_progressive),
        cmocka_unit_test(jpeg_grey),
        cmocka_unit_test(jpeg_cmyk),
        cmocka_unit_test(jpeg_odd_size),
        cmocka_unit_test(jpeg_truncated),
        cmocka_unit_test(jpeg_cut_then_eoi),
        cmocka_unit_test(jpeg_ends_after_headers),
        cmocka_unit_test(bmp_decodes),
        cmocka_unit_test(bmp_top_down),
        cmocka_unit_test(tga_decodes),
        cmocka_unit_test(pnm_decodes),
        cmocka_unit_test(pgm_16bit_refused),
        cmocka_unit_test(gif_first_frame),
        cmocka_unit_test(pbm_refused),
        cmocka_unit_test(stb_truncated),
        cmocka_unit_test(zero_bytes),
        cmocka_unit_test(text_named_png),
        cmocka_unit_test(png_truncated),
        cmocka_unit_test(webp_named),
        cmocka_unit_test(bomb_png),
        cmocka_unit_test(bomb_jpeg),
        cmocka_unit_test(bomb_stb),
        cmocka_unit_test(pnm_long_numbers),
        cmocka_unit_test(too_small_for_size),
        cmocka_unit_test(size_guard_arithmetic),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
