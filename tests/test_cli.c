/* The clfit command line, run as a user runs it: the built binary in a
 * child process, its exit code, stdout and stderr.
 *
 * Every flag of train, evaluate and predict gets missing, malformed and
 * out-of-range values, written both as "--flag value" and "--flag=value":
 * each must be a usage error (exit 2) whose message names the flag, before
 * any device is opened. Then runtime failures (exit 1, naming the path or
 * device): missing folders and files, empty classes, too few images, bad
 * images, damaged models, a loss that turns NaN after --resume (the
 * checkpoint must stay byte-identical), devices that do not exist, no
 * OpenCL platform (and the cpu fallback), device memory limits. All on a
 * tiny image folder and a model trained on it by the group setup. */
#include <errno.h>
#include <fcntl.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cmocka.h>

#include <cJSON.h>

#include "io/safetensors.h"
#include "support/backends.h"
#include "test_data_util.h"

#define CLFIT_EXE CLFIT_BINARY_DIR "/clfit"

enum { OUT_MAX = 1 << 16, MAX_ARGS = 32 };

typedef struct result {
    int code;                    /* exit status, or 128 + signal */
    char out[OUT_MAX], err[OUT_MAX];
} result;

/* Reads what the child wrote into fd (from the start) into buf. */
static void read_back(int fd, char *buf)
{
    ssize_t n;
    size_t got = 0;

    lseek(fd, 0, SEEK_SET);
    while (got < OUT_MAX - 1 && (n = read(fd, buf + got, OUT_MAX - 1 - got)) > 0)
        got += (size_t)n;
    buf[got] = '\0';
    close(fd);
}

static int scratch_fd(void)
{
    char path[] = "/tmp/clfit-cli-XXXXXX";
    int fd = mkstemp(path);

    assert_true(fd >= 0);
    unlink(path);
    return fd;
}

/* Runs clfit with argv (NULL-terminated, without the program name) and
 * the environment changes env ("NAME=value" sets, "NAME" unsets; may be
 * NULL). CLFIT_DEVICE is always unset first, so the machine's own
 * setting cannot change the outcome. The child is killed after 120 s. */
static void run_env(result *r, const char *const *env, const char *const *argv)
{
    const char *args[MAX_ARGS + 2] = {CLFIT_EXE};
    int out = scratch_fd(), err = scratch_fd(), status;
    pid_t pid;

    for (int i = 0; argv[i]; i++) {
        assert_true(i < MAX_ARGS);
        args[i + 1] = argv[i];
    }
    fflush(NULL);
    pid = fork();
    assert_true(pid >= 0);
    if (pid == 0) {
        unsetenv("CLFIT_DEVICE");
        for (int i = 0; env && env[i]; i++) {
            if (strchr(env[i], '='))
                putenv((char *)env[i]);
            else
                unsetenv(env[i]);
        }
        dup2(out, 1);
        dup2(err, 2);
        alarm(120);
        execv(CLFIT_EXE, (char *const *)args);
        _exit(127);
    }
    assert_int_equal(waitpid(pid, &status, 0), pid);
    r->code = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
    read_back(out, r->out);
    read_back(err, r->err);
}

#define RUN(r, ...) run_env((r), NULL, (const char *const[]){__VA_ARGS__, NULL})
#define RUN_ENV(r, env, ...) run_env((r), (env), (const char *const[]){__VA_ARGS__, NULL})

/* Fails with the whole output unless the exit code is `code` and stderr
 * holds `needle`. */
static void expect(const result *r, int code, const char *needle, const char *what)
{
    if (r->code != code || !strstr(r->err, needle))
        fail_msg("%s: want exit %d and stderr with \"%s\"; got exit %d\n"
                 "--- stdout:\n%s--- stderr:\n%s",
                 what, code, needle, r->code, r->out, r->err);
}

/* ---- a tiny image folder ---- */

static char data_dir[600], tmp_root[512];

static char model_path[700];     /* a model saved by the group setup */

/* root/model.safetensors: one epoch on the folder, for evaluate and
 * predict. */
static int save_model(void)
{
    result *r = malloc(sizeof *r);
    int ok;

    snprintf(model_path, sizeof model_path, "%s/model.safetensors", tmp_root);
    if (!r)
        return -1;
    RUN(r, "train", data_dir, "--device", "cpu", "--image-size", "6", "--epochs", "1",
        "--save", model_path);
    ok = r->code == 0;
    if (!ok)
        fprintf(stderr, "saving the test model failed:\n%s", r->err);
    free(r);
    return ok ? 0 : -1;
}

