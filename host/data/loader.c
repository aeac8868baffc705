/* Batches over a subset, reshuffled per epoch from (seed, epoch) alone. */
#include <stdlib.h>
#include <string.h>

#include "clfit/data.h"
#include "clfit/log.h"
#include "core/alloc.h"
#include "core/rng.h"
#include "data/dataset_impl.h"

struct clf_loader {
    const clf_dataset *ds;
    size_t *indices; /* the subset, as given */
    size_t *order;   /* the current epoch's visiting order */
    size_t n;
    int batch;
    bool shuffle;
    uint64_t seed;
};

clf_status clf_loader_create(const clf_dataset *ds, const size_t *indices, size_t n,
                             int batch_size, bool shuffle, uint64_t seed, clf_loader **out)
{
    clf_loader *ld;

    *out = NULL;
    if (!ds || (n > 0 && !indices) || batch_size <= 0) {
        CLF_LOG_ERROR("loader: need a dataset, indices and a batch size > 0 (got %d)",
                      batch_size);
        return CLF_ERR_ARG;
    }
    for (size_t i = 0; i < n; i++)
        if (indices[i] >= ds->n) {
            CLF_LOG_ERROR("loader: index %zu (position %zu) is outside the dataset of %zu "
                          "images",
                          indices[i], i, ds->n);
            return CLF_ERR_ARG;
        }

    ld = clf_calloc_array(1, sizeof *ld, "loader");
    if (!ld)
        return CLF_ERR_NOMEM;
    *ld = (clf_loader){ds, NULL, NULL, n, batch_size, shuffle, seed};
    ld->indices = clf_malloc_array(n, sizeof *indices, "loader indices");
    ld->order = clf_malloc_array(n, sizeof *indices, "loader order");
    if (!ld->indices || !ld->order) {
        clf_loader_free(ld);
        return CLF_ERR_NOMEM;
    }
    if (n > 0)
        memcpy(ld->indices, indices, n * sizeof *indices);
    clf_loader_set_epoch(ld, 0);
    *out = ld;
    return CLF_OK;
}

void clf_loader_free(clf_loader *ld)
{
    if (!ld)
        return;
    free(ld->indices);
    free(ld->order);
    free(ld);
}

size_t clf_loader_batches(const clf_loader *ld)
{
    return ld->n / (size_t)ld->batch + (ld->n % (size_t)ld->batch != 0);
}

size_t clf_loader_size(const clf_loader *ld)
{
    return ld->n;
}

clf_status clf_loader_set_epoch(clf_loader *ld, int epoch)
{
    clf_rng r;

    if (epoch < 0) {
        CLF_LOG_ERROR("loader: epoch %d is negative", epoch);
        return CLF_ERR_ARG;
    }
    if (ld->n > 0)
        memcpy(ld->order, ld->indices, ld->n * sizeof *ld->order);
    if (!ld->shuffle)
        return CLF_OK;

    /* A stream of its own per (seed, epoch); the rng's seeding mixes the
     * combined value, so neighbouring epochs give unrelated orders. */
    clf_rng_seed(&r, ld->seed ^ (0x9e3779b97f4a7c15ULL * ((uint64_t)epoch + 1)));
    clf_rng_shuffle(&r, ld->order, ld->n);
    return CLF_OK;
}

clf_status clf_loader_batch(const clf_loader *ld, size_t b, uint8_t *images, int32_t *labels,
                            int *count)
{
    size_t bytes = (size_t)ld->ds->h * (size_t)ld->ds->w * 3;
    size_t first, n;

    if (b >= clf_loader_batches(ld) || !images || !labels || !count) {
        CLF_LOG_ERROR("loader: batch %zu does not exist (%zu batches)", b,
                      clf_loader_batches(ld));
        return CLF_ERR_ARG;
    }
    first = b * (size_t)ld->batch;
    n = ld->n - first < (size_t)ld->batch ? ld->n - first : (size_t)ld->batch;
    for (size_t i = 0; i < n; i++) {
        size_t j = ld->order[first + i];

        memcpy(images + i * bytes, ld->ds->pixels + j * bytes, bytes);
        labels[i] = ld->ds->labels[j];
    }
    *count = (int)n;
    return CLF_OK;
}

int clf_loader_batch_size(const clf_loader *ld)
{
    return ld->batch;
}

const clf_dataset *clf_loader_dataset(const clf_loader *ld)
{
    return ld->ds;
}
