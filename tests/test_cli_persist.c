/* The clfit command line around saved models, run as a user would on a
 * small folder of PNG files written here: train with --save, --log,
 * --plot and --checkpoint-dir; resume (continuing to a larger --epochs,
 * and refused with other settings); evaluate with its confusion matrix;
 * predict with a file that is not an image; usage errors. Checks exit
 * codes, files and the lines users read. Skipped when the clfit binary
 * has not been built. */
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>
#include <png.h>

#include "support/cli.h"
#include "support/tmpdir.h"

#define TRAIN "train data --device cpu --image-size 8 --batch-size 4 --learning-rate 0.01"

static void test_train_save_log_plot(void **state)
{
    cli *c = *state;
    char path[4300];
    unsigned char *csv;
    size_t len;
    int lines = 0;

    CLI_NEED(c);
    cli_run(c, TRAIN " --epochs 2 --save m.safetensors --log h.csv --plot p.png "
               "--checkpoint-dir ck");
    cli_expect(c, 0, "Saved the model to m.safetensors");
    cli_expect(c, 0, "Epoch 2/2");
    snprintf(path, sizeof path, "%s/h.csv", c->dir);
    csv = tmpdir_read(path, &len);
    assert_non_null(csv);
    assert_memory_equal(csv, "epoch,accuracy,loss,val_accuracy,val_loss,seconds\n0,", 52);
    for (size_t i = 0; i < len; i++)
        lines += csv[i] == '\n';
    assert_int_equal(lines, 3);
    free(csv);
    assert_int_equal(tmpdir_count(c->dir, "p.png"), 1);
    snprintf(path, sizeof path, "%s/ck", c->dir);
    assert_int_equal(tmpdir_count(path, "checkpoint.safetensors"), 1);

    /* two more epochs: --epochs is the total; the log goes on */
    cli_run(c, TRAIN " --epochs 4 --log h.csv --checkpoint-dir ck --resume");
    cli_expect(c, 0, "Resuming from ck: 2 epochs done");
    cli_expect(c, 0, "Epoch 4/4");
    if (strstr(c->out, "Epoch 2/4"))
        fail_msg("epoch 2 ran again:\n%s", c->out);
    snprintf(path, sizeof path, "%s/h.csv", c->dir);
    csv = tmpdir_read(path, &len);
    assert_non_null(strstr((char *)csv, "\n3,"));
    free(csv);

    /* other settings are refused, naming the flag */
    cli_run(c, TRAIN " --epochs 5 --seed 3 --checkpoint-dir ck --resume");
    cli_expect(c, 1, "--seed differs: the checkpoint's run had \"20\", this run has \"3\"");
}

/* evaluate's progress bar (Keras's: 36 images in batches of 32 are 2
 * steps) ends with the same loss and accuracy as the summary line. */
static void expect_eval_bar(const char *out, const char *bar, const char *summary)
{
    const char *b = strstr(out, bar), *s = strstr(out, summary);
    char bar_figures[64], summary_figures[64];

    if (!b || !s)
        fail_msg("no '%s' or '%s' in:\n%s", bar, summary, out);
    b = strstr(b, "loss: ");
    s = strstr(s, "loss: ");
    assert_non_null(b);
    assert_non_null(s);
    assert_int_equal(sscanf(b, "loss: %63[^\n]", bar_figures), 1);
    assert_int_equal(sscanf(s, "loss: %63[^\n]", summary_figures), 1);
    assert_string_equal(bar_figures, summary_figures);
}

/* c->dir/rel (made with its parents) holding n PNGs of class 0. */
static void make_folder(const cli *c, const char *rel, int n)
{
    char path[4400], *slash;

    snprintf(path, sizeof path, "%s/%s", c->dir, rel);
    for (slash = strchr(path + strlen(c->dir) + 1, '/'); slash; slash = strchr(slash + 1, '/')) {
        *slash = '\0';
        mkdir(path, 0755);
        *slash = '/';
    }
    assert_int_equal(mkdir(path, 0755), 0);
    for (int i = 0; i < n; i++) {
        snprintf(path, sizeof path, "%s/%s/%02d.png", c->dir, rel, i);
        cli_write_png(path, 0, i);
    }
}