/* root/data: classes a and b, six 6 x 6 PNGs each (bright / dark with a
 * per-image shade), enough for the default 0.7/0.2/0.1 split. */
static int make_folder(void **state)
{
    (void)state;
    if (!temp_dir(tmp_root, sizeof tmp_root))
        return -1;
    snprintf(data_dir, sizeof data_dir, "%s/data", tmp_root);
    if (make_dir(tmp_root, "data") || make_dir(data_dir, "a") || make_dir(data_dir, "b"))
        return -1;
    for (int i = 0; i < 6; i++) {
        char rel[32];

        snprintf(rel, sizeof rel, "a/%d.png", i);
        if (put_solid_png(data_dir, rel, 6, 6, 200 + 5 * i, 190, 180))
            return -1;
        snprintf(rel, sizeof rel, "b/%d.png", i);
        if (put_solid_png(data_dir, rel, 6, 6, 20 + 5 * i, 30, 40))
            return -1;
    }
    return save_model();
}

static int remove_folder(void **state)
{
    (void)state;
    remove_tree(tmp_root);
    return 0;
}

/* ---- usage errors: every flag ---- */

typedef struct bad_flag {
    const char *flag;
    const char *values[16];      /* NULL-terminated */
} bad_flag;

/* Bad values per flag; each is tried as "--flag value" and as
 * "--flag=value", and the flag alone at the end (no value). */
static const bad_flag train_bad[] = {
    {"--device", {"", "opencl:", "opencl:x:0", "opencl:0", "opencl:0:", "opencl:0:0:1",
                  "opencl:-1:0", NULL}},
    {"--model", {"", "cnn", "mlp", "mlp:", "mlp:0", "mlp:-4", "mlp:x", "mlp:99999999",
                 "mlp:1.5", "head.json", "x.JSON", NULL}},
    {"--preprocess", {"", "zero", "UNIT", NULL}},
    {"--image-size", {"", "0", "-3", "x", "5x", "x5", "5x5x5", "99999", "1.5", "5x0",
                      "abc", NULL}},
    {"--epochs", {"", "0", "-1", "1.5", "abc", "99999999999999999999", "2x", NULL}},
    {"--batch-size", {"", "0", "-12", "70000", "x", "1e3", NULL}},
    {"--optimizer", {"", "rmsprop", "Adam", NULL}},
    {"--learning-rate", {"", "0", "-1", "nan", "inf", "1e400", "abc", "1e4", "0.1x",
                         "0x10", " 0.1", NULL}},
    {"--seed", {"", "-1", " -1", "x", "1.5", "99999999999999999999999", "+", NULL}},
    {"--split", {"", "0.5", "0.5,0.6", "a,b", "0.7,0.2,0.1,0", "-0.1,1.1", ",,", "nan,0,1",
                 "0.7;0.3", ",0.5,0.5", "0.5,,0.5", "0.7,0.2,0.1,", NULL}},
    {"--on-bad-image", {"", "ignore", "SKIP", NULL}},
    {"--threads", {"", "0", "-2", "99999", "x", NULL}},
    {"--base", {"", NULL}},
    {"--base-layer", {"", "out_relu", NULL}},  /* empty, or without --base */
    {"--save", {"", NULL}},
    {"--checkpoint-dir", {"", NULL}},
    {"--log", {"", NULL}},
    {"--plot", {"", NULL}},
    {"--image-cache", {"", NULL}},
};

static const bad_flag evaluate_bad[] = {
    {"--device", {"", "opencl:1", "opencl:a:b", NULL}},
    {"--batch-size", {"", "0", "-1", "x", "65537", NULL}},
    {"--threads", {"", "0", "1025", "two", NULL}},
    {"--on-bad-image", {"", "warn", NULL}},
    {"--plot", {"", NULL}},
    {"--image-cache", {"", NULL}},
};

static const bad_flag predict_bad[] = {
    {"--device", {"", "opencl:", "opencl:0:x", NULL}},
    {"--top", {"", "0", "-3", "x", "2.5", "99999999999", NULL}},
};

/* A usage error names the flag, and nothing ran: no "Device:" line. */
static void expect_usage(const result *r, const char *flag, const char *what)
{
    expect(r, 2, flag, what);
    if (strstr(r->out, "Device:"))
        fail_msg("%s: a device was opened before the usage error", what);
}

/* Runs each bad value of each flag in table[0..n): the words of `cmd`
 * ("train", or "bench step"), then the flag, then the positional
 * arguments pos; again as "--flag=value" after them; and the flag alone
 * at the end. cmd and pos are NULL-terminated, 4 words at most. */
