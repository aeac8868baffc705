/* Plots: a PNG of the promised size, decoded independently with libpng,
 * that shows the colours of what it should draw (training blue, validation
 * orange, a full row's darkest shade) and not of what it should not; bad
 * arguments and unwritable paths refused. The pictures themselves were
 * also checked by eye (README). */
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <png.h>

#include "clfit/plot.h"
#include "support/logcap.h"
#include "support/tmpdir.h"

typedef struct picture {
    png_uint_32 width, height;
    unsigned char *rgb;
} picture;

static void load_png(const char *path, picture *p)
{
    png_image img;

    memset(&img, 0, sizeof img);
    img.version = PNG_IMAGE_VERSION;
    assert_true(png_image_begin_read_from_file(&img, path));
    img.format = PNG_FORMAT_RGB;
    p->width = img.width;
    p->height = img.height;
    p->rgb = malloc(PNG_IMAGE_SIZE(img));
    assert_true(png_image_finish_read(&img, NULL, p->rgb, 0, NULL));
}

/* Pixels within 40 (sum of channel differences) of an RGB colour. */
static size_t count_near(const picture *p, int r, int g, int b)
{
    size_t n = 0;

    for (size_t i = 0; i < (size_t)p->width * p->height; i++) {
        const unsigned char *c = p->rgb + 3 * i;

        n += abs(c[0] - r) + abs(c[1] - g) + abs(c[2] - b) < 40;
    }
    return n;
}

static void history(clf_epoch_logs *l, int n, bool val)
{
    for (int i = 0; i < n; i++)
        l[i] = (clf_epoch_logs){.epoch = i, .steps = 5, .loss = 1.0 / (i + 1),
                                .accuracy = 0.5 + 0.05 * i, .has_val = val,
                                .val_loss = 1.2 / (i + 1), .val_accuracy = 0.45 + 0.05 * i};
}

static void test_history_plot(void **state)
{
    const char *dir = tmpdir_make("plot");
    char path[4096];
    clf_epoch_logs l[6];
    picture p;

    (void)state;
    tmpdir_path(path, sizeof path, dir, "curves.png");
    history(l, 6, true);
    assert_int_equal(clf_plot_history(path, l, 6, "test run"), CLF_OK);
    load_png(path, &p);
    assert_int_equal(p.width, 1200);
    assert_int_equal(p.height, 540);
    assert_true(count_near(&p, 31, 119, 180) > 500);   /* training, #1f77b4 */
    assert_true(count_near(&p, 255, 127, 14) > 500);   /* validation, #ff7f0e */
    assert_true(count_near(&p, 30, 30, 30) > 2000);    /* axes and text */
    free(p.rgb);

    history(l, 6, false);
    assert_int_equal(clf_plot_history(path, l, 6, NULL), CLF_OK);
    load_png(path, &p);
    assert_true(count_near(&p, 31, 119, 180) > 500);
    assert_int_equal(count_near(&p, 255, 127, 14), 0);
    free(p.rgb);
    assert_int_equal(tmpdir_count(dir, ".tmp"), 0);
    tmpdir_remove(dir);
}

/* Row 1 has all its images in one cell: that cell takes the darkest
 * shade, rgb (0.03, 0.19, 0.42) * 255 = (8, 48, 107). With no images at
 * all, no cell is shaded. */
static void test_confusion_plot(void **state)
{
    const char *dir = tmpdir_make("plotc");
    const char *names[3] = {"boot", "coat #2", "d\xc3\xa9j\xc3\xa0 vu"};
    uint64_t counts[9] = {3, 1, 0, 0, 9, 0, 2, 2, 1}, zero[9] = {0};
    char path[4096];
    picture p;

    (void)state;
    tmpdir_path(path, sizeof path, dir, "cm.png");
    assert_int_equal(clf_plot_confusion(path, counts, 3, names, "test"), CLF_OK);
    load_png(path, &p);
    assert_int_equal(p.width, 900);
    assert_int_equal(p.height, 900);
    assert_true(count_near(&p, 8, 48, 107) > 5000);
    free(p.rgb);

    assert_int_equal(clf_plot_confusion(path, zero, 3, names, NULL), CLF_OK);
    load_png(path, &p);
    assert_int_equal(count_near(&p, 8, 48, 107), 0);
    free(p.rgb);
    tmpdir_remove(dir);
}

static void test_refusals(void **state)
{
    const char *dir = tmpdir_make("plotr");
    const char *names[1] = {"a"};
    uint64_t one = 1;
    clf_epoch_logs l[1];
    char path[4096];

    (void)state;
    history(l, 1, true);
    logcap_begin();
    tmpdir_path(path, sizeof path, dir, "x.png");
    assert_int_equal(clf_plot_history(path, l, 0, NULL), CLF_ERR_ARG);
    assert_true(LOGCAP_HAS("x.png: no epochs to plot"));
    assert_int_equal(clf_plot_confusion(path, &one, 0, names, NULL), CLF_ERR_ARG);
    l[0].loss = NAN;
    assert_int_equal(clf_plot_history(path, l, 1, NULL), CLF_ERR_ARG);
    assert_true(LOGCAP_HAS("epoch 1", "not a number"));

    l[0].loss = 1;
    tmpdir_path(path, sizeof path, dir, "no/such/x.png");
    assert_int_equal(clf_plot_history(path, l, 1, NULL), CLF_ERR_IO);
    assert_int_equal(clf_plot_confusion(path, &one, 1, names, NULL), CLF_ERR_IO);
    assert_true(LOGCAP_HAS("no/such/x.png", "cannot create"));
    logcap_end();
    assert_int_equal(tmpdir_count(dir, ""), 0);
    tmpdir_remove(dir);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_history_plot),
        cmocka_unit_test(test_confusion_plot),
        cmocka_unit_test(test_refusals),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
