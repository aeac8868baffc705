/* Training and evaluation loops: Keras's fit() and evaluate().
 *
 * The loop feeds batches from a loader into a compiled model, reads the
 * running loss and accuracy (a few scalars) after every step, and reports
 * progress through callbacks; it prints nothing itself.
 */
#ifndef CLFIT_FIT_H
#define CLFIT_FIT_H

#include <signal.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "clfit/data.h"
#include "clfit/model.h"
#include "clfit/status.h"

#ifdef __cplusplus
extern "C" {
#endif

/* One epoch's figures, as Keras's History and CSVLogger record them. */
typedef struct clf_epoch_logs {
    int epoch;               /* 0-based */
    size_t steps;            /* training batches */
    double loss, accuracy;   /* means over the epoch's training samples */
    bool has_val;
    double val_loss, val_accuracy;
    double seconds;          /* wall time of the epoch, validation included */
} clf_epoch_logs;

/* Where training stands; fit() starts from it and updates it, so a run
 * that stops (Ctrl-C, error) can be checkpointed and resumed exactly. */
typedef struct clf_fit_position {
    int epoch;               /* epoch in progress or next to run (0-based) */
    size_t step;             /* batches of that epoch already done */
    clf_metrics partial;     /* training metrics of those batches */
    double partial_seconds;  /* time already spent in that epoch */
} clf_fit_position;

typedef struct clf_fit_callbacks {
    void *user;
    /* After each training batch; running holds the epoch's metrics so far. */
    void (*on_step)(void *user, int epoch, size_t step, size_t steps,
                    const clf_metrics *running, double seconds);
    /* Before validation starts (a progress bar may want to say so). */
    void (*on_validate)(void *user, int epoch);
    /* After each epoch; returning non-OK stops training with that status
     * (a failed checkpoint write, for example). */
    clf_status (*on_epoch_end)(void *user, const clf_epoch_logs *logs);
    /* Polled after each step; when it becomes non-zero, fit() returns
     * CLF_ERR_INTERRUPTED with *pos at the exact batch boundary. */
    volatile sig_atomic_t *stop;
} clf_fit_callbacks;

/* Trains from *pos until `epochs` epochs are done (epochs is the total,
 * like Keras's epochs with initial_epoch). `val` may be NULL. A loss that
 * becomes NaN or Inf stops training with CLF_ERR_NUMERIC and an error
 * naming the epoch and step. *pos always describes the last completed
 * batch, whatever the outcome. */
clf_status clf_fit(clf_model *m, clf_loader *train, clf_loader *val, int epochs,
                   clf_fit_position *pos, const clf_fit_callbacks *cb);

/* Loss and accuracy over every batch of a loader (unshuffled order). */
clf_status clf_evaluate(clf_model *m, clf_loader *ld, clf_metrics *out);

/* What an evaluation reports as it goes, as Keras's evaluate() shows a
 * progress bar. Every member may be 0/NULL. */
typedef struct clf_eval_callbacks {
    void *user;
    /* After each batch: `done` of `batches` batches, the metrics so far. */
    void (*on_batch)(void *user, size_t done, size_t batches, const clf_metrics *running);
    /* Polled after each batch; when it becomes non-zero, the evaluation
     * stops there with CLF_ERR_INTERRUPTED (its figures are not filled). */
    volatile sig_atomic_t *stop;
} clf_eval_callbacks;

/* As clf_evaluate, also counting which class each image is given:
 * confusion[true * classes + predicted] (classes x classes entries,
 * zeroed here), predicted being the first arg-max of the logits, as the
 * accuracy counts it. label_map (n_map entries; NULL: identity) maps the
 * loader's labels to the model's, for a folder whose classes are named
 * like the model's but are fewer or in another order; a label without a
 * class is CLF_ERR_ARG. cb (NULL: none) follows the batches and can stop
 * the evaluation. */
clf_status clf_evaluate_confusion(clf_model *m, clf_loader *ld, const int32_t *label_map,
                                  int n_map, clf_metrics *out, uint64_t *confusion,
                                  const clf_eval_callbacks *cb);

/* Feature caching. For a model with a frozen base (clf_model_feature_size
 * > 0), fit() and evaluate() keep each image's base output in host memory,
 * found by the image's content: the base runs once per image, in the first
 * pass that sees it, and later epochs (and validations) run only the head.
 * Results equal those without the cache. The memory is announced (info)
 * when the first fit() starts; if the images of that fit would need more
 * than the limit, caching stays off (one notice). This sets the limit in
 * bytes: the default (SIZE_MAX) means 40% of the physical RAM, 0 turns
 * caching off. Call it before the first fit() or evaluate(). */
void clf_fit_set_cache_limit(clf_model *m, size_t bytes);

/* Mean loss and accuracy of accumulated metrics (0 when count is 0). */
double clf_metrics_loss(const clf_metrics *mt);
double clf_metrics_accuracy(const clf_metrics *mt);

#ifdef __cplusplus
}
#endif
#endif