static void bad_values(const char *const *cmd, const bad_flag *table, size_t n,
                       const char *const *pos)
{
    result *r = malloc(sizeof *r);
    char joined[256], what[300];

    assert_non_null(r);
    for (size_t f = 0; f < n; f++) {
        const bad_flag *b = &table[f];

        for (int v = -1; v < 0 || b->values[v]; v++) {
            const char *argv[16];
            int k = 0;

            for (int i = 0; cmd[i]; i++)
                argv[k++] = cmd[i];
            if (v >= 0) {
                argv[k++] = b->flag;
                argv[k++] = b->values[v];
            }
            for (int i = 0; pos[i]; i++)
                argv[k++] = pos[i];
            if (v < 0) { /* the flag last, without its value */
                argv[k++] = b->flag;
                snprintf(what, sizeof what, "%s ... %s (no value)", cmd[0], b->flag);
            } else {
                snprintf(what, sizeof what, "%s %s '%s'", cmd[0], b->flag, b->values[v]);
            }
            argv[k] = NULL;
            run_env(r, NULL, argv);
            expect_usage(r, b->flag, what);
            if (v < 0) {
                expect_usage(r, "needs a value", what);
                continue;
            }

            /* "--flag=value" after the positional arguments */
            snprintf(joined, sizeof joined, "%s=%s", b->flag, b->values[v]);
            k = 0;
            for (int i = 0; cmd[i]; i++)
                argv[k++] = cmd[i];
            for (int i = 0; pos[i]; i++)
                argv[k++] = pos[i];
            argv[k++] = joined;
            argv[k] = NULL;
            run_env(r, NULL, argv);
            expect_usage(r, b->flag, joined);
        }
    }
    free(r);
}

#define COUNT(t) (sizeof t / sizeof t[0])

static void train_flag_values(void **state)
{
    (void)state;
    bad_values((const char *[]){"train", NULL}, train_bad, COUNT(train_bad),
               (const char *[]){data_dir, NULL});
}

static void evaluate_flag_values(void **state)
{
    (void)state;
    bad_values((const char *[]){"evaluate", NULL}, evaluate_bad, COUNT(evaluate_bad),
               (const char *[]){model_path, data_dir, NULL});
}

static void predict_flag_values(void **state)
{
    char image[700];

    (void)state;
    snprintf(image, sizeof image, "%s/a/0.png", data_dir);
    bad_values((const char *[]){"predict", NULL}, predict_bad, COUNT(predict_bad),
               (const char *[]){model_path, image, NULL});
}

static const bad_flag tune_bad[] = {
    {"--device", {"", "opencl:", "opencl:1:x", "cpu", "CPU", NULL}},
};
static const bad_flag bench_step_bad[] = {
    {"--device", {"", "opencl:0", NULL}},
    {"--model", {"", "cnn", "mlp:0", "linear:3", "mlp:65537", "mlp:x", "head.json", NULL}},
    {"--classes", {"0", "x", NULL}},
    {"--batch-size", {"0", "-1", NULL}},
    {"--image-size", {"0", "x", NULL}},
    {"--steps", {"0", "1e9", NULL}},
    {"--warmup", {"-1", "x", NULL}},
};
static const bad_flag bench_gemm_bad[] = {
    {"--device", {"", NULL}},
    {"--shape", {"", "x", "1x2", "0x1x1", "1x1x1:QQ", NULL}},
    {"--repeat", {"0", "1001", NULL}},
};
static const bad_flag bench_data_bad[] = {
    {"--device", {"", NULL}},
    {"--image-size", {"0", NULL}},
    {"--threads", {"0", NULL}},
    {"--epochs", {"0", NULL}},
    {"--batch-size", {"0", NULL}},
};
static const bad_flag bench_start_bad[] = {
    {"--device", {"", NULL}},
    {"--classes", {"1", "x", NULL}},
};
static const bad_flag bench_mobilenet_bad[] = {
    {"--device", {"", NULL}},
    {"--base", {"", NULL}},
    {"--base-layer", {"", NULL}},
    {"--batches", {"0", "x", NULL}},
};

/* The developer commands: tune and the bench sections. */
static void tune_and_bench_flag_values(void **state)
{
    static const char *const none[] = {NULL};

    (void)state;
    bad_values((const char *[]){"tune", NULL}, tune_bad, COUNT(tune_bad), none);
    bad_values((const char *[]){"bench", "step", NULL}, bench_step_bad,
               COUNT(bench_step_bad), none);
    bad_values((const char *[]){"bench", "gemm", NULL}, bench_gemm_bad,
               COUNT(bench_gemm_bad), none);
    bad_values((const char *[]){"bench", "data", NULL}, bench_data_bad,
               COUNT(bench_data_bad), (const char *[]){data_dir, NULL});
    bad_values((const char *[]){"bench", "start", NULL}, bench_start_bad,
               COUNT(bench_start_bad), none);
    bad_values((const char *[]){"bench", "mobilenet", NULL}, bench_mobilenet_bad,
               COUNT(bench_mobilenet_bad), none);
}

