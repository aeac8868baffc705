/* Interrupt and resume: a 4-epoch run stopped through the fit loop's stop
 * flag (after epoch 2, and in the middle of epoch 2), checkpointed,
 * loaded into a fresh model and finished, ends with the weights, the
 * optimizer state and the per-epoch figures of the run that was never
 * stopped: bit for bit on the cpu backend, within 1e-5 relative on
 * OpenCL (skipped when there is no OpenCL device). The model has a Dropout
 * layer, so the masks must follow the step counter across the restart,
 * and the shuffled order must follow the epoch. */
#include <math.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "backend/backend.h"
#include "clfit/data.h"
#include "clfit/fit.h"
#include "clfit/io.h"
#include "model/model_internal.h"
#include "support/tmpdir.h"

enum { H = 6, W = 5, CLASSES = 3, N = 60, N_TRAIN = 48, BATCH = 5, EPOCHS = 4 };
static const char *const names[CLASSES] = {"a", "b", "c"};

typedef struct run {
    clf_backend *be;
    clf_dataset *ds;
    clf_loader *train, *val;
    clf_model *m;
    const char *dir;
    clf_run_settings rs;
    clf_train_state ts;
    volatile sig_atomic_t stop;
    int stop_epoch;              /* set stop at the end of this epoch */
    size_t stop_step;            /* ... or after this step of stop_epoch (0: off) */
} run;

/* Images whose class shows in a brighter band, plus noise: learnable but
 * not at once, so four epochs keep changing the weights. */
static clf_dataset *dataset(void)
{
    uint8_t *px = malloc((size_t)N * H * W * 3);
    int32_t labels[N];
    clf_dataset *ds;
    uint64_t s = 12345;

    for (int i = 0; i < N; i++) {
        labels[i] = i % CLASSES;
        for (int k = 0; k < H * W * 3; k++) {
            s = s * 6364136223846793005ULL + 1442695040888963407ULL;
            px[(size_t)i * H * W * 3 + k] = (uint8_t)((s >> 33) % 128 +
                                                      (k / (W * 3) % CLASSES == labels[i]) * 90);
        }
    }
    assert_int_equal(clf_dataset_from_memory(px, labels, N, H, W, CLASSES, &ds), CLF_OK);
    free(px);
    return ds;
}

/* Input(3, H, W) -> Flatten -> Dense(16, relu) -> Dropout(0.3) -> Dense(3). */
static clf_model *model(uint64_t seed)
{
    clf_layer_desc l[5];
    clf_graph_desc g = {.layers = l, .n_layers = 5, .output = 4, .name = "dropout_mlp"};
    clf_model *m;

    clf_layer_desc_init(&l[0], CLF_LAYER_INPUT, "input");
    l[0].input_rank = 3, l[0].channels_first = true;
    l[0].input_shape[0] = 3, l[0].input_shape[1] = H, l[0].input_shape[2] = W;
    clf_layer_desc_init(&l[1], CLF_LAYER_FLATTEN, "flatten");
    clf_layer_desc_init(&l[2], CLF_LAYER_DENSE, "hidden");
    l[2].units = 16, l[2].activation = CLF_ACTIVATION_RELU;
    clf_layer_desc_init(&l[3], CLF_LAYER_DROPOUT, "dropout");
    l[3].rate = 0.3f;
    clf_layer_desc_init(&l[4], CLF_LAYER_DENSE, "out");
    l[4].units = CLASSES, l[4].activation = CLF_ACTIVATION_SOFTMAX;
    for (int i = 1; i < 5; i++)
        l[i].n_inputs = 1, l[i].inputs[0] = i - 1;
    assert_int_equal(clf_model_from_desc(&g, seed, &m), CLF_OK);
    return m;
}