static void test_evaluate_and_predict(void **state)
{
    cli *c = *state;

    CLI_NEED(c);
    cli_run(c, TRAIN " --epochs 3 --save e.safetensors");
    cli_expect(c, 0, "Saved the model");
    cli_run(c, "evaluate e.safetensors data --device cpu --plot cm.png");
    cli_expect(c, 0, "36 images: loss: ");
    expect_eval_bar(c->out, "2/2 [==============================] - ", "36 images: ");
    cli_expect(c, 0, "   0 circle");
    cli_expect(c, 0, "recall");
    assert_int_equal(tmpdir_count(c->dir, "cm.png"), 1);

    cli_run(c, "predict e.safetensors data/cross/00.png nothing.png data/square/01.png "
           "--device cpu --top 2");
    cli_expect(c, 1, "data/cross/00.png: ");
    cli_expect(c, 1, "data/square/01.png: ");
    cli_expect(c, 1, "nothing.png");
    cli_expect(c, 1, "1 of 3 images could not be read");

    cli_run(c, "predict data/cross/00.png data/cross/01.png --device cpu");
    cli_expect(c, 1, "not a safetensors file");

    /* a class folder the model lacks: named, with the model's classes */
    make_folder(c, "zoo/Circle", 2);
    make_folder(c, "zoo/cross", 2);
    cli_run(c, "evaluate e.safetensors zoo --device cpu");
    cli_expect(c, 1, "class folder 'Circle' is not one of the model's 3 classes");
    cli_expect(c, 1, "the model's classes (names match exactly, case included): 'circle', "
                     "'cross', 'square'");
    cli_expect(c, 1, "rename each other class folder to one of these");

    /* odd class names keep the text matrix in columns: a newline shows as
     * '?', UTF-8 is padded by characters (22 wide) */
    make_folder(c, "odd/line\nbreak", 6);
    make_folder(c, "odd/\xc3\xa9 \xc3\xbc", 6);
    cli_run(c, "train odd --device cpu --image-size 8 --epochs 1 --split 1 "
               "--save odd.safetensors");
    cli_expect(c, 0, "Saved the model");
    cli_run(c, "evaluate odd.safetensors odd --device cpu");
    cli_expect(c, 0, "\n   0 line?break            ");
    cli_expect(c, 0, "\n   1 \xc3\xa9 \xc3\xbc                   ");
    cli_run(c, "predict odd.safetensors 'odd/\xc3\xa9 \xc3\xbc/00.png' --device cpu --top 2");
    cli_expect(c, 0, "line?break 0.");
    if (strstr(c->out, "line\nbreak"))
        fail_msg("predict printed the newline of a class name:\n%s", c->out);
}

/* The text after the last `key` in out, to the end of its line. */
static void after(const char *out, const char *key, char *buf, size_t size)
{
    const char *p = NULL, *q;

    for (q = strstr(out, key); q; q = strstr(q + 1, key))
        p = q;
    if (!p)
        fail_msg("no '%s' in:\n%s", key, out);
    p += strlen(key);
    q = p + strcspn(p, "\n");
    snprintf(buf, size, "%.*s", (int)(q - p), p);
}

/* --image-cache: a second run takes every image from it and trains to the
 * same figures; evaluate reads the same cache. */
static void test_image_cache(void **state)
{
    cli *c = *state;
    char first[256];

    CLI_NEED(c);
    cli_run(c, TRAIN " --epochs 1 --image-cache ic --save ic.safetensors");
    cli_expect(c, 0, "test_accuracy");
    after(c->out, "test_loss: ", first, sizeof first);
    cli_run(c, TRAIN " --epochs 1 --image-cache ic");
    cli_expect(c, 0, "36 of 36 images came from the image cache in 'ic'");
    cli_expect(c, 0, first);
    cli_run(c, "evaluate ic.safetensors data --device cpu --image-cache ic");
    cli_expect(c, 0, "36 of 36 images came from the image cache in 'ic'");
    cli_run(c, TRAIN " --image-cache data/ic");
    cli_expect(c, 1, "--image-cache data/ic is inside the data folder data");
}

static void test_usage_errors(void **state)
{
    cli *c = *state;

    CLI_NEED(c);
    cli_run(c, "train data --resume");
    cli_expect(c, 2, "--resume: needs --checkpoint-dir");
    cli_run(c, "predict e.safetensors");
    cli_expect(c, 2, "predict: takes MODEL");
    cli_run(c, "predict e.safetensors x.png --top 0");
    cli_expect(c, 2, "--top: 0 is out of range");
    cli_run(c, "evaluate e.safetensors");
    cli_expect(c, 2, "evaluate: takes MODEL");
    cli_run(c, TRAIN " --save no/such/dir/m.safetensors");
    cli_expect(c, 1, "--save no/such/dir/m.safetensors: folder 'no/such/dir' does not exist");
}