/* Messages quote the whole value and tell a number too large from one
 * that is no number; bench step's --model takes train's range. */
static void values_in_messages(void **state)
{
    result r;

    (void)state;
    RUN(&r, "train", data_dir, "--epochs", "99999999999999999999");
    expect_usage(&r, "'99999999999999999999' is out of range; use 1 to", "huge --epochs");
    RUN(&r, "train", data_dir, "--image-size", "28x");
    expect_usage(&r, "--image-size: '28x' is not N or HxW", "--image-size 28x");
    RUN(&r, "train", data_dir, "--seed", "99999999999999999999999");
    expect_usage(&r, "is out of range; use 0 to", "huge --seed");
    RUN(&r, "bench", "step", "--model", "mlp:0");
    expect_usage(&r, "'mlp:0' is out of range; use mlp:1 to mlp:65536", "bench mlp:0");
    RUN(&r, "tune", "--device", "cpu");
    expect_usage(&r, "cpu has no GEMM parameters to tune", "tune --device cpu");
}

static void flags_without_values(void **state)
{
    result r;

    (void)state;
    RUN(&r, "train", data_dir, "--verbose=yes");
    expect_usage(&r, "--verbose", "--verbose=yes");
    expect_usage(&r, "takes no value", "--verbose=yes");
    RUN(&r, "train", data_dir, "--resume=yes");
    expect_usage(&r, "--resume", "--resume=yes");
    RUN(&r, "evaluate", model_path, data_dir, "--verbose=1");
    expect_usage(&r, "--verbose", "evaluate --verbose=1");
    RUN(&r, "predict", model_path, "x.png", "--verbose=1");
    expect_usage(&r, "--verbose", "predict --verbose=1");

    /* flags that need each other */
    RUN(&r, "train", data_dir, "--resume");
    expect_usage(&r, "--resume", "--resume without --checkpoint-dir");
    expect_usage(&r, "--checkpoint-dir", "--resume without --checkpoint-dir");
}

static void unknown_flags_and_commands(void **state)
{
    result r;

    (void)state;
    RUN(&r, "train", data_dir, "--frobnicate", "3");
    expect_usage(&r, "--frobnicate", "unknown flag");
    RUN(&r, "train", "-x", data_dir);
    expect_usage(&r, "-x", "unknown short flag");
    RUN(&r, "frob");
    expect_usage(&r, "unknown command 'frob'", "unknown command");
    RUN(&r, "devices", "--all");
    expect_usage(&r, "devices", "devices with an argument");
    run_env(&r, NULL, (const char *const[]){NULL});
    expect_usage(&r, "usage: clfit COMMAND", "no command");
}

static void data_dir_count(void **state)
{
    result r;

    (void)state;
    RUN(&r, "train");
    expect_usage(&r, "DATA_DIR", "train without DATA_DIR");
    RUN(&r, "train", "--epochs", "1");
    expect_usage(&r, "DATA_DIR", "train with flags but no DATA_DIR");
    RUN(&r, "train", data_dir, data_dir);
    expect_usage(&r, "one DATA_DIR", "train with two folders");
    RUN(&r, "evaluate", model_path);
    expect_usage(&r, "evaluate", "evaluate without DATA_DIR");
    RUN(&r, "evaluate");
    expect_usage(&r, "evaluate", "evaluate without arguments");
    RUN(&r, "evaluate", model_path, data_dir, data_dir);
    expect_usage(&r, "evaluate", "evaluate with an extra argument");
    RUN(&r, "predict", model_path);
    expect_usage(&r, "IMAGE", "predict without images");
}

static void help_is_not_an_error(void **state)
{
    result r;

    (void)state;
    RUN(&r, "--help");
    assert_int_equal(r.code, 0);
    assert_non_null(strstr(r.out, "--learning-rate"));
}

/* ---- runtime failures: exit 1, naming what is wrong ---- */

