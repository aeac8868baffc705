/* JPEG decoding at a DCT scale (clf_image_decode_min): the scale chosen is
 * the smallest n/8 that keeps both sides at least the minimum, other
 * formats are not scaled, and the result after resizing stays within a
 * few levels of a full decode plus resize. The JPEG is made here with
 * TurboJPEG from a smooth synthetic image (no fixture file). */
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <turbojpeg.h>

#include "core/file.h"
#include "data/image.h"

enum { W = 256, H = 192 };

/* A smooth colour image compressed at quality 95 (caller frees). */
static uint8_t *make_jpeg(unsigned long *len)
{
    uint8_t *px = malloc((size_t)W * H * 3), *jpeg = NULL;
    tjhandle tj = tjInitCompress();

    assert_non_null(px);
    assert_non_null(tj);
    for (int y = 0; y < H; y++)
        for (int x = 0; x < W; x++) {
            uint8_t *p = px + ((size_t)y * W + x) * 3;

            p[0] = (uint8_t)(x * 255 / (W - 1));
            p[1] = (uint8_t)(y * 255 / (H - 1));
            p[2] = (uint8_t)(128 + 100 * sin(x * 0.05) * cos(y * 0.07));
        }
    *len = 0;
    assert_int_equal(tjCompress2(tj, px, W, 0, H, TJPF_RGB, &jpeg, len, TJSAMP_444, 95, 0), 0);
    tjDestroy(tj);
    free(px);
    return jpeg;
}

static void decode_size(const uint8_t *d, unsigned long len, int min_w, int min_h, int want_w,
                        int want_h)
{
    char why[CLF_WHY_SIZE] = "";
    clf_image im;

    assert_int_equal(clf_image_decode_min(d, len, "x.jpg", min_w, min_h, &im, why, sizeof why),
                     CLF_OK);
    assert_int_equal(im.w, want_w);
    assert_int_equal(im.h, want_h);
    clf_image_free(&im);
}

/* 256 x 192 with minimum 32 x 24: 1/8 gives exactly 32 x 24. Minimum
 * 33 x 24: 1/8 is too narrow (32), 1/4 gives 64 x 48. Minimum 200 x 100:
 * 3/4 gives 192 < 200, 7/8 gives 224 x 168. Minimum 300 x 10: nothing
 * smaller than the stored size fits, so 1/1. No minimum: 1/1. */
static void test_scale_choice(void **state)
{
    unsigned long len;
    uint8_t *d = make_jpeg(&len);

    (void)state;
    decode_size(d, len, 32, 24, 32, 24);
    decode_size(d, len, 33, 24, 64, 48);
    decode_size(d, len, 200, 100, 224, 168);
    decode_size(d, len, 300, 10, W, H);
    decode_size(d, len, 0, 0, W, H);
    tjFree(d);
}

/* Scaled decode + resize against full decode + resize, to 40 x 30: mean
 * difference under 1 level, none over 4 (measured 0.4 and 2; the scaled
 * IDCT averages 8 x 8 blocks where the triangle filter weighs pixels). */
static void test_close_to_full_decode(void **state)
{
    enum { OW = 40, OH = 30 };
    char why[CLF_WHY_SIZE] = "";
    uint8_t a[OW * OH * 3], b[OW * OH * 3];
    unsigned long len;
    uint8_t *d = make_jpeg(&len);
    clf_image full, scaled;
    double sum = 0.0;
    int worst = 0;

    (void)state;
    assert_int_equal(clf_image_decode(d, len, "x.jpg", &full, why, sizeof why), CLF_OK);
    assert_int_equal(clf_image_decode_min(d, len, "x.jpg", OW, OH, &scaled, why, sizeof why),
                     CLF_OK);
    assert_true(scaled.w < full.w); /* 256 * 1/4 = 64 >= 40, 192 / 4 = 48 >= 30 */
    assert_int_equal(clf_image_resize(full.rgb, full.w, full.h, a, OW, OH), CLF_OK);
    assert_int_equal(clf_image_resize(scaled.rgb, scaled.w, scaled.h, b, OW, OH), CLF_OK);
    for (size_t i = 0; i < sizeof a; i++) {
        int diff = abs((int)a[i] - (int)b[i]);

        sum += diff;
        worst = diff > worst ? diff : worst;
    }
    assert_true(sum / (double)sizeof a < 1.0);
    assert_true(worst <= 4);
    clf_image_free(&full);
    clf_image_free(&scaled);
    tjFree(d);
}

/* A PNG is never scaled: the minimum is only a hint for JPEG. */
static void test_png_full_size(void **state)
{
    static const char *path = CLFIT_SOURCE_DIR "/tests/fixtures/images/rgb.png";
    char why[CLF_WHY_SIZE] = "";
    uint8_t *data = NULL;
    size_t len = 0;
    clf_image full, hinted;

    (void)state;
    assert_int_equal(clf_read_file(path, 1 << 20, &data, &len, why, sizeof why), CLF_OK);
    assert_int_equal(clf_image_decode(data, len, path, &full, why, sizeof why), CLF_OK);
    assert_int_equal(clf_image_decode_min(data, len, path, 1, 1, &hinted, why, sizeof why),
                     CLF_OK);
    assert_int_equal(hinted.w, full.w);
    assert_int_equal(hinted.h, full.h);
    assert_memory_equal(hinted.rgb, full.rgb, (size_t)full.w * full.h * 3);
    clf_image_free(&full);
    clf_image_free(&hinted);
    free(data);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_scale_choice),
        cmocka_unit_test(test_close_to_full_decode),
        cmocka_unit_test(test_png_full_size),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
