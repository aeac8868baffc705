/* Checkpoints without the fit loop: weights, optimizer state, step, fit
 * position and history come back bit for bit, so a step after loading
 * equals a step of the model that was saved; a run with other settings
 * or another model is refused naming each difference; damaged files and
 * the wrong kind of file are refused. */
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "backend/backend.h"
#include "clfit/io.h"
#include "io/checkpoint.h"
#include "support/logcap.h"
#include "support/tmpdir.h"

enum { H = 4, W = 3, CLASSES = 3, BATCH = 5 };
static const char *const names[CLASSES] = {"cat", "dog", "emu"};

typedef struct fixture {
    clf_backend *be;
    const char *dir;
    clf_run_settings rs;
    uint8_t images[BATCH * H * W * 3];
    int32_t labels[BATCH];
} fixture;

static int setup(void **state)
{
    fixture *fx = calloc(1, sizeof *fx);

    if (!fx || clf_cpu_backend_open(&fx->be) != CLF_OK)
        return -1;
    fx->dir = strdup(tmpdir_make("ckpt"));
    fx->rs = (clf_run_settings){.data_dir = "/nonexistent/data", .model_spec = "mlp:4",
                                .height = H, .width = W, .batch_size = BATCH,
                                .split = {0.7, 0.2, 0.1}, .n_split = 3,
                                .preprocess = CLF_PREPROCESS_UNIT, .seed = 20, .images = 50,
                                .classes = CLASSES, .class_names = names};
    clf_optimizer_default(&fx->rs.optimizer, CLF_OPT_ADAM);
    for (size_t i = 0; i < sizeof fx->images; i++)
        fx->images[i] = (uint8_t)(i * 89 % 256);
    for (int i = 0; i < BATCH; i++)
        fx->labels[i] = i % CLASSES;
    *state = fx;
    return 0;
}

static int teardown(void **state)
{
    fixture *fx = *state;

    clf_backend_close(fx->be);
    tmpdir_remove(fx->dir);
    free((void *)fx->dir);
    free(fx);
    return 0;
}

/* A compiled model of the fixture's settings, trained `steps` batches. */
static clf_model *trained(fixture *fx, const char *spec, int steps)
{
    clf_model *m;

    assert_int_equal(clf_model_create(spec, H, W, CLASSES, fx->rs.seed, &m), CLF_OK);
    assert_int_equal(clf_model_compile(m, fx->be, &fx->rs.optimizer, fx->rs.preprocess, BATCH),
                     CLF_OK);
    for (int s = 0; s < steps; s++)
        assert_int_equal(clf_model_train_batch(m, fx->images, fx->labels, BATCH), CLF_OK);
    return m;
}

/* A state at epoch 1, step 2, with sums that need all 17 digits. */
static void some_state(clf_train_state *ts)
{
    clf_epoch_logs e = {.epoch = 0, .steps = 7, .loss = 1.0 / 3, .accuracy = 0.1 + 0.2,
                        .has_val = true, .val_loss = M_PI, .val_accuracy = 0.5,
                        .seconds = 1.25};

    memset(ts, 0, sizeof *ts);
    assert_int_equal(clf_train_state_add(ts, &e), CLF_OK);
    ts->pos = (clf_fit_position){.epoch = 1, .step = 2,
                                 .partial = {.loss_sum = 2.0 / 7, .correct = 3, .count = 10},
                                 .partial_seconds = 0.1};
}

/* Values of tensor k (slot -1) or of its optimizer slot s. */
static float *values(clf_model *m, size_t k, int slot, size_t *count)
{
    clf_tensor_info ti;
    float *v;

    assert_int_equal(clf_model_tensor_info(m, k, &ti), CLF_OK);
    v = malloc(ti.count * sizeof *v);
    if (slot < 0)
        assert_int_equal(clf_model_tensor_read(m, k, v, ti.count), CLF_OK);
    else
        assert_int_equal(clf_model_opt_read(m, k, slot, v, ti.count), CLF_OK);
    *count = ti.count;
    return v;
}

static void assert_same_state(clf_model *a, clf_model *b)
{
    assert_int_equal(clf_model_step(a), clf_model_step(b));
    for (size_t k = 0; k < clf_model_tensor_count(a); k++)
        for (int s = -1; s < clf_model_opt_slots(a); s++) {
            size_t n;
            float *va = values(a, k, s, &n), *vb = values(b, k, s, &n);

            assert_memory_equal(va, vb, n * sizeof *va);
            free(va), free(vb);
        }
}

/* Doubles compared with ==: they must come back bit for bit. */
static void assert_same_position(const clf_fit_position *a, const clf_fit_position *b)
{
    assert_int_equal(a->epoch, b->epoch);
    assert_int_equal(a->step, b->step);
    assert_true(a->partial.loss_sum == b->partial.loss_sum);
    assert_true(a->partial.correct == b->partial.correct);
    assert_int_equal(a->partial.count, b->partial.count);
    assert_true(a->partial_seconds == b->partial_seconds);
}