static void missing_data_dir(void **state)
{
    char path[700];
    result r;

    (void)state;
    snprintf(path, sizeof path, "%s/no-such-folder", tmp_root);
    RUN(&r, "train", path, "--device", "cpu");
    expect(&r, 1, path, "nonexistent DATA_DIR");
    expect(&r, 1, "No such file or directory", "nonexistent DATA_DIR");

    /* a file where the folder should be */
    snprintf(path, sizeof path, "%s/a/0.png", data_dir);
    RUN(&r, "train", path, "--device", "cpu");
    expect(&r, 1, path, "DATA_DIR is a file");
}

static void empty_class_folder(void **state)
{
    char root[512], data[600];
    result r;

    (void)state;
    assert_non_null(temp_dir(root, sizeof root));
    snprintf(data, sizeof data, "%s/d", root);
    assert_int_equal(make_dir(root, "d"), 0);
    assert_int_equal(make_dir(data, "full"), 0);
    assert_int_equal(make_dir(data, "hollow"), 0);
    for (int i = 0; i < 4; i++) {
        char rel[32];

        snprintf(rel, sizeof rel, "full/%d.png", i);
        assert_int_equal(put_solid_png(data, rel, 4, 4, 9 * i, 0, 0), 0);
    }
    RUN(&r, "train", data, "--device", "cpu", "--image-size", "4");
    expect(&r, 1, "hollow", "empty class folder");
    expect(&r, 1, "add images to it or remove it", "empty class folder");
    if (strstr(r.err, "library") || strstr(r.err, "allow_empty_classes"))
        fail_msg("library detail shown to a CLI user:\n%s", r.err);
    remove_tree(root);
}

/* Two images under the default 0.7/0.2/0.1 split: random_split's sizes
 * are 2/0/0 (floor 1.4, 0.4, 0.2 = 1/0/0, the remainder 1 to the first
 * subset), so validation would be empty: exit 1 with a message that says
 * so, not an empty batch. */
static void too_few_images(void **state)
{
    char root[512], data[600];
    result r;

    (void)state;
    assert_non_null(temp_dir(root, sizeof root));
    snprintf(data, sizeof data, "%s/d", root);
    assert_int_equal(make_dir(root, "d"), 0);
    assert_int_equal(make_dir(data, "x"), 0);
    assert_int_equal(make_dir(data, "y"), 0);
    assert_int_equal(put_solid_png(data, "x/0.png", 4, 4, 1, 2, 3), 0);
    assert_int_equal(put_solid_png(data, "y/0.png", 4, 4, 3, 2, 1), 0);
    RUN(&r, "train", data, "--device", "cpu", "--image-size", "4");
    expect(&r, 1, "2 images are too few for the split 0.7,0.2,0.1", "too few images");
    expect(&r, 1, "2/0/0", "too few images");
    remove_tree(root);
}

/* Files named by flags are looked at before the images are loaded (a big
 * folder takes minutes): no "found N images" line before the error. */
static void missing_files_found_first(void **state)
{
    char path[700];
    result r;

    (void)state;
    snprintf(path, sizeof path, "%s/no-such/model.json", tmp_root);
    RUN(&r, "train", data_dir, "--device", "cpu", "--base", path);
    expect(&r, 1, path, "--base missing");
    if (strstr(r.err, "found"))
        fail_msg("--base missing: images were loaded first:\n%s", r.err);

    snprintf(path, sizeof path, "%s/no-such/m.safetensors", tmp_root);
    RUN(&r, "train", data_dir, "--device", "cpu", "--save", path);
    expect(&r, 1, "does not exist", "--save into a missing folder");
    if (strstr(r.err, "found") || strstr(r.out, "Epoch"))
        fail_msg("--save into a missing folder: work started first:\n%s", r.err);
}

