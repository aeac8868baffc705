/* fit() and evaluate(): the epoch loop over a loader and a compiled model.
 * Batches go through the feature cache (feature_cache.c), which is the
 * plain train / test step for models without a frozen base. */
#include "clfit/fit.h"

#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <time.h>

#include "clfit/log.h"
#include "core/alloc.h"
#include "model/model_internal.h"

static double now_seconds(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

double clf_metrics_loss(const clf_metrics *mt)
{
    return mt->count ? mt->loss_sum / (double)mt->count : 0.0;
}

double clf_metrics_accuracy(const clf_metrics *mt)
{
    return mt->count ? mt->correct / (double)mt->count : 0.0;
}

/* Host staging for one batch of the loader's images and labels. */
typedef struct batch_buf {
    uint8_t *images;
    int32_t *labels;
} batch_buf;

static void batch_release(batch_buf *bb)
{
    free(bb->images);
    free(bb->labels);
    bb->images = NULL;
    bb->labels = NULL;
}

static clf_status batch_alloc(const clf_dataset *ds, int batch, batch_buf *bb)
{
    size_t per;

    bb->images = NULL;
    bb->labels = NULL;
    if (!clf_mul4_size((size_t)clf_dataset_height(ds), (size_t)clf_dataset_width(ds), 3, 1,
                       &per))
        return CLF_ERR_OVERFLOW;
    bb->images = clf_malloc_array((size_t)batch, per, "batch images");
    bb->labels = clf_malloc_array((size_t)batch, sizeof(int32_t), "batch labels");
    if (!bb->images || !bb->labels) {
        batch_release(bb);
        return CLF_ERR_NOMEM;
    }
    return CLF_OK;
}

/* Runs every batch of `ld` through the model without training. */
static clf_status run_eval(clf_model *m, clf_loader *ld, batch_buf *bb, clf_metrics *out)
{
    clf_status st = clf_model_reset_metrics(m);

    for (size_t b = 0; st == CLF_OK && b < clf_loader_batches(ld); b++) {
        int count;

        st = clf_loader_batch(ld, b, bb->images, bb->labels, &count);
        if (st == CLF_OK)
            st = clf_feature_cache_test(m, bb->images, bb->labels, count);
    }
    if (st == CLF_OK)
        st = clf_model_metrics(m, out);
    return st;
}

clf_status clf_evaluate(clf_model *m, clf_loader *ld, clf_metrics *out)
{
    batch_buf bb;
    clf_status st;

    st = batch_alloc(clf_loader_dataset(ld), clf_loader_batch_size(ld), &bb);
    if (st != CLF_OK)
        return st;
    st = clf_feature_cache_plan(m, clf_loader_size(ld));
    if (st == CLF_OK)
        st = clf_loader_set_epoch(ld, 0);
    if (st == CLF_OK)
        st = run_eval(m, ld, &bb, out);
    batch_release(&bb);
    return st;
}

/* The training batch in bb (*count images); then, while the device runs
 * it, the next batch of the epoch into bb (the step's upload copied the
 * images, so bb is free); then the running metrics, which wait for the
 * step, checked for NaN/Inf. */
static clf_status train_step(clf_model *m, clf_loader *ld, batch_buf *bb, int *count,
                             clf_fit_position *pos, clf_metrics *running)
{
    clf_status st = clf_feature_cache_train(m, bb->images, bb->labels, *count);

    if (st == CLF_OK && pos->step + 1 < clf_loader_batches(ld))
        st = clf_loader_batch(ld, pos->step + 1, bb->images, bb->labels, count);
    if (st == CLF_OK)
        st = clf_model_metrics(m, running);
    if (st != CLF_OK)
        return st;
    if (!isfinite(running->loss_sum)) {
        CLF_LOG_ERROR("the loss became %s at epoch %d, step %zu: training stopped "
                      "(try a lower --learning-rate)",
                      isnan(running->loss_sum) ? "NaN" : "infinite", pos->epoch + 1,
                      pos->step + 1);
        return CLF_ERR_NUMERIC;
    }
    return CLF_OK;
}

/* Trains the rest of epoch pos->epoch; fills logs with its figures.
 * The device accumulators restart from pos->partial, so a resumed epoch
 * sums exactly as an uninterrupted one would. */
static clf_status run_epoch(clf_model *m, clf_loader *train, batch_buf *bb,
                            clf_fit_position *pos, const clf_fit_callbacks *cb,
                            clf_epoch_logs *logs)
{
    size_t steps = clf_loader_batches(train);
    double start = now_seconds() - pos->partial_seconds;
    clf_metrics running = pos->partial;
    clf_status st = clf_loader_set_epoch(train, pos->epoch);
    int count = 0;

    if (st == CLF_OK)
        st = clf_model_set_metrics(m, &pos->partial);
    if (st == CLF_OK && pos->step < steps)
        st = clf_loader_batch(train, pos->step, bb->images, bb->labels, &count);
    while (st == CLF_OK && pos->step < steps) {
        st = train_step(m, train, bb, &count, pos, &running);
        if (st != CLF_OK)
            break;
        pos->step++;
        pos->partial = running;
        pos->partial_seconds = now_seconds() - start;
        if (cb && cb->on_step)
            cb->on_step(cb->user, pos->epoch, pos->step, steps, &running,
                        pos->partial_seconds);
        if (cb && cb->stop && *cb->stop && pos->step < steps)
            st = CLF_ERR_INTERRUPTED;
    }
    if (st != CLF_OK)
        return st;

    logs->epoch = pos->epoch;
    logs->steps = steps;
    logs->loss = clf_metrics_loss(&running);
    logs->accuracy = clf_metrics_accuracy(&running);
    return CLF_OK;
}

/* Validation after an epoch, then the epoch's wall time. */
static clf_status finish_epoch(clf_model *m, clf_loader *val, batch_buf *vb,
                               clf_fit_position *pos, const clf_fit_callbacks *cb,
                               clf_epoch_logs *logs)
{
    double start = now_seconds() - pos->partial_seconds;
    clf_metrics vm;
    clf_status st;

    logs->has_val = val != NULL;
    if (val) {
        if (cb && cb->on_validate)
            cb->on_validate(cb->user, pos->epoch);
        st = clf_loader_set_epoch(val, 0);
        if (st == CLF_OK)
            st = run_eval(m, val, vb, &vm);
        if (st != CLF_OK)
            return st;
        logs->val_loss = clf_metrics_loss(&vm);
        logs->val_accuracy = clf_metrics_accuracy(&vm);
    }
    logs->seconds = now_seconds() - start;
    return CLF_OK;
}

/* Moves *pos to the start of the next epoch. */
static void next_epoch(clf_fit_position *pos)
{
    pos->epoch++;
    pos->step = 0;
    pos->partial = (clf_metrics){0};
    pos->partial_seconds = 0.0;
}

/* A loader whose batches the compiled model cannot take is refused before
 * the first step, not an epoch later at the first validation. */
static clf_status check_loader(const clf_model *m, const clf_loader *ld, const char *which)
{
    if (!m->ready) {
        CLF_LOG_ERROR("fit: compile the model before fitting it");
        return CLF_ERR_ARG;
    }
    if (clf_loader_batch_size(ld) > m->max_batch) {
        CLF_LOG_ERROR("fit: the %s loader gives batches of %d images, but the model was "
                      "compiled for at most %d; compile with a batch size of at least %d",
                      which, clf_loader_batch_size(ld), m->max_batch, clf_loader_batch_size(ld));
        return CLF_ERR_ARG;
    }
    return CLF_OK;
}

clf_status clf_fit(clf_model *m, clf_loader *train, clf_loader *val, int epochs,
                   clf_fit_position *pos, const clf_fit_callbacks *cb)
{
    batch_buf tb = {0}, vb = {0};
    clf_status st;

    st = check_loader(m, train, "training");
    if (st == CLF_OK && val)
        st = check_loader(m, val, "validation");
    if (st == CLF_OK)
        st = batch_alloc(clf_loader_dataset(train), clf_loader_batch_size(train), &tb);
    if (st == CLF_OK && val)
        st = batch_alloc(clf_loader_dataset(val), clf_loader_batch_size(val), &vb);
    if (st == CLF_OK)
        st = clf_feature_cache_plan(m, clf_loader_size(train) +
                                           (val ? clf_loader_size(val) : 0));
    while (st == CLF_OK && pos->epoch < epochs) {
        clf_epoch_logs logs = {0};

        st = run_epoch(m, train, &tb, pos, cb, &logs);
        if (st == CLF_OK)
            st = finish_epoch(m, val, &vb, pos, cb, &logs);
        if (st != CLF_OK)
            break;
        next_epoch(pos);
        if (cb && cb->on_epoch_end)
            st = cb->on_epoch_end(cb->user, &logs);
        if (st == CLF_OK && cb && cb->stop && *cb->stop && pos->epoch < epochs)
            st = CLF_ERR_INTERRUPTED;
    }
    batch_release(&tb);
    batch_release(&vb);
    return st;
}