/* ---- evaluate on one subset of the split; paths checked first; the
 * plot's title; checkpoints named where a model file belongs ---- */


/* "N images: loss: L - accuracy: A" for train's "<prefix>loss: L -
 * <prefix>accuracy: A", the line evaluate prints for the same images. */
static void expected_line(const char *out, const char *prefix, size_t n, char *buf,
                          size_t size)
{
    char key[32], rest[256], loss[32], acc[32];

    snprintf(key, sizeof key, "%sloss: ", prefix);
    after(out, key, rest, sizeof rest);
    assert_int_equal(sscanf(rest, "%31s", loss), 1);
    snprintf(key, sizeof key, "%saccuracy: ", prefix);
    after(out, key, rest, sizeof rest);
    assert_int_equal(sscanf(rest, "%31s", acc), 1);
    snprintf(buf, size, "%zu images: loss: %s - accuracy: %s\n", n, loss, acc);
}

static void split_sizes(const char *out, const char *seed, size_t *sizes)
{
    char key[64], rest[256];

    snprintf(key, sizeof key, "Split (seed %s): ", seed);
    after(out, key, rest, sizeof rest);
    assert_int_equal(sscanf(rest, "%zu train, %zu validation, %zu test.", &sizes[0],
                            &sizes[1], &sizes[2]), 3);
}

/* --subset test scores the images train tested on: the same count, loss
 * and accuracy (to the printed digits) as train's test line; --subset val
 * those of its last validation (the saved weights are the last epoch's);
 * --subset train the rest. Then a split and seed of one's own. */
static void test_evaluate_subsets(void **state)
{
    cli *c = *state;
    size_t sizes[3];
    char want[256], want_val[256], text[256];

    CLI_NEED(c);
    cli_run(c, TRAIN " --epochs 2 --save sub.safetensors");
    cli_expect(c, 0, "Saved the model");
    split_sizes(c->out, "20", sizes);
    /* 36 images: floor(25.2, 7.2, 3.6) = 25/7/3, the 1 left to train */
    assert_int_equal(sizes[0], 26);
    assert_int_equal(sizes[1], 7);
    assert_int_equal(sizes[2], 3);
    expected_line(c->out, "test_", sizes[2], want, sizeof want);
    expected_line(c->out, "val_", sizes[1], want_val, sizeof want_val);
    cli_run(c, "evaluate sub.safetensors data --device cpu --subset test");
    cli_expect(c, 0, want);
    cli_expect(c, 0, "Evaluating the test subset: 3 of 36 images in data (split 0.7,0.2,0.1, "
                 "seed 20");

    cli_run(c, "evaluate sub.safetensors data --device cpu --subset val");
    cli_expect(c, 0, want_val);
    cli_run(c, "evaluate sub.safetensors data --device cpu --subset train");
    snprintf(text, sizeof text, "\n%zu images: loss: ", sizes[0]);
    cli_expect(c, 0, text);
    cli_run(c, "evaluate sub.safetensors data --device cpu");
    cli_expect(c, 0, "Evaluating all 36 images in data");
    cli_expect(c, 0, "\n36 images: loss: ");

    /* a split and seed of one's own, given to both commands */
    cli_run(c, TRAIN " --epochs 1 --split 0.5,0.25,0.25 --seed 7 --save sub7.safetensors");
    split_sizes(c->out, "7", sizes);
    assert_int_equal(sizes[2], 9); /* 36 x 0.25 */
    expected_line(c->out, "test_", sizes[2], want, sizeof want);
    cli_run(c, "evaluate sub7.safetensors data --device cpu --subset test --split 0.5,0.25,0.25 "
           "--seed 7");
    cli_expect(c, 0, want);
    cli_expect(c, 0, "Evaluating the test subset: 9 of 36 images");

    /* the model file records its split: --subset alone remakes it */
    cli_run(c, "evaluate sub7.safetensors data --device cpu --subset test");
    cli_expect(c, 0, want);
    cli_expect(c, 0, "(split 0.5,0.25,0.25, seed 7, as recorded in the model "
                     "file)");
    /* another split is allowed, with a warning that it picks other images */
    cli_run(c, "evaluate sub7.safetensors data --device cpu --subset test --seed 20");
    cli_expect(c, 0, "the model was trained with --split 0.5,0.25,0.25 --seed 7; --subset test "
                     "with --split 0.5,0.25,0.25 --seed 20 picks other images");
    /* a split without a test part has nothing for --subset test */
    cli_run(c, TRAIN " --epochs 1 --split 0.75,0.25 --save notest.safetensors");
    cli_expect(c, 0, "Saved the model");
    cli_expect(c, 0, "No test images: --split 0.75,0.25 has no test part");
    cli_run(c, "evaluate notest.safetensors data --device cpu --subset test");
    cli_expect(c, 1, "--subset test: the split 0.75,0.25 has no test part");
    if (strstr(c->out, "found "))
        fail_msg("the images were loaded before the refusal:\n%s", c->out);
}

