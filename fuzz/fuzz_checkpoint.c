/* Fuzzes the checkpoint loader (clf_checkpoint_load, as --resume runs
 * it): everything the model-file loader checks, plus the run settings,
 * the position, the history and the optimizer state, loaded into a
 * compiled model on the cpu backend. The CRC entry is recomputed first
 * (fuzz_fix_crc) and the input written to a scratch folder as
 * checkpoint.safetensors.
 *
 * Seeds: FUZZ_WRITE_SEEDS=DIR fuzz_checkpoint writes checkpoints of this
 * harness's own run (the settings below) into DIR. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "clfit/device.h"
#include "clfit/io.h"
#include "harness.h"
#include "io/checkpoint.h"

static const char *const class_names[] = {"a", "b"};
static clf_run_settings rs;
static clf_backend *be;
static clf_model *model;

/* The run every checkpoint must come from: mlp:3 on 4 x 4 images of two
 * classes, Adam. The data folder need not exist. */
static void make_run(void)
{
    clf_optimizer opt;

    clf_optimizer_default(&opt, CLF_OPT_ADAM);
    rs = (clf_run_settings){
        .data_dir = "/nonexistent/clfit-fuzz-data", .model_spec = "mlp:3", .height = 4,
        .width = 4, .batch_size = 4, .split = {0.7, 0.2, 0.1}, .n_split = 3,
        .optimizer = opt, .preprocess = CLF_PREPROCESS_UNIT, .seed = 20, .images = 10,
        .classes = 2, .class_names = class_names};
    if (clf_backend_open("cpu", &be) != CLF_OK ||
        clf_model_create("mlp:3", 4, 4, 2, 20, &model) != CLF_OK ||
        clf_model_compile(model, be, &opt, CLF_PREPROCESS_UNIT, 4) != CLF_OK) {
        fprintf(stderr, "fuzz_checkpoint: could not build the model\n");
        exit(1);
    }
}

/* A checkpoint after `epochs` epochs and `step` steps of the next. */
static void write_seed(const char *name, int epochs, size_t step)
{
    clf_train_state ts = {0};
    char dir[1024], from[1100], to[1100];

    for (int e = 0; e < epochs; e++) {
        clf_epoch_logs lg = {.epoch = e, .steps = 2, .loss = 0.7 - 0.1 * e, .accuracy = 0.5,
                             .has_val = e > 0, .val_loss = 0.8, .val_accuracy = 0.25,
                             .seconds = 0.01};
        clf_train_state_add(&ts, &lg);
    }
    ts.pos = (clf_fit_position){.epoch = epochs, .step = step,
                                .partial = {.loss_sum = 1.5, .correct = 1, .count = 4},
                                .partial_seconds = 0.002};
    snprintf(dir, sizeof dir, "%s/%s.d", fuzz_seed_dir(), name);
    snprintf(from, sizeof from, "%s/" CLF_CKPT_FILE, dir);
    snprintf(to, sizeof to, "%s/%s", fuzz_seed_dir(), name);
    if (clf_checkpoint_save(dir, model, &rs, &ts) != CLF_OK || rename(from, to) != 0 ||
        remove(dir) != 0) {
        fprintf(stderr, "fuzz_checkpoint: could not write seed %s\n", to);
        exit(1);
    }
    clf_train_state_free(&ts);
}

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
    (void)argc, (void)argv;
    fuzz_quiet_log();
    make_run();
    if (fuzz_seed_dir()) {
        write_seed("epoch1", 1, 0);
        write_seed("epoch2_step1", 2, 1);
        exit(0);
    }
    return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    uint8_t *buf = fuzz_fix_crc(data, size);
    const char *dir = fuzz_scratch_dir();
    char path[700];
    clf_train_state ts;

    fuzz_quiet_log();
    snprintf(path, sizeof path, "%s/" CLF_CKPT_FILE, dir);
    fuzz_write_file(path, buf, size);
    free(buf);
    if (clf_checkpoint_load(dir, model, &rs, &ts) == CLF_OK) {
        if (ts.n_history < 0 || (ts.n_history > 0 && !ts.history))
            abort();
        clf_train_state_free(&ts);
    } else if (ts.history || ts.n_history) {
        abort(); /* on failure the state must be empty */
    }
    return 0;
}