/* A fresh run on be: data, loaders, model compiled; nothing trained. */
static void start(run *r, clf_backend *be, const char *dir)
{
    static size_t idx[N];

    memset(r, 0, sizeof *r);
    r->be = be;
    r->dir = dir;
    r->stop_epoch = -1;
    for (size_t i = 0; i < N; i++)
        idx[i] = i;
    r->ds = dataset();
    assert_int_equal(clf_loader_create(r->ds, idx, N_TRAIN, BATCH, true, 7, &r->train),
                     CLF_OK);
    assert_int_equal(clf_loader_create(r->ds, idx + N_TRAIN, N - N_TRAIN, BATCH, false, 7,
                                       &r->val), CLF_OK);
    r->rs = (clf_run_settings){.data_dir = "memory", .model_spec = "dropout_mlp",
                               .height = H, .width = W, .batch_size = BATCH,
                               .split = {0.8, 0.2}, .n_split = 2,
                               .preprocess = CLF_PREPROCESS_UNIT, .seed = 7, .images = N,
                               .classes = CLASSES, .class_names = names};
    clf_optimizer_default(&r->rs.optimizer, CLF_OPT_ADAM);
    r->rs.optimizer.learning_rate = 0.01f;
    r->m = model(r->rs.seed);
    assert_int_equal(clf_model_compile(r->m, be, &r->rs.optimizer, r->rs.preprocess, BATCH),
                     CLF_OK);
}

static void finish(run *r)
{
    clf_model_free(r->m);
    clf_loader_free(r->train);
    clf_loader_free(r->val);
    clf_dataset_free(r->ds);
    clf_train_state_free(&r->ts);
}

/* What the CLI does: after each step check for the planned Ctrl-C. */
static void on_step(void *user, int epoch, size_t step, size_t steps,
                    const clf_metrics *running, double seconds)
{
    run *r = user;

    (void)steps, (void)running, (void)seconds;
    if (epoch == r->stop_epoch && step == r->stop_step)
        r->stop = 1;
}

/* ... and after each epoch: history, checkpoint, the planned stop. */
static clf_status on_epoch_end(void *user, const clf_epoch_logs *logs)
{
    run *r = user;
    clf_status st = clf_train_state_add(&r->ts, logs);

    if (st == CLF_OK && r->dir)
        st = clf_checkpoint_save(r->dir, r->m, &r->rs, &r->ts);
    if (logs->epoch == r->stop_epoch && r->stop_step == 0)
        r->stop = 1;
    return st;
}

static clf_status fit(run *r)
{
    clf_fit_callbacks cb = {.user = r, .on_step = on_step, .on_epoch_end = on_epoch_end,
                            .stop = &r->stop};

    return clf_fit(r->m, r->train, r->val, EPOCHS, &r->ts.pos, &cb);
}

/* Runs until the planned stop, writes the checkpoint there (as the CLI
 * does on Ctrl-C), then resumes in a fresh run and finishes. */
static void interrupted_then_resumed(run *b, clf_backend *be, const char *dir, int epoch,
                                     size_t step)
{
    run a;

    start(&a, be, dir);
    a.stop_epoch = epoch;
    a.stop_step = step;
    assert_int_equal(fit(&a), CLF_ERR_INTERRUPTED);
    assert_int_equal(a.ts.pos.epoch, step ? epoch : epoch + 1);
    assert_int_equal(a.ts.pos.step, step);
    assert_int_equal(clf_checkpoint_save(dir, a.m, &a.rs, &a.ts), CLF_OK);
    finish(&a);

    start(b, be, dir);
    assert_int_equal(clf_checkpoint_load(dir, b->m, &b->rs, &b->ts), CLF_OK);
    assert_int_equal(b->ts.pos.epoch, step ? epoch : epoch + 1);
    assert_int_equal(fit(b), CLF_OK);
    assert_int_equal(b->ts.n_history, EPOCHS);
}

/* |a - b| <= tol * max(|a|, |b|, 1e-3) for every value of every tensor
 * and optimizer slot; tol 0 asks for equal bits. */
