/* The resize step against values worked out by hand.
 *
 * The filter is a triangle (PIL's BILINEAR): enlarging, output pixel j of
 * a row sits at source position (j + 0.5) / scale - 0.5 and interpolates
 * its two neighbours; shrinking by s, the triangle is widened to a radius
 * of 1 / s source pixels and its weights are normalised. Beyond the border
 * the edge pixel repeats (clamp). Results round to the nearest level;
 * every case below is chosen to land on whole numbers. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "data/image.h"

/* A w x h image whose every channel holds `v[i]` at pixel i. */
static void grey_row(uint8_t *rgb, const uint8_t *v, int n)
{
    for (int i = 0; i < n; i++)
        rgb[3 * i] = rgb[3 * i + 1] = rgb[3 * i + 2] = v[i];
}

static void expect_channels(const uint8_t *rgb, const uint8_t *want, int n)
{
    for (int i = 0; i < n; i++)
        for (int c = 0; c < 3; c++)
            if (rgb[3 * i + c] != want[i])
                fail_msg("pixel %d channel %d = %d, want %d", i, c, rgb[3 * i + c], want[i]);
}

/* 2 x 2 -> 1 x 1: the output centre (1, 1) is 0.5 from each source centre
 * in both axes; the widened triangle (radius 2) weighs each 0.75 x 0.75,
 * equal, so the result is the plain average:
 * (10 + 50 + 90 + 130) / 4 = 70, (20 + 60 + 100 + 140) / 4 = 80, 90. */
static void two_by_two_to_one(void **state)
{
    static const uint8_t src[12] = {10, 20, 30, 50, 60, 70, 90, 100, 110, 130, 140, 150};
    uint8_t dst[3];

    (void)state;
    assert_int_equal(clf_image_resize(src, 2, 2, dst, 1, 1), CLF_OK);
    assert_int_equal(dst[0], 70);
    assert_int_equal(dst[1], 80);
    assert_int_equal(dst[2], 90);
}

/* 1 x 1 -> 7 x 5: every tap is the one pixel (or its clamped copy). */
static void one_to_many(void **state)
{
    static const uint8_t src[3] = {12, 34, 56};
    uint8_t dst[7 * 5 * 3];

    (void)state;
    assert_int_equal(clf_image_resize(src, 1, 1, dst, 7, 5), CLF_OK);
    for (int i = 0; i < 7 * 5; i++) {
        assert_int_equal(dst[3 * i], 12);
        assert_int_equal(dst[3 * i + 1], 34);
        assert_int_equal(dst[3 * i + 2], 56);
    }
}

/* Row [0, 80, 160, 240] doubled to 8: output j sits at source position
 * p = (j + 0.5) / 2 - 0.5 = -0.25, 0.25, 0.75, ..., 3.25 and takes
 * (1 - f) * v[floor p] + f * v[floor p + 1], f = p - floor p:
 *   j=0: p=-0.25, both taps pixel 0 (clamped)  -> 0
 *   j=1: p=0.25: 0.75 * 0 + 0.25 * 80           -> 20
 *   j=2: p=0.75: 0.25 * 0 + 0.75 * 80           -> 60
 *   j=3: p=1.25: 0.75 * 80 + 0.25 * 160         -> 100
 *   j=4: p=1.75: 0.25 * 80 + 0.75 * 160         -> 140
 *   j=5: p=2.25: 0.75 * 160 + 0.25 * 240        -> 180
 *   j=6: p=2.75: 0.25 * 160 + 0.75 * 240        -> 220
 *   j=7: p=3.25, both taps pixel 3 (clamped)   -> 240 */
static void ramp_enlarge(void **state)
{
    static const uint8_t v[4] = {0, 80, 160, 240};
    static const uint8_t want[8] = {0, 20, 60, 100, 140, 180, 220, 240};
    uint8_t src[12], dst[24];

    (void)state;
    grey_row(src, v, 4);
    assert_int_equal(clf_image_resize(src, 4, 1, dst, 8, 1), CLF_OK);
    expect_channels(dst, want, 8);

    /* the same ramp as a column: rows, not columns, get it */
    assert_int_equal(clf_image_resize(src, 1, 4, dst, 1, 8), CLF_OK);
    expect_channels(dst, want, 8);
}

/* Row [0, 40, 120, 200] halved: output 0 centres on source position 1.0;
 * the radius-2 triangle weighs source centres -0.5 (pixel -1, clamped to
 * pixel 0), 0.5, 1.5, 2.5 by 0.25, 0.75, 0.75, 0.25, i.e. 1/8, 3/8, 3/8,
 * 1/8 after normalising:
 *   out0 = (0 + 3 * 0 + 3 * 40 + 120) / 8 = 240 / 8 = 30
 *   out1 = (40 + 3 * 120 + 3 * 200 + 200) / 8 = 1200 / 8 = 150
 * (PIL drops the outside tap instead: out0 = (0 + 3*40 + 120) / 7.) */
static void ramp_shrink(void **state)
{
    static const uint8_t v[4] = {0, 40, 120, 200};
    static const uint8_t want[2] = {30, 150};
    uint8_t src[12], dst[6];

    (void)state;
    grey_row(src, v, 4);
    assert_int_equal(clf_image_resize(src, 4, 1, dst, 2, 1), CLF_OK);
    expect_channels(dst, want, 2);
}

/* Same size: the pixels are copied unchanged. */
static void same_size_copies(void **state)
{
    uint8_t src[5 * 3 * 3], dst[5 * 3 * 3];

    (void)state;
    for (size_t i = 0; i < sizeof src; i++)
        src[i] = (uint8_t)(i * 37 + 11);
    assert_int_equal(clf_image_resize(src, 5, 3, dst, 5, 3), CLF_OK);
    assert_memory_equal(src, dst, sizeof src);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(two_by_two_to_one), cmocka_unit_test(one_to_many),
        cmocka_unit_test(ramp_enlarge),      cmocka_unit_test(ramp_shrink),
        cmocka_unit_test(same_size_copies),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