/* --split and --seed mean nothing without --subset; a subset the split
 * does not have. Usage errors (exit 2) before any work. */
static void test_evaluate_subset_usage(void **state)
{
    cli *c = *state;

    CLI_NEED(c);
    cli_run(c, "evaluate none.safetensors data --split 0.5,0.5");
    cli_expect(c, 2, "--split: chooses the images of --subset; add --subset");
    cli_run(c, "evaluate none.safetensors data --seed 3 --subset all");
    cli_expect(c, 2, "--seed: chooses the images of --subset");
    cli_run(c, "evaluate none.safetensors data --subset test --split 0.8,0.2");
    cli_expect(c, 2, "--subset: the split 0.8,0.2 has no test part");
    cli_run(c, "evaluate none.safetensors data --subset val --split 0.9,0,0.1");
    cli_expect(c, 2, "--subset: the split 0.9,0,0.1 has no validation part");
    cli_run(c, "evaluate none.safetensors data --subset everything");
    cli_expect(c, 2, "--subset: 'everything' is not one of: all, train, val, test");
}

static void expect_no_work(const cli *c, const char *what)
{
    if (strstr(c->out, "Device:") || strstr(c->out, "found") || strstr(c->out, "Model:"))
        fail_msg("%s: work started before the error:\n%s", what, c->out);
}

/* Commands refused before any work, and what each must say. */
static const struct {
    const char *args, *message;
} refusals[] = {
    {"evaluate junk.safetensors data --plot /nonexistent/cm.png",
     "--plot /nonexistent/cm.png: folder '/nonexistent' does not exist"},
    {"evaluate junk.safetensors data --plot data", "--plot data: names a folder"},
    {"evaluate junk.safetensors no-such-data",
     "DATA_DIR no-such-data: cannot read it: No such file or directory"},
    {"evaluate junk.safetensors data/cross/00.png", "DATA_DIR data/cross/00.png: not a folder"},
    {"evaluate none.safetensors data",
     "MODEL none.safetensors: cannot read it: No such file or directory"},
    {"evaluate data data", "MODEL data: not a regular file"},
    {"predict none.safetensors data/cross/00.png",
     "MODEL none.safetensors: cannot read it: No such file or directory"},
};

/* A missing model, data folder or plot folder is an error (exit 1) before
 * the device opens (seconds on a cold OpenCL cache) and the images load.
 * The model here is not a model at all: nothing may read it first. */
static void test_paths_checked_first(void **state)
{
    cli *c = *state;
    char path[4300];
    FILE *f;

    CLI_NEED(c);
    snprintf(path, sizeof path, "%s/junk.safetensors", c->dir);
    f = fopen(path, "w");
    assert_non_null(f);
    fputs("not a model\n", f);
    fclose(f);

    for (size_t i = 0; i < sizeof refusals / sizeof refusals[0]; i++) {
        cli_run(c, "%s --device cpu", refusals[i].args);
        cli_expect(c, 1, refusals[i].message);
        expect_no_work(c, refusals[i].args);
    }
}

/* Whether rows [0, rows) of the PNG at path have ink (a pixel darker than
 * 200 in any channel) in their first or last `edge` columns. */
static bool ink_at_sides(const char *path, int rows, int edge)
{
    png_image img;
    uint8_t *px;
    bool ink = false;

    memset(&img, 0, sizeof img);
    img.version = PNG_IMAGE_VERSION;
    assert_true(png_image_begin_read_from_file(&img, path));
    img.format = PNG_FORMAT_RGB;
    px = malloc(PNG_IMAGE_SIZE(img));
    assert_non_null(px);
    assert_true(png_image_finish_read(&img, NULL, px, 0, NULL));
    for (int y = 0; y < rows && y < (int)img.height; y++)
        for (int x = 0; x < (int)img.width; x++) {
            const uint8_t *p = px + 3 * ((size_t)y * img.width + (size_t)x);

            if ((x < edge || x >= (int)img.width - edge) && (p[0] < 200 || p[1] < 200 ||
                                                           p[2] < 200))
                ink = true;
        }
    free(px);
    return ink;
}

