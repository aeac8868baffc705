/* Model and weight files that are not files: a named pipe (FIFO), a
 * folder, a missing path. Each must fail at once with CLF_ERR_IO and a
 * message naming the path; a FIFO must never be waited on (an alarm turns
 * a hang into a failed test). */
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>

#include "io/keras_json.h"
#include "io/tfjs_weights.h"
#include "support/logcap.h"
#include "test_data_util.h"

static char root[512];

static int setup(void **state)
{
    (void)state;
    return temp_dir(root, sizeof root) ? 0 : -1;
}

static int teardown(void **state)
{
    (void)state;
    remove_tree(root);
    return 0;
}

static void on_alarm(int sig)
{
    (void)sig;
    static const char msg[] = "test_hostile_files: a read blocked (FIFO?)\n";
    if (write(2, msg, sizeof msg - 1) < 0)
        _exit(3);
    _exit(2);
}

/* path = root/name */
static void at(char *path, size_t size, const char *name)
{
    snprintf(path, size, "%s/%s", root, name);
}

/* Both model readers refuse `path` with CLF_ERR_IO, naming it and `why`. */
static void expect_refused(const char *path, const char *why)
{
    clf_graph_desc g = {0};
    clf_weight_set ws = {0};

    signal(SIGALRM, on_alarm);
    alarm(10);
    logcap_begin();
    assert_int_equal(clf_keras_json_read(path, &g), CLF_ERR_IO);
    assert_int_equal(clf_tfjs_weights_read(path, &ws), CLF_ERR_IO);
    if (!LOGCAP_HAS(path, why))
        fail_msg("log does not name '%s' and '%s':\n%s", path, why, logcap_text());
    logcap_end();
    alarm(0);
    assert_null(g.layers);
    assert_null(ws.tensors);
}

static void fifo_model_file(void **state)
{
    char path[600];

    (void)state;
    at(path, sizeof path, "pipe.json");
    assert_int_equal(mkfifo(path, 0600), 0);
    expect_refused(path, "not a regular file");
}

static void folder_model_file(void **state)
{
    char path[600];

    (void)state;
    at(path, sizeof path, "folder.json");
    assert_int_equal(mkdir(path, 0700), 0);
    expect_refused(path, "not a regular file");
}

static void missing_model_file(void **state)
{
    char path[600];

    (void)state;
    at(path, sizeof path, "absent.json");
    expect_refused(path, "No such file");
}

/* A manifest whose shard is a FIFO: the weights reader names the shard
 * and the first tensor it would have held. */
static void fifo_shard(void **state)
{
    static const char model[] =
        "{\"weightsManifest\":[{\"paths\":[\"shard.bin\"],\"weights\":"
        "[{\"name\":\"d/kernel\",\"shape\":[2],\"dtype\":\"float32\"}]}]}";
    char dir[600], path[700];
    clf_weight_set ws = {0};

    (void)state;
    at(dir, sizeof dir, "fifo_shard");
    assert_int_equal(mkdir(dir, 0700), 0);
    assert_int_equal(put_bytes(dir, "model.json", model, sizeof model - 1), 0);
    snprintf(path, sizeof path, "%s/shard.bin", dir);
    assert_int_equal(mkfifo(path, 0600), 0);
    snprintf(path, sizeof path, "%s/model.json", dir);

    signal(SIGALRM, on_alarm);
    alarm(10);
    logcap_begin();
    assert_int_equal(clf_tfjs_weights_read(path, &ws), CLF_ERR_IO);
    if (!LOGCAP_HAS("shard.bin", "not a regular file", "d/kernel"))
        fail_msg("log does not name the shard and tensor:\n%s", logcap_text());
    logcap_end();
    alarm(0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(fifo_model_file),
        cmocka_unit_test(folder_model_file),
        cmocka_unit_test(missing_model_file),
        cmocka_unit_test(fifo_shard),
    };

    return cmocka_run_group_tests(tests, setup, teardown);
}
