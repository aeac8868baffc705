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
#include <sys/wait.h>
#include <unistd.h>

#include <cmocka.h>
#include <png.h>

#include "support/tmpdir.h"

#define CLFIT CLFIT_BINARY_DIR "/clfit"

enum { SIDE = 8, PER_CLASS = 12 };
static const char *const classes[3] = {"circle", "cross", "square"};

typedef struct cli {
    char dir[4096], data[4200];
    char out[65536];
    int rc;
} cli;

/* Class k: a bright block at a k-dependent place on a dim noisy field. */
static void write_png(const char *path, int k, int i)
{
    png_image img;
    uint8_t px[SIDE * SIDE * 3];

    for (int p = 0; p < SIDE * SIDE; p++) {
        int y = p / SIDE, x = p % SIDE;
        bool on = y / 3 == k && x >= 2 && x < 6;

        for (int c = 0; c < 3; c++)
            px[3 * p + c] = (uint8_t)((on ? 200 : 30) + (p * 7 + i * 13 + c) % 40);
    }
    memset(&img, 0, sizeof img);
    img.version = PNG_IMAGE_VERSION;
    img.width = img.height = SIDE;
    img.format = PNG_FORMAT_RGB;
    assert_true(png_image_write_to_file(&img, path, 0, px, 0, NULL));
}

/* Runs "clfit ARGS" in the scratch folder; stdout and stderr together. */
static void run(cli *c, const char *fmt, ...)
{
    char args[2048], cmd[8192];
    size_t used = 0, n;
    va_list ap;
    FILE *p;
    int status;

    va_start(ap, fmt);
    vsnprintf(args, sizeof args, fmt, ap);
    va_end(ap);
    snprintf(cmd, sizeof cmd, "cd '%s' && '%s' %s 2>&1", c->dir, CLFIT, args);
    p = popen(cmd, "r");
    assert_non_null(p);
    while ((n = fread(c->out + used, 1, sizeof c->out - 1 - used, p)) > 0)
        used += n;
    c->out[used] = 0;
    status = pclose(p);
    c->rc = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

static void expect(const cli *c, int rc, const char *text)
{
    if (c->rc != rc || (text && !strstr(c->out, text)))
        fail_msg("exit %d (want %d), output lacks '%s':\n%s", c->rc, rc, text ? text : "",
                 c->out);
}

static int setup(void **state)
{
    cli *c = calloc(1, sizeof *c);
    char path[4300];

    if (access(CLFIT, X_OK) != 0) {
        free(c);
        *state = NULL;
        return 0;
    }
    snprintf(c->dir, sizeof c->dir, "%s", tmpdir_make("cli"));
    snprintf(c->data, sizeof c->data, "%s/data", c->dir);
    mkdir(c->data, 0755);
    for (int k = 0; k < 3; k++) {
        snprintf(path, sizeof path, "%s/%s", c->data, classes[k]);
        mkdir(path, 0755);
        for (int i = 0; i < PER_CLASS; i++) {
            snprintf(path, sizeof path, "%s/%s/%02d.png", c->data, classes[k], i);
            write_png(path, k, i);
        }
    }
    *state = c;
    return 0;
}

static int teardown(void **state)
{
    cli *c = *state;

    if (c) {
        char cmd[4200];

        snprintf(cmd, sizeof cmd, "rm -rf '%s'", c->dir);
        assert_int_equal(system(cmd), 0);
    }
    free(c);
    return 0;
}

#define NEED_CLI(c)                                                            \
    do {                                                                       \
        if (!(c)) {                                                            \
            print_message("%s not built: the CLI test is skipped\n", CLFIT);  \
            skip();                                                            \
        }                                                                      \
    } while (0)

#define TRAIN "train data --device cpu --image-size 8 --batch-size 4 --learning-rate 0.01"

static void test_train_save_log_plot(void **state)
{
    cli *c = *state;
    char path[4300];
    unsigned char *csv;
    size_t len;
    int lines = 0;

    NEED_CLI(c);
    run(c, TRAIN " --epochs 2 --save m.safetensors --log h.csv --plot p.png "
               "--checkpoint-dir ck");
    expect(c, 0, "Saved the model to m.safetensors");
    expect(c, 0, "Epoch 2/2");
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
    run(c, TRAIN " --epochs 4 --log h.csv --checkpoint-dir ck --resume");
    expect(c, 0, "Resuming from ck: 2 epochs done");
    expect(c, 0, "Epoch 4/4");
    if (strstr(c->out, "Epoch 2/4"))
        fail_msg("epoch 2 ran again:\n%s", c->out);
    snprintf(path, sizeof path, "%s/h.csv", c->dir);
    csv = tmpdir_read(path, &len);
    assert_non_null(strstr((char *)csv, "\n3,"));
    free(csv);

    /* other settings are refused, naming the flag */
    run(c, TRAIN " --epochs 5 --seed 3 --checkpoint-dir ck --resume");
    expect(c, 1, "--seed differs: the checkpoint's run had \"20\", this run has \"3\"");
}

static void test_evaluate_and_predict(void **state)
{
    cli *c = *state;

    NEED_CLI(c);
    run(c, TRAIN " --epochs 3 --save e.safetensors");
    expect(c, 0, "Saved the model");
    run(c, "evaluate e.safetensors data --device cpu --plot cm.png");
    expect(c, 0, "36 images: loss: ");
    expect(c, 0, "   0 circle");
    expect(c, 0, "recall");
    assert_int_equal(tmpdir_count(c->dir, "cm.png"), 1);

    run(c, "predict e.safetensors data/cross/00.png nothing.png data/square/01.png "
           "--device cpu --top 2");
    expect(c, 1, "data/cross/00.png: ");
    expect(c, 1, "data/square/01.png: ");
    expect(c, 1, "nothing.png");
    expect(c, 1, "1 of 3 images could not be read");

    run(c, "predict data/cross/00.png data/cross/01.png --device cpu");
    expect(c, 1, "not a safetensors file");
}

static void test_usage_errors(void **state)
{
    cli *c = *state;

    NEED_CLI(c);
    run(c, "train data --resume");
    expect(c, 2, "--resume: needs --checkpoint-dir");
    run(c, "predict e.safetensors");
    expect(c, 2, "predict: takes MODEL");
    run(c, "predict e.safetensors x.png --top 0");
    expect(c, 2, "--top: 0 is out of range");
    run(c, "evaluate e.safetensors");
    expect(c, 2, "evaluate: takes MODEL");
    run(c, TRAIN " --save no/such/dir/m.safetensors");
    expect(c, 1, "--save no/such/dir/m.safetensors: folder 'no/such/dir' does not exist");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_train_save_log_plot),
        cmocka_unit_test(test_evaluate_and_predict),
        cmocka_unit_test(test_usage_errors),
    };

    return cmocka_run_group_tests(tests, setup, teardown);
}