static void evaluate_and_predict_failures(void **state)
{
    char missing[700], text[700], good[700], absent[700];
    result r;

    (void)state;
    snprintf(missing, sizeof missing, "%s/none.safetensors", tmp_root);
    RUN(&r, "evaluate", missing, data_dir, "--device", "cpu");
    expect(&r, 1, missing, "evaluate a missing model");
    RUN(&r, "predict", missing, "x.png", "--device", "cpu");
    expect(&r, 1, missing, "predict with a missing model");

    /* a text file where the model should be */
    assert_int_equal(put_bytes(tmp_root, "fake.safetensors", "not a model at all\n", 19), 0);
    snprintf(text, sizeof text, "%s/fake.safetensors", tmp_root);
    RUN(&r, "evaluate", text, data_dir, "--device", "cpu");
    expect(&r, 1, text, "evaluate a text file");

    /* a model.json where the model file should be, and the reverse */
    assert_int_equal(put_bytes(tmp_root, "model.json", "{\"format\": \"layers-model\"}\n",
                               27), 0);
    snprintf(text, sizeof text, "%s/model.json", tmp_root);
    RUN(&r, "predict", text, "x.png", "--device", "cpu");
    expect(&r, 1, "it is JSON, like a TF.js/Keras model.json", "predict with a model.json");
    expect(&r, 1, "used with 'train --base'", "predict with a model.json");
    RUN(&r, "train", data_dir, "--device", "cpu", "--base", model_path);
    expect(&r, 1, "this is a clfit model file (safetensors), not a Keras/TF.js model.json",
           "train --base with a model file");
    snprintf(text, sizeof text, "%s/fake.safetensors", tmp_root);

    /* predict: the readable image is answered, the others named; exit 1 */
    snprintf(good, sizeof good, "%s/a/1.png", data_dir);
    snprintf(absent, sizeof absent, "%s/a/absent.png", data_dir);
    RUN(&r, "predict", model_path, absent, text, good, "--device", "cpu");
    expect(&r, 1, absent, "predict: a missing image");
    expect(&r, 1, "fake.safetensors", "predict: a text file as an image");
    if (!strstr(r.out, "1.png"))
        fail_msg("predict: the good image got no answer:\n%s", r.out);

    RUN(&r, "evaluate", model_path, data_dir, "--device", "cpu");
    expect(&r, 0, "", "evaluate the saved model");
}

/* Replaces tensor `name` of the safetensors file at path by values whose
 * kernel columns are +1e38 and -1e38 (finite, so the file is valid; the
 * logits overflow, see test_hostile_fit.c), keeping everything else. The
 * writer recomputes the CRC. */
static void poison_tensor(const char *path, const char *name)
{
    clf_st_file f;
    clf_st_writer w;
    const cJSON *m;

    assert_int_equal(clf_st_read(path, &f), CLF_OK);
    clf_st_writer_init(&w);
    cJSON_ArrayForEach(m, f.meta)
        if (strcmp(m->string, CLF_ST_CRC_KEY) != 0)
            assert_int_equal(clf_st_writer_meta(&w, m->string, m->valuestring), CLF_OK);
    for (int i = 0; i < f.n; i++) {
        const clf_st_tensor *t = &f.tensors[i];
        int shape[CLF_ST_MAX_RANK];
        float *v = malloc((t->count ? t->count : 1) * sizeof *v);

        assert_non_null(v);
        assert_int_equal(clf_st_get_f32(&f, t, v, t->count), CLF_OK);
        for (size_t k = 0; strcmp(t->name, name) == 0 && k < t->count; k++)
            v[k] = k % 2 ? -1e38f : 1e38f;
        for (int d = 0; d < t->rank; d++)
            shape[d] = (int)t->shape[d];
        assert_int_equal(clf_st_writer_take_f32(&w, t->name, t->rank, shape, v), CLF_OK);
    }
    assert_int_equal(clf_st_writer_save(&w, path), CLF_OK);
    clf_st_writer_free(&w);
    clf_st_free(&f);
}

/* A loss that goes bad: a run checkpoints epoch 1; its kernel is replaced
 * by huge values; resuming to 3 epochs meets a NaN loss at epoch 2, step
 * 1, exits 1 saying so, and leaves the checkpoint exactly as it was. */
static void bad_loss_keeps_checkpoint(void **state)
{
    char ck[700], file[800];
    unsigned char *before, *after;
    size_t nb, na;
    result r;

    (void)state;
    snprintf(ck, sizeof ck, "%s/ck", tmp_root);
    snprintf(file, sizeof file, "%s/checkpoint.safetensors", ck);
    RUN(&r, "train", data_dir, "--device", "cpu", "--image-size", "6", "--epochs", "1",
        "--optimizer", "sgd", "--checkpoint-dir", ck);
    expect(&r, 0, "", "the run to checkpoint");
    poison_tensor(file, "dense/kernel");
    before = slurp(file, &nb);
    assert_non_null(before);

    RUN(&r, "train", data_dir, "--device", "cpu", "--image-size", "6", "--epochs", "3",
        "--optimizer", "sgd", "--checkpoint-dir", ck, "--resume");
    expect(&r, 1, "the loss became NaN at epoch 2, step 1", "resume into a bad loss");
    expect(&r, 1, "keeps the checkpoint of epoch 1", "resume into a bad loss");
    after = slurp(file, &na);
    assert_non_null(after);
    assert_int_equal(na, nb);
    assert_memory_equal(after, before, nb);
    free(before);
    free(after);
}

/* ---- devices ---- */