/* Long paths used to run the confusion matrix's title off both sides of
 * the page; it names the model and folder without their paths now, and
 * a long title is drawn smaller or cut, inside the page. */
static void test_plot_title_fits(void **state)
{
    cli *c = *state;
    char path[9000];

    CLI_NEED(c);
    cli_run(c, TRAIN " --epochs 1 --save a_model_with_a_long_name_from_experiment_42.safetensors");
    cli_expect(c, 0, "Saved the model");
    snprintf(path, sizeof path, "cd '%s' && mkdir -p a_rather_long_folder_name/deeper_still "
             "&& cp -r data a_rather_long_folder_name/deeper_still/"
             "fashion_mnist_three_thousand_images", c->dir);
    assert_int_equal(system(path), 0);
    cli_run(c, "evaluate a_model_with_a_long_name_from_experiment_42.safetensors "
           "%s/a_rather_long_folder_name/deeper_still/fashion_mnist_three_thousand_images "
           "--device cpu --plot long.png", c->dir);
    cli_expect(c, 0, "Confusion matrix plotted to long.png");
    snprintf(path, sizeof path, "%s/long.png", c->dir);
    /* the title and the line under it lie in the top 90 of 900 rows */
    if (ink_at_sides(path, 90, 3))
        fail_msg("the title of %s runs off the page", path);
}

/* A checkpoint given where a model file belongs: the message says how to
 * make a model file of it, and doing so works. */
static void test_checkpoint_hint(void **state)
{
    cli *c = *state;
    char path[9000];

    CLI_NEED(c);
    cli_run(c, TRAIN " --epochs 1 --checkpoint-dir hk");
    cli_expect(c, 0, "Epoch 1/1");
    cli_run(c, "predict hk/checkpoint.safetensors data/cross/00.png --device cpu");
    cli_expect(c, 1, "hk/checkpoint.safetensors is a training checkpoint, not a model file");
    cli_expect(c, 1, "'clfit train DATA_DIR ... --save FILE'");
    cli_expect(c, 1, "rerun the same train command with '--checkpoint-dir hk --resume --save "
                 "FILE'");
    cli_run(c, "evaluate hk/checkpoint.safetensors data --device cpu");
    cli_expect(c, 1, "rerun the same train command with '--checkpoint-dir hk --resume --save "
                 "FILE'");
    cli_run(c, "evaluate hk data --device cpu");
    cli_expect(c, 1, "hk holds a training checkpoint, not a model file");
    cli_expect(c, 1, "'--checkpoint-dir hk --resume --save FILE'");

    /* elsewhere under another name: it must go back into a folder */
    snprintf(path, sizeof path, "cp '%s/hk/checkpoint.safetensors' '%s/hk1.safetensors'",
             c->dir, c->dir);
    assert_int_equal(system(path), 0);
    cli_run(c, "predict hk1.safetensors data/cross/00.png --device cpu");
    cli_expect(c, 1, "put it in a folder as checkpoint.safetensors");

    /* no hint for what is not a checkpoint */
    cli_run(c, "predict data/cross/01.png data/cross/00.png --device cpu");
    cli_expect(c, 1, "not a safetensors file");
    if (strstr(c->out, "checkpoint"))
        fail_msg("a checkpoint hint for an image:\n%s", c->out);

    /* the hint's advice: with all epochs done, --resume only saves */
    cli_run(c, TRAIN " --epochs 1 --checkpoint-dir hk --resume --save hm.safetensors");
    cli_expect(c, 0, "Saved the model to hm.safetensors");
    if (strstr(c->out, "Epoch 1/1"))
        fail_msg("--resume trained again:\n%s", c->out);
    cli_run(c, "predict hm.safetensors data/cross/00.png --device cpu");
    cli_expect(c, 0, "data/cross/00.png: ");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_train_save_log_plot),
        cmocka_unit_test(test_evaluate_and_predict),
        cmocka_unit_test(test_image_cache),
        cmocka_unit_test(test_usage_errors),
        cmocka_unit_test(test_evaluate_subsets),
        cmocka_unit_test(test_evaluate_subset_usage),
        cmocka_unit_test(test_paths_checked_first),
        cmocka_unit_test(test_plot_title_fits),
        cmocka_unit_test(test_checkpoint_hint),
    };

    return cmocka_run_group_tests(tests, cli_setup, cli_teardown);
}
