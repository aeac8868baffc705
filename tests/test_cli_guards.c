/* What `clfit train` refuses before it spends time, and what it does with
 * settings Keras would accept: a flag given where a value belongs, a batch
 * larger than the data, a single class, outputs that collide or land among
 * the images, --resume with nothing to resume or a damaged checkpoint, an
 * unreadable --base. Each refusal must come before any image is decoded
 * (the data library's "found N images" line is absent). */
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>

#include "support/cli.h"
#include "support/fixtures.h"
#include "support/tmpdir.h"

#define TRAIN "train data --device cpu --image-size 8 --batch-size 4 --epochs 1"

static bool exists(const cli *c, const char *name)
{
    char path[4400];

    snprintf(path, sizeof path, "%s/%s", c->dir, name);
    return access(path, F_OK) == 0;
}

/* Fails unless the run was refused with `text` before loading images. */
static void refused_early(const cli *c, const char *text)
{
    cli_expect(c, 1, text);
    if (strstr(c->out, "found ") || strstr(c->out, "Epoch "))
        fail_msg("refused only after loading or training:\n%s", c->out);
}

static void test_flag_is_not_a_value(void **state)
{
    cli *c = *state;

    CLI_NEED(c);
    cli_run(c, TRAIN " --save --verbose");
    cli_expect(c, 2, "--save: needs a value, got the option '--verbose'");
    assert_false(exists(c, "--verbose"));
    cli_run(c, "train data --device --image-size 8");
    cli_expect(c, 2, "--device: needs a value, got the option '--image-size'");
    cli_run(c, "--version");
    cli_expect(c, 0, "clfit 0.");
}

static void test_batch_larger_than_data(void **state)
{
    cli *c = *state;
    unsigned train = 0;
    char want[64];
    const char *split;

    CLI_NEED(c);
    cli_run(c, "train data --device cpu --image-size 8 --epochs 1 --batch-size 5000");
    cli_expect(c, 0, "test_accuracy");
    split = strstr(c->out, "Split (seed 20): ");
    assert_non_null(split);
    assert_int_equal(sscanf(split, "Split (seed 20): %u train", &train), 1);
    snprintf(want, sizeof want, "using batches of %u.", train);
    cli_expect(c, 0, want);
    cli_expect(c, 0, "1/1 [");
}

static void test_one_class_refused(void **state)
{
    cli *c = *state;
    char path[4400];

    CLI_NEED(c);
    snprintf(path, sizeof path, "%s/one", c->dir);
    mkdir(path, 0755);
    snprintf(path, sizeof path, "%s/one/shirt", c->dir);
    mkdir(path, 0755);
    for (int i = 0; i < 10; i++) {
        snprintf(path, sizeof path, "%s/one/shirt/%02d.png", c->dir, i);
        cli_write_png(path, 0, i);
    }
    cli_run(c, "train one --device cpu --image-size 8 --epochs 1");
    cli_expect(c, 1, "one class folder ('shirt'); a classifier needs at least two");
}

static void test_outputs_apart(void **state)
{
    cli *c = *state;

    CLI_NEED(c);
    cli_run(c, TRAIN " --save x.out --log x.out");
    refused_early(c, "--save and --log both name");
    cli_run(c, TRAIN " --save x.out --plot ./x.out");
    refused_early(c, "--save and --plot both name");
    cli_run(c, TRAIN " --save data/cross/00.png");
    refused_early(c, "--save data/cross/00.png is inside the data folder data");
    cli_run(c, TRAIN " --checkpoint-dir data/ck");
    refused_early(c, "--checkpoint-dir data/ck is inside the data folder");
    assert_false(exists(c, "data/ck"));
    assert_int_equal(tmpdir_count(c->data, ""), 3); /* the class folders alone */
    /* the scan ignores files at the top of the folder */
    cli_run(c, TRAIN " --save data/top.safetensors");
    cli_expect(c, 0, "Saved the model to data/top.safetensors");
    cli_run(c, "evaluate data/top.safetensors data --device cpu --plot data/cross/cm.png");
    cli_expect(c, 1, "--plot data/cross/cm.png is inside the data folder data");
    assert_false(exists(c, "data/cross/cm.png"));
    cli_run(c, "evaluate data/top.safetensors data --device cpu --plot data/top.safetensors");
    cli_expect(c, 1, "--plot data/top.safetensors: is MODEL, which this command reads or writes");

    cli_run(c, "train no-such-folder --device cpu");
    refused_early(c, "DATA_DIR no-such-folder: cannot read it");
    if (strstr(c->out, "Device:"))
        fail_msg("the device was opened before the folder was checked:\n%s", c->out);
}

static void write_in(const cli *c, const char *name, const char *text)
{
    char path[4400];

    snprintf(path, sizeof path, "%s/%s", c->dir, name);
    assert_int_equal(tmpdir_write(path, text, strlen(text)), 0);
}