static void assert_same_logs(const clf_epoch_logs *a, const clf_epoch_logs *b)
{
    assert_int_equal(a->epoch, b->epoch);
    assert_int_equal(a->steps, b->steps);
    assert_true(a->loss == b->loss && a->accuracy == b->accuracy);
    assert_int_equal(a->has_val, b->has_val);
    assert_true(a->val_loss == b->val_loss && a->val_accuracy == b->val_accuracy);
    assert_true(a->seconds == b->seconds);
}

static void test_round_trip_and_next_step(void **state)
{
    fixture *fx = *state;
    clf_model *a = trained(fx, "mlp:4", 3), *b = trained(fx, "mlp:4", 0);
    clf_train_state ts, back;

    some_state(&ts);
    assert_int_equal(clf_checkpoint_save(fx->dir, a, &fx->rs, &ts), CLF_OK);
    assert_true(clf_checkpoint_exists(fx->dir));
    assert_int_equal(tmpdir_count(fx->dir, ".tmp"), 0);
    assert_int_equal(clf_checkpoint_load(fx->dir, b, &fx->rs, &back), CLF_OK);

    assert_int_equal(clf_model_step(b), 3);
    assert_same_state(a, b);
    assert_same_position(&back.pos, &ts.pos);
    assert_int_equal(back.n_history, 1);
    assert_same_logs(&back.history[0], &ts.history[0]);

    /* a step from the restored state is the step the saved model takes:
     * Adam's m, v and t all came back */
    assert_int_equal(clf_model_train_batch(a, fx->images, fx->labels, BATCH), CLF_OK);
    assert_int_equal(clf_model_train_batch(b, fx->images, fx->labels, BATCH), CLF_OK);
    assert_same_state(a, b);

    clf_train_state_free(&ts);
    clf_train_state_free(&back);
    clf_model_free(a);
    clf_model_free(b);
}

/* SGD with momentum keeps one slot; plain SGD none. */
static void test_sgd_slots(void **state)
{
    fixture *fx = *state;
    clf_train_state ts, back;
    clf_model *a, *b;

    some_state(&ts);
    for (int mom = 0; mom < 2; mom++) {
        clf_optimizer_default(&fx->rs.optimizer, CLF_OPT_SGD);
        fx->rs.optimizer.momentum = mom ? 0.9f : 0.0f;
        a = trained(fx, "mlp:4", 2);
        b = trained(fx, "mlp:4", 0);
        assert_int_equal(clf_model_opt_slots(a), mom);
        assert_int_equal(clf_checkpoint_save(fx->dir, a, &fx->rs, &ts), CLF_OK);
        assert_int_equal(clf_checkpoint_load(fx->dir, b, &fx->rs, &back), CLF_OK);
        assert_same_state(a, b);
        clf_train_state_free(&back);
        clf_model_free(a);
        clf_model_free(b);
    }
    clf_optimizer_default(&fx->rs.optimizer, CLF_OPT_ADAM);
    clf_train_state_free(&ts);
}

/* Resuming with other settings: every difference named, nothing loaded. */
static void test_other_settings_refused(void **state)
{
    fixture *fx = *state;
    clf_model *a = trained(fx, "mlp:4", 1), *b = trained(fx, "mlp:4", 0), *fresh;
    clf_run_settings other = fx->rs;
    clf_train_state ts, back;
    static const char *const renamed[CLASSES] = {"cat", "dog", "eel"};

    some_state(&ts);
    assert_int_equal(clf_checkpoint_save(fx->dir, a, &fx->rs, &ts), CLF_OK);
    other.batch_size = 4;
    other.optimizer.learning_rate = 0.01f;
    other.seed = 21;
    other.class_names = renamed;
    logcap_begin();
    assert_int_equal(clf_checkpoint_load(fx->dir, b, &other, &back), CLF_ERR_ARG);
    assert_true(LOGCAP_HAS("--batch-size differs: the checkpoint's run had 5, this run has 4",
                           "--optimizer / --learning-rate differs", "--seed differs",
                           "the class folders in DATA_DIR differ", "(4 differences above)",
                           CLF_CKPT_FILE));
    logcap_end();
    assert_int_equal(back.n_history, 0);
    fresh = trained(fx, "mlp:4", 0);
    assert_same_state(b, fresh); /* untouched */

    clf_train_state_free(&ts);
    clf_model_free(fresh);
    clf_model_free(a);
    clf_model_free(b);
}

/* Same settings, another model behind the same --model name (a JSON file
 * that was edited between the runs). */