static void compare_models(clf_model *x, clf_model *y, double tol)
{
    assert_int_equal(clf_model_step(x), clf_model_step(y));
    for (size_t k = 0; k < clf_model_tensor_count(x); k++)
        for (int s = -1; s < clf_model_opt_slots(x); s++) {
            clf_tensor_info ti;
            float *a, *b;

            assert_int_equal(clf_model_tensor_info(x, k, &ti), CLF_OK);
            a = malloc(ti.count * sizeof *a);
            b = malloc(ti.count * sizeof *b);
            if (s < 0) {
                assert_int_equal(clf_model_tensor_read(x, k, a, ti.count), CLF_OK);
                assert_int_equal(clf_model_tensor_read(y, k, b, ti.count), CLF_OK);
            } else {
                assert_int_equal(clf_model_opt_read(x, k, s, a, ti.count), CLF_OK);
                assert_int_equal(clf_model_opt_read(y, k, s, b, ti.count), CLF_OK);
            }
            for (size_t i = 0; i < ti.count; i++) {
                double scale = fmax(fmax(fabs(a[i]), fabs(b[i])), 1e-3);

                if (tol == 0 ? memcmp(&a[i], &b[i], 4) != 0 : fabs(a[i] - b[i]) > tol * scale)
                    fail_msg("%s slot %d [%zu]: %.9g vs %.9g", ti.name, s, i, a[i], b[i]);
            }
            free(a), free(b);
        }
}

static void compare_history(const clf_train_state *x, const clf_train_state *y, double tol)
{
    assert_int_equal(x->n_history, y->n_history);
    for (int e = 0; e < x->n_history; e++) {
        const clf_epoch_logs *a = &x->history[e], *b = &y->history[e];
        double va[4] = {a->loss, a->accuracy, a->val_loss, a->val_accuracy};
        double vb[4] = {b->loss, b->accuracy, b->val_loss, b->val_accuracy};

        for (int i = 0; i < 4; i++)
            if (tol == 0 ? va[i] != vb[i] : fabs(va[i] - vb[i]) > tol * fmax(fabs(va[i]), 1))
                fail_msg("epoch %d figure %d: %.17g vs %.17g", e + 1, i, va[i], vb[i]);
    }
}

static void resume_cases(clf_backend *be, double tol)
{
    const char *tmp = tmpdir_make("resume");
    char *dir = strdup(tmp);
    run full, b;

    /* the reference: four epochs without a stop (no checkpoints) */
    start(&full, be, NULL);
    assert_int_equal(fit(&full), CLF_OK);
    assert_true(full.ts.history[EPOCHS - 1].loss < full.ts.history[0].loss); /* it learns */

    interrupted_then_resumed(&b, be, dir, 1, 0);  /* after epoch 2 of 4 */
    compare_models(full.m, b.m, tol);
    compare_history(&full.ts, &b.ts, tol);
    finish(&b);

    interrupted_then_resumed(&b, be, dir, 1, 4);  /* after step 4 of epoch 2 */
    compare_models(full.m, b.m, tol);
    compare_history(&full.ts, &b.ts, tol);
    finish(&b);

    finish(&full);
    tmpdir_remove(dir);
    free(dir);
}

static void test_resume_cpu(void **state)
{
    clf_backend *be;

    (void)state;
    assert_int_equal(clf_cpu_backend_open(&be), CLF_OK);
    resume_cases(be, 0);
    clf_backend_close(be);
}

static void test_resume_opencl(void **state)
{
    clf_backend *be = NULL;

    (void)state;
    if (clf_backend_open("opencl", &be) != CLF_OK) {
        print_message("no OpenCL device: the OpenCL resume test is skipped\n");
        skip();
    }
    resume_cases(be, 1e-5);
    clf_backend_close(be);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_resume_cpu),
        cmocka_unit_test(test_resume_opencl),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