static void expect_content(const cli *c, const char *name, const char *text)
{
    char path[4400];
    size_t len;
    unsigned char *got;

    snprintf(path, sizeof path, "%s/%s", c->dir, name);
    got = tmpdir_read(path, &len);
    assert_non_null(got);
    assert_int_equal(len, strlen(text));
    assert_memory_equal(got, text, len);
    free(got);
}

/* The mode of c->dir/name, without following a link. */
static mode_t kind_of(const cli *c, const char *name)
{
    char path[4400];
    struct stat sb;

    snprintf(path, sizeof path, "%s/%s", c->dir, name);
    assert_int_equal(lstat(path, &sb), 0);
    return sb.st_mode & S_IFMT;
}

/* Outputs are written to a new file renamed into place: a link, FIFO or
 * folder standing there, a file given as the checkpoint folder, and any
 * file the command reads are refused before the images load, and left as
 * they were. */
static void test_outputs_replace_nothing(void **state)
{
    cli *c = *state;
    char path[4400], target[4400];

    CLI_NEED(c);
    write_in(c, "keep.out", "keep");
    snprintf(path, sizeof path, "%s/link.out", c->dir);
    snprintf(target, sizeof target, "%s/keep.out", c->dir);
    assert_int_equal(symlink(target, path), 0);
    cli_run(c, TRAIN " --save link.out");
    refused_early(c, "--save link.out: is a symbolic link; clfit would replace the link");
    assert_int_equal(kind_of(c, "link.out"), S_IFLNK);

    snprintf(path, sizeof path, "%s/fifo.csv", c->dir);
    assert_int_equal(mkfifo(path, 0644), 0);
    cli_run(c, TRAIN " --log fifo.csv");
    refused_early(c, "--log fifo.csv: is not a regular file (a FIFO or socket)");
    assert_int_equal(kind_of(c, "fifo.csv"), S_IFIFO);

    cli_run(c, TRAIN " --checkpoint-dir keep.out --save fresh.safetensors");
    refused_early(c, "--checkpoint-dir keep.out: is a file, not a folder");
    mkdir(strcat(strcpy(path, c->dir), "/fifo-ck"), 0755);
    assert_int_equal(mkfifo(strcat(path, "/checkpoint.safetensors"), 0644), 0);
    cli_run(c, TRAIN " --checkpoint-dir fifo-ck");
    refused_early(c, "fifo-ck/checkpoint.safetensors: is not a regular file");

    /* inputs: the checkpoint being resumed, --base and its shards */
    cli_run(c, TRAIN " --checkpoint-dir own-ck");
    cli_expect(c, 0, "test_accuracy");
    cli_run(c, TRAIN " --checkpoint-dir own-ck --resume --epochs 2 "
               "--save own-ck/checkpoint.safetensors");
    refused_early(c, "is the checkpoint file of --checkpoint-dir, which this command reads or "
                     "writes");
    /* a new run would write both there: the checkpoint would replace the model */
    mkdir(strcat(strcpy(path, c->dir), "/new-ck"), 0755);
    cli_run(c, TRAIN " --checkpoint-dir new-ck --save new-ck/checkpoint.safetensors");
    refused_early(c, "--save new-ck/checkpoint.safetensors: is the checkpoint file of "
                     "--checkpoint-dir");
    /* a symlinked folder that leads into the data folder is inside it */
    snprintf(path, sizeof path, "%s/to-cross", c->dir);
    snprintf(target, sizeof target, "%s/cross", c->data);
    assert_int_equal(symlink(target, path), 0);
    cli_run(c, TRAIN " --checkpoint-dir to-cross");
    refused_early(c, "--checkpoint-dir to-cross is inside the data folder");
    cli_run(c, TRAIN " --image-cache to-cross");
    refused_early(c, "--image-cache to-cross is inside the data folder");
    write_in(c, "model.json", "{}");
    write_in(c, "group1-shard1of1.bin", "weights");
    cli_run(c, TRAIN " --base model.json --log model.json");
    refused_early(c, "--log model.json: is --base, which this command reads or writes");
    cli_run(c, TRAIN " --base model.json --plot group1-shard1of1.bin");
    refused_early(c, "would replace a file in the folder of --base model.json");
    expect_content(c, "group1-shard1of1.bin", "weights");
    expect_content(c, "keep.out", "keep");
}

/* A class folder named in Latin-1 trains, but a model file or checkpoint
 * could not store its name (safetensors headers are UTF-8): with --save or
 * --checkpoint-dir it is refused before the images load, named. */