static void test_other_model_refused(void **state)
{
    fixture *fx = *state;
    clf_model *a = trained(fx, "mlp:4", 1), *b = trained(fx, "mlp:6", 0);
    clf_train_state ts, back;

    some_state(&ts);
    fx->rs.model_spec = "net.json";
    assert_int_equal(clf_checkpoint_save(fx->dir, a, &fx->rs, &ts), CLF_OK);
    logcap_begin();
    assert_int_equal(clf_checkpoint_load(fx->dir, b, &fx->rs, &back), CLF_ERR_ARG);
    assert_true(LOGCAP_HAS("its model differs from this run's", "--model file changed"));
    logcap_end();
    fx->rs.model_spec = "mlp:4";
    clf_train_state_free(&ts);
    clf_model_free(a);
    clf_model_free(b);
}

static void test_bad_checkpoints(void **state)
{
    fixture *fx = *state;
    clf_model *a = trained(fx, "mlp:4", 1), *b = trained(fx, "mlp:4", 0);
    clf_train_state ts, back;
    char path[4096], *ckpt = clf_checkpoint_path(fx->dir);
    unsigned char *bytes;
    size_t len;

    some_state(&ts);
    assert_int_equal(clf_checkpoint_save(fx->dir, a, &fx->rs, &ts), CLF_OK);
    bytes = tmpdir_read(ckpt, &len);
    assert_non_null(bytes);

    /* cut in the data, then in the header */
    logcap_begin();
    assert_int_equal(tmpdir_write(ckpt, bytes, len - 5), 0);
    assert_int_equal(clf_checkpoint_load(fx->dir, b, &fx->rs, &back), CLF_ERR_FORMAT);
    assert_true(LOGCAP_HAS(ckpt, "cut off?"));
    assert_int_equal(tmpdir_write(ckpt, bytes, 100), 0);
    assert_int_equal(clf_checkpoint_load(fx->dir, b, &fx->rs, &back), CLF_ERR_FORMAT);
    assert_true(LOGCAP_HAS(ckpt, "header length"));

    /* a model file where the checkpoint should be */
    assert_int_equal(clf_model_save(a, ckpt, names, CLF_PREPROCESS_UNIT, NULL), CLF_OK);
    assert_int_equal(clf_checkpoint_load(fx->dir, b, &fx->rs, &back), CLF_ERR_FORMAT);
    assert_true(LOGCAP_HAS("a clfit model file, where a checkpoint file was expected"));

    /* no checkpoint at all */
    unlink(ckpt);
    assert_false(clf_checkpoint_exists(fx->dir));
    assert_int_equal(clf_checkpoint_load(fx->dir, b, &fx->rs, &back), CLF_ERR_IO);
    assert_true(LOGCAP_HAS(ckpt, "cannot open"));

    /* a folder that cannot be made */
    tmpdir_path(path, sizeof path, fx->dir, "no/such/dir");
    assert_int_equal(clf_checkpoint_save(path, a, &fx->rs, &ts), CLF_ERR_IO);
    assert_true(LOGCAP_HAS("no/such/dir: cannot use as the checkpoint folder"));
    logcap_end();

    free(bytes);
    free(ckpt);
    clf_train_state_free(&ts);
    clf_model_free(a);
    clf_model_free(b);
}

/* A second save replaces the first in one piece. */
static void test_replaced_atomically(void **state)
{
    fixture *fx = *state;
    clf_model *a = trained(fx, "mlp:4", 1), *b = trained(fx, "mlp:4", 0);
    clf_train_state ts, back;

    some_state(&ts);
    assert_int_equal(clf_checkpoint_save(fx->dir, a, &fx->rs, &ts), CLF_OK);
    assert_int_equal(clf_model_train_batch(a, fx->images, fx->labels, BATCH), CLF_OK);
    ts.pos.step = 3;
    assert_int_equal(clf_checkpoint_save(fx->dir, a, &fx->rs, &ts), CLF_OK);
    assert_int_equal(tmpdir_count(fx->dir, ".tmp"), 0);
    assert_int_equal(tmpdir_count(fx->dir, CLF_CKPT_FILE), 1);
    assert_int_equal(clf_checkpoint_load(fx->dir, b, &fx->rs, &back), CLF_OK);
    assert_int_equal(back.pos.step, 3);
    assert_same_state(a, b);
    clf_train_state_free(&back);
    clf_train_state_free(&ts);
    clf_model_free(a);
    clf_model_free(b);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_round_trip_and_next_step),
        cmocka_unit_test(test_sgd_slots),
        cmocka_unit_test(test_other_settings_refused),
        cmocka_unit_test(test_other_model_refused),
        cmocka_unit_test(test_bad_checkpoints),
        cmocka_unit_test(test_replaced_atomically),
    };

    return cmocka_run_group_tests(tests, setup, teardown);
}
