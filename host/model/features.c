/* Steps split at the feature layers: the static part (a frozen base)
 * from images to features, and the rest (the head) from features to the
 * loss, gradients and update. train_batch = extract + train_features,
 * run back to back on the device. */
#include <stdlib.h>
#include <string.h>

#include "clfit/log.h"
#include "core/alloc.h"
#include "model/model_internal.h"

#define OPS (m->be->ops)
size_t clf_model_feature_size(const clf_model *m)
{
    if (!m || !m->ready || m->static_ops == 0)
        return 0;
    return m->feat_size;
}

static clf_status need_features(const clf_model *m, const void *p, int n)
{
    TRY(clf_model_check_batch(m, NULL, n));
    if (clf_model_feature_size(m) == 0) {
        CLF_LOG_ERROR("model: it has no frozen base whose output could be used as features");
        return CLF_ERR_ARG;
    }
    if (!p) {
        CLF_LOG_ERROR("model: no feature array given");
        return CLF_ERR_ARG;
    }
    return CLF_OK;
}

/* Moves n rows between the host layout (per image, feature layers one
 * after another) and the feature layers' B-row buffers. One feature
 * layer, the usual case, is one transfer. */
static clf_status move_features(clf_model *m, float *host, int n, bool write)
{
    size_t at = 0;

    for (int k = 0; k < m->n_feats; k++) {
        const clf_layer *l = &m->layers[m->feats[k]];
        size_t row = l->size * sizeof(float);

        for (int r = 0; r < n; r++) {
            size_t off = (l->out.off + (size_t)r * l->size) * sizeof(float);
            float *h = host + (size_t)r * m->feat_size + at;
            size_t bytes = m->n_feats == 1 ? (size_t)n * row : row;
            clf_status st = write ? OPS->write(m->be, l->out.buf, off, h, bytes)
                                  : OPS->read(m->be, l->out.buf, off, h, bytes);

            if (st != CLF_OK)
                return st;
            if (m->n_feats == 1)
                break;
        }
        at += l->size;
    }
    return CLF_OK;
}

clf_status clf_model_read_features(clf_model *m, int n, float *dst)
{
    return move_features(m, dst, n, false);
}

clf_status clf_model_write_features(clf_model *m, const float *src, int n)
{
    return move_features(m, (float *)src, n, true);
}

clf_status clf_model_extract_features(clf_model *m, const uint8_t *images, int n,
                                      float *features)
{
    TRY(need_features(m, features, n));
    if (!images) {
        CLF_LOG_ERROR("model: no images given");
        return CLF_ERR_ARG;
    }
    TRY(clf_model_load_images(m, images, n));
    TRY(clf_model_static_forward(m, n));
    return clf_model_read_features(m, n, features);
}

/* Features and labels in, then the head forward and the loss. */
static clf_status head_forward(clf_model *m, const float *features, const int32_t *labels,
                               int n, bool training)
{
    TRY(need_features(m, features, n));
    if (!labels) {
        CLF_LOG_ERROR("model: %s needs labels", training ? "training" : "evaluation");
        return CLF_ERR_ARG;
    }
    TRY(clf_model_check_batch(m, labels, n));
    TRY(clf_model_write_features(m, features, n));
    TRY(clf_model_load_labels(m, labels, n));
    TRY(clf_model_dynamic_forward(m, n, training));
    return clf_model_loss(m, n, training);
}

clf_status clf_model_train_features(clf_model *m, const float *features,
                                    const int32_t *labels, int n)
{
    TRY(head_forward(m, features, labels, n, true));
    TRY(clf_model_backward_update(m, n));
    m->folded.count += (size_t)n;
    return CLF_OK;
}

clf_status clf_model_test_features(clf_model *m, const float *features,
                                   const int32_t *labels, int n)
{
    TRY(head_forward(m, features, labels, n, false));
    m->folded.count += (size_t)n;
    return CLF_OK;
}