static void device_that_does_not_exist(void **state)
{
    result r;

    (void)state;
    RUN(&r, "train", data_dir, "--device", "opencl:9:9");
    if (clf_test_have_opencl()) {
        expect(&r, 1, "opencl:9:9", "--device opencl:9:9");
        expect(&r, 1, "opencl:0:0", "--device opencl:9:9 lists the devices");
    } else {
        expect(&r, 1, "install an OpenCL driver", "--device opencl:9:9 without OpenCL");
    }
    expect(&r, 1, "cpu", "--device opencl:9:9 names the cpu backend");

    RUN(&r, "train", data_dir, "--device", "no-such-device-name");
    expect(&r, 1, "no-such-device-name", "--device by an unknown name");
}

/* The ICD loader pointed at an empty vendors folder finds no platform. */
static void no_opencl_platform(void **state)
{
    char vendors[512], env_vendors[600];
    const char *env[] = {env_vendors, "OPENCL_VENDOR_PATH", NULL};
    result r;

    (void)state;
    assert_non_null(temp_dir(vendors, sizeof vendors));
    snprintf(env_vendors, sizeof env_vendors, "OCL_ICD_VENDORS=%s", vendors);

    RUN_ENV(&r, env, "train", data_dir, "--device", "opencl", "--image-size", "6");
    expect(&r, 1, "install an OpenCL driver", "--device opencl with no platform");

    /* without --device: the cpu backend, with a notice, and training runs */
    RUN_ENV(&r, env, "train", data_dir, "--image-size", "6", "--epochs", "1");
    expect(&r, 0, "using the plain C cpu backend", "no --device, no platform");
    assert_non_null(strstr(r.out, "Device: cpu"));

    /* devices: a warning, not an error, since cpu is listed */
    RUN_ENV(&r, env, "devices");
    expect(&r, 0, "warning: no OpenCL platform found", "devices with no platform");
    expect(&r, 0, "pocl-opencl-icd", "devices with no platform");
    assert_null(strstr(r.err, "error"));
    assert_non_null(strstr(r.out, "cpu"));

    /* tune: refused before any device opens or any measuring starts */
    RUN_ENV(&r, env, "tune", "--quick");
    expect(&r, 1, "no OpenCL device found", "tune with no platform");
    expect(&r, 1, "pocl-opencl-icd", "tune with no platform");
    if (strstr(r.out, "Device:") || strstr(r.out, "Measuring"))
        fail_msg("tune opened a device or measured:\n%s", r.out);
    rmdir(vendors);
}

/* True when opencl:0:0 is PoCL, whose memory can be capped from outside
 * with POCL_MEMORY_LIMIT (GiB of global memory; PoCL then allows a
 * quarter of it in one allocation). */
static bool first_device_is_pocl(void)
{
    clf_device_desc *devs = NULL;
    size_t n = 0;
    bool pocl;

    if (!clf_test_have_opencl() || clf_devices_list(&devs, &n) != CLF_OK)
        return false;
    pocl = n > 0 && devs[0].platform == 0 && devs[0].device == 0 &&
           strstr(devs[0].platform_name, "Portable Computing Language");
    free(devs);
    return pocl;
}

/* root/big: 115 PNGs in classes a and b, so that the training subset
 * (81 images) holds a batch of 80: a larger batch would be lowered to the
 * subset's size, as Keras runs it. */
static const char *big_folder(void)
{
    static char dir[700];

    snprintf(dir, sizeof dir, "%s/big", tmp_root);
    if (access(dir, F_OK) == 0)
        return dir;
    assert_int_equal(make_dir(tmp_root, "big"), 0);
    assert_int_equal(make_dir(dir, "a"), 0);
    assert_int_equal(make_dir(dir, "b"), 0);
    for (int i = 0; i < 115; i++) {
        char rel[32];

        snprintf(rel, sizeof rel, "%c/%d.png", i % 2 ? 'b' : 'a', i);
        assert_int_equal(put_solid_png(dir, rel, 6, 6, 20 + i, 30, 40), 0);
    }
    return dir;
}

/* Device memory limits, found before anything is enqueued: PoCL capped
 * at 1 GiB allows 256 MiB in one allocation. A batch of 80 images of
 * 590 x 590 needs an input buffer of 80 * 590 * 590 * 3 floats * 4 bytes
 * = 334176000 bytes; a batch of 80 of 512 x 512 with an mlp:64 fits each
 * buffer but not all of them together. */