static void test_class_names_not_utf8(void **state)
{
    cli *c = *state;
    char path[4400];
    static const char *const classes[2] = {"ok", "caf\xe9"};

    CLI_NEED(c);
    mkdir(strcat(strcpy(path, c->dir), "/latin"), 0755);
    for (int k = 0; k < 2; k++) {
        snprintf(path, sizeof path, "%s/latin/%s", c->dir, classes[k]);
        assert_int_equal(mkdir(path, 0755), 0);
        for (int i = 0; i < 6; i++) {
            snprintf(path, sizeof path, "%s/latin/%s/%d.png", c->dir, classes[k], i);
            cli_write_png(path, k, i);
        }
    }
    cli_run(c, "train latin --device cpu --image-size 8 --epochs 1 --save l.safetensors");
    refused_early(c, "class folder \"caf\\xe9\" in latin: its name is not UTF-8 text");
    assert_false(exists(c, "l.safetensors"));
    cli_run(c, "train latin --device cpu --image-size 8 --epochs 1");
    cli_expect(c, 0, "test_accuracy");
}

static void test_resume_refusals(void **state)
{
    cli *c = *state;
    char path[4400];

    CLI_NEED(c);
    mkdir(strcat(strcpy(path, c->dir), "/empty-ck"), 0755);
    cli_run(c, TRAIN " --checkpoint-dir empty-ck --resume");
    refused_early(c, "empty-ck holds no checkpoint");

    cli_run(c, TRAIN " --checkpoint-dir ck --learning-rate 0.01");
    cli_expect(c, 0, "test_accuracy");
    /* a new run never replaces an earlier run's checkpoint unasked */
    cli_run(c, TRAIN " --checkpoint-dir ck --learning-rate 0.01");
    refused_early(c, "--checkpoint-dir ck already holds a checkpoint of another run; add "
                     "--resume to continue it, or move it away");
    cli_run(c, TRAIN " --checkpoint-dir ck --resume --learning-rate 0.02 --epochs 2");
    cli_expect(c, 1, "\"learning_rate\":0.01,");
    refused_early(c, "\"learning_rate\":0.02,");

    snprintf(path, sizeof path, "%s/ck/checkpoint.safetensors", c->dir);
    assert_int_equal(truncate(path, 100), 0);
    cli_run(c, TRAIN " --checkpoint-dir ck --resume --learning-rate 0.01 --epochs 2");
    refused_early(c, "move it away and run without --resume to start over");
}

static void test_bad_base_before_images(void **state)
{
    cli *c = *state;
    char path[4400];

    CLI_NEED(c);
    snprintf(path, sizeof path, "%s/base.json", c->dir);
    assert_int_equal(tmpdir_write(path, "not json", 8), 0);
    cli_run(c, TRAIN " --base base.json");
    refused_early(c, "base.json: not valid JSON");
    /* a Flatten takes at most 2^20 inputs: 592 x 592 x 3 is too many */
    cli_run(c, "train data --device cpu --image-size 592 --epochs 1");
    refused_early(c, "a 592x592 RGB image gives Flatten 1051392 inputs, more than the 1048576 "
                     "one layer axis may have: use an image size of at most 591x591");
}

/* Writes the fixture head Flatten -> Dense(4, softmax) with `units` units
 * to c->dir/name. */
static void write_head(const cli *c, const char *name, int units)
{
    char path[4400], *text, *at;
    size_t len;

    text = (char *)tmpdir_read(CLFIT_SOURCE_DIR "/tests/fixtures/keras/head_flatten_tf2.json",
                               &len);
    assert_non_null(text);
    at = strstr(text, "\"units\": 4");
    assert_non_null(at);
    at[strlen("\"units\": ")] = (char)('0' + units);
    snprintf(path, sizeof path, "%s/%s", c->dir, name);
    assert_int_equal(tmpdir_write(path, text, len), 0);
    free(text);
}

/* A Keras JSON head on a base must end in as many units as DATA_DIR has
 * classes (3 here): one that does trains, one that does not is refused
 * before the images load. */
static void test_json_head_on_base(void **state)
{
    cli *c = *state;
    const char *base = fixture_mobilenet_json();

    CLI_NEED(c);
    if (!base) {
        print_message("%s\n", FIXTURE_FETCH_HINT);
        skip();
    }
    write_head(c, "head3.json", 3);
    write_head(c, "head4.json", 4);
    cli_run(c, "train data --device cpu --image-size 32 --epochs 1 --base '%s' "
               "--model head4.json", base);
    refused_early(c, "head4.json ends in 4 classes, but 3 are wanted");
    cli_run(c, "train data --device cpu --image-size 32 --epochs 1 --base '%s' "
               "--model head3.json", base);
    cli_expect(c, 0, "test_accuracy");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_flag_is_not_a_value),
        cmocka_unit_test(test_batch_larger_than_data),
        cmocka_unit_test(test_one_class_refused),
        cmocka_unit_test(test_outputs_apart),
        cmocka_unit_test(test_outputs_replace_nothing),
        cmocka_unit_test(test_class_names_not_utf8),
        cmocka_unit_test(test_resume_refusals),
        cmocka_unit_test(test_bad_base_before_images),
        cmocka_unit_test(test_json_head_on_base),
    };

    return cmocka_run_group_tests(tests, cli_setup, cli_teardown);
}
