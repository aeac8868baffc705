/* Evaluation with a confusion matrix: the loss and accuracy of
 * clf_evaluate, plus which class each image was given. */
#include <stdlib.h>
#include <string.h>

#include "clfit/fit.h"
#include "clfit/log.h"
#include "core/alloc.h"
#include "model/model_internal.h"

/* Staging for one batch: images, labels (mapped) and logits. */
typedef struct stage {
    uint8_t *images;
    int32_t *labels;
    float *logits;
} stage;

static void stage_free(stage *s)
{
    free(s->images);
    free(s->labels);
    free(s->logits);
}

static clf_status stage_alloc(const clf_model *m, clf_loader *ld, stage *s)
{
    const clf_dataset *ds = clf_loader_dataset(ld);
    size_t batch = (size_t)clf_loader_batch_size(ld), per;

    memset(s, 0, sizeof *s);
    if (!clf_mul4_size((size_t)clf_dataset_height(ds), (size_t)clf_dataset_width(ds), 3, 1,
                       &per))
        return CLF_ERR_OVERFLOW;
    s->images = clf_malloc_array(batch, per, "batch images");
    s->labels = clf_malloc_array(batch, sizeof *s->labels, "batch labels");
    s->logits = clf_malloc_array(batch, (size_t)m->classes * sizeof(float), "logits");
    if (!s->images || !s->labels || !s->logits) {
        stage_free(s);
        return CLF_ERR_NOMEM;
    }
    return CLF_OK;
}

/* The loader's labels as the model's; CLF_ERR_ARG for one without a
 * place in the model. */
static clf_status map_labels(const clf_model *m, const int32_t *map, int n_map,
                             int32_t *labels, int n)
{
    for (int i = 0; map && i < n; i++) {
        if (labels[i] < 0 || labels[i] >= n_map || map[labels[i]] < 0 ||
            map[labels[i]] >= m->classes) {
            CLF_LOG_ERROR("evaluate: label %d has no class in the model", (int)labels[i]);
            return CLF_ERR_ARG;
        }
        labels[i] = map[labels[i]];
    }
    return CLF_OK;
}

/* Adds a batch's predictions (first arg-max of the logits, the image the
 * accuracy counts as correct) to the matrix. */
static void count(const clf_model *m, const stage *s, int n, uint64_t *confusion)
{
    int k = m->classes;

    for (int i = 0; i < n; i++) {
        const float *row = s->logits + (size_t)i * (size_t)k;
        int best = 0;

        for (int c = 1; c < k; c++)
            if (row[c] > row[best])
                best = c;
        confusion[(size_t)s->labels[i] * (size_t)k + (size_t)best]++;
    }
}

/* Reports batch `done` to cb; CLF_ERR_INTERRUPTED when asked to stop. */
static clf_status after_batch(clf_model *m, size_t done, size_t batches,
                              const clf_eval_callbacks *cb)
{
    clf_metrics running;
    clf_status st = CLF_OK;

    if (!cb)
        return CLF_OK;
    if (cb->on_batch) {
        st = clf_model_metrics(m, &running);
        if (st == CLF_OK)
            cb->on_batch(cb->user, done, batches, &running);
    }
    if (st == CLF_OK && cb->stop && *cb->stop)
        st = CLF_ERR_INTERRUPTED;
    return st;
}

clf_status clf_evaluate_confusion(clf_model *m, clf_loader *ld, const int32_t *label_map,
                                  int n_map, clf_metrics *out, uint64_t *confusion,
                                  const clf_eval_callbacks *cb)
{
    size_t batches = clf_loader_batches(ld);
    stage s;
    clf_status st = stage_alloc(m, ld, &s);

    if (st == CLF_OK)
        st = clf_loader_set_epoch(ld, 0);
    if (st == CLF_OK)
        st = clf_model_reset_metrics(m);
    memset(confusion, 0, (size_t)m->classes * (size_t)m->classes * sizeof *confusion);
    for (size_t b = 0; st == CLF_OK && b < batches; b++) {
        int n;

        st = clf_loader_batch(ld, b, s.images, s.labels, &n);
        if (st == CLF_OK)
            st = map_labels(m, label_map, n_map, s.labels, n);
        if (st == CLF_OK)
            st = clf_model_test_batch(m, s.images, s.labels, n);
        if (st == CLF_OK)
            st = clf_model_read_output(m, m->logits, n, s.logits);
        if (st == CLF_OK) {
            count(m, &s, n, confusion);
            st = after_batch(m, b + 1, batches, cb);
        }
    }
    if (st == CLF_OK)
        st = clf_model_metrics(m, out);
    stage_free(&s);
    return st;
}