static void opencl_memory_limits(void **state)
{
    const char *env[] = {"POCL_MEMORY_LIMIT=1", NULL};
    result *r = malloc(sizeof *r);
    const char *big;

    (void)state;
    assert_non_null(r);
    if (!first_device_is_pocl()) {
        free(r);
        printf("skipping: opencl:0:0 is not PoCL (POCL_MEMORY_LIMIT would not apply)\n");
        skip();
    }
    big = big_folder();
    RUN_ENV(r, env, "train", big, "--device", "opencl:0:0", "--image-size", "590",
            "--batch-size", "80", "--epochs", "1");
    expect(r, 1, "needs 334176000 bytes", "one buffer over the allocation limit");
    expect(r, 1, "allows at most 268435456 bytes", "one buffer over the allocation limit");
    expect(r, 1, "CL_DEVICE_MAX_MEM_ALLOC_SIZE", "one buffer over the allocation limit");

    RUN_ENV(r, env, "train", big, "--device", "opencl:0:0", "--image-size", "512",
            "--batch-size", "80", "--model", "mlp:64", "--epochs", "1");
    expect(r, 1, "1073741824 bytes (1024.0 MiB) of global memory", "buffers over memory");
    expect(r, 1, "use a smaller batch or image size", "buffers over memory");
    if (strstr(r->out, "Epoch 1/1"))
        fail_msg("training started before the memory check:\n%s", r->out);
    free(r);
}

/* ---- a run that works, and bad images in it ---- */

static void tiny_run_succeeds(void **state)
{
    result r;

    (void)state;
    RUN(&r, "train", data_dir, "--device", "cpu", "--image-size", "6", "--epochs", "2",
        "--batch-size", "4");
    expect(&r, 0, "", "tiny training run");
    assert_non_null(strstr(r.out, "Epoch 2/2"));
    assert_non_null(strstr(r.out, "test_accuracy"));
}

/* A text file posing as a PNG: a warning naming it and exit 0 by default;
 * exit 1 with --on-bad-image fail; in train and in evaluate. */
static void bad_image_policy(void **state)
{
    char root[512], data[600];
    result r;

    (void)state;
    assert_non_null(temp_dir(root, sizeof root));
    snprintf(data, sizeof data, "%s/d", root);
    assert_int_equal(make_dir(root, "d"), 0);
    assert_int_equal(make_dir(data, "a"), 0);
    assert_int_equal(make_dir(data, "b"), 0);
    for (int i = 0; i < 5; i++) {
        char rel[32];

        snprintf(rel, sizeof rel, "a/%d.png", i);
        assert_int_equal(put_solid_png(data, rel, 4, 4, 200, 10 * i, 0), 0);
        snprintf(rel, sizeof rel, "b/%d.png", i);
        assert_int_equal(put_solid_png(data, rel, 4, 4, 0, 10 * i, 200), 0);
    }
    assert_int_equal(put_bytes(data, "b/notes.png", "just some text\n", 15), 0);

    RUN(&r, "train", data, "--device", "cpu", "--image-size", "4", "--epochs", "1");
    expect(&r, 0, "notes.png", "a text file among the images");
    RUN(&r, "train", data, "--device", "cpu", "--image-size", "4", "--epochs", "1",
        "--on-bad-image", "fail");
    expect(&r, 1, "notes.png", "--on-bad-image fail");

    /* evaluate on the same folder (classes a and b, as the saved model) */
    RUN(&r, "evaluate", model_path, data, "--device", "cpu");
    expect(&r, 0, "notes.png", "evaluate: a text file among the images");
    RUN(&r, "evaluate", model_path, data, "--device", "cpu", "--on-bad-image", "fail");
    expect(&r, 1, "notes.png", "evaluate --on-bad-image fail");
    remove_tree(root);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(train_flag_values),
        cmocka_unit_test(evaluate_flag_values),
        cmocka_unit_test(predict_flag_values),
        cmocka_unit_test(tune_and_bench_flag_values),
        cmocka_unit_test(values_in_messages),
        cmocka_unit_test(flags_without_values),
        cmocka_unit_test(unknown_flags_and_commands),
        cmocka_unit_test(data_dir_count),
        cmocka_unit_test(help_is_not_an_error),
        cmocka_unit_test(missing_data_dir),
        cmocka_unit_test(empty_class_folder),
        cmocka_unit_test(too_few_images),
        cmocka_unit_test(missing_files_found_first),
        cmocka_unit_test(evaluate_and_predict_failures),
        cmocka_unit_test(bad_loss_keeps_checkpoint),
        cmocka_unit_test(device_that_does_not_exist),
        cmocka_unit_test(no_opencl_platform),
        cmocka_unit_test(opencl_memory_limits),
        cmocka_unit_test(tiny_run_succeeds),
        cmocka_unit_test(bad_image_policy),
    };

    return cmocka_run_group_tests(tests, make_folder, remove_folder);
}
