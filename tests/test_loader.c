/* Batches over a subset: sizes, determinism, replay, and the in-memory
 * dataset behind them.
 *
 * Expected epoch orders: tools/ref/shuffle_order.py, an independent
 * re-implementation of the generator and of the per-epoch seed the loader
 * documents. Image i of the test dataset has every byte equal to i, so a
 * batch's images tell which dataset entries it holds. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "clfit/data.h"
#include "test_data_util.h"

#define N 20
#define H 2
#define W 3
#define PIX (H * W * 3)

static const size_t SUBSET[7] = {3, 5, 7, 11, 13, 17, 19};

/* N images, image i filled with byte i, label i % 3. */
static clf_dataset *make_dataset(void)
{
    uint8_t px[N * PIX];
    int32_t labels[N];
    clf_dataset *ds = NULL;

    for (int i = 0; i < N; i++) {
        memset(px + i * PIX, i, PIX);
        labels[i] = i % 3;
    }
    assert_int_equal(clf_dataset_from_memory(px, labels, N, H, W, 3, &ds), CLF_OK);
    return ds;
}

/* The dataset entries an epoch visits, batch by batch. */
static void epoch_order(clf_loader *ld, size_t *order)
{
    uint8_t images[3 * PIX];
    int32_t labels[3];
    size_t k = 0;

    for (size_t b = 0; b < clf_loader_batches(ld); b++) {
        int count = 0;

        assert_int_equal(clf_loader_batch(ld, b, images, labels, &count), CLF_OK);
        for (int i = 0; i < count; i++) {
            size_t id = images[i * PIX];

            assert_int_equal(labels[i], (int32_t)(id % 3)); /* label goes with image */
            assert_int_equal(images[i * PIX + PIX - 1], id);
            order[k++] = id;
        }
    }
    assert_int_equal(k, clf_loader_size(ld));
}

static void batch_sizes(void **state)
{
    clf_dataset *ds = make_dataset();
    clf_loader *ld;
    uint8_t images[3 * PIX];
    int32_t labels[3];
    int count = 0;
    captured_log log;

    (void)state;
    assert_int_equal(clf_loader_create(ds, SUBSET, 7, 3, true, 20, &ld), CLF_OK);
    assert_int_equal(clf_loader_size(ld), 7);
    assert_int_equal(clf_loader_batches(ld), 3); /* 3 + 3 + 1 */
    assert_int_equal(clf_loader_batch(ld, 0, images, labels, &count), CLF_OK);
    assert_int_equal(count, 3);
    assert_int_equal(clf_loader_batch(ld, 2, images, labels, &count), CLF_OK);
    assert_int_equal(count, 1); /* the partial last batch */
    capture_start(&log);
    assert_int_equal(clf_loader_batch(ld, 3, images, labels, &count), CLF_ERR_ARG);
    capture_stop();
    assert_non_null(strstr(log.text, "batch 3 does not exist (3 batches)"));
    clf_loader_free(ld);
    clf_dataset_free(ds);
}

/* Epochs 0, 1, 2 visit the orders the reference script prints; going
 * back to epoch 0 replays it; a second loader with the same seed agrees. */
static void shuffled_epochs(void **state)
{
    static const size_t want[3][7] = {
        {5, 17, 19, 11, 3, 13, 7},
        {7, 11, 13, 19, 17, 5, 3},
        {3, 19, 11, 17, 7, 5, 13},
    };
    clf_dataset *ds = make_dataset();
    clf_loader *ld, *twin;
    size_t got[7], again[7];

    (void)state;
    assert_int_equal(clf_loader_create(ds, SUBSET, 7, 3, true, 20, &ld), CLF_OK);
    assert_int_equal(clf_loader_create(ds, SUBSET, 7, 3, true, 20, &twin), CLF_OK);
    for (int e = 0; e < 3; e++) {
        assert_int_equal(clf_loader_set_epoch(ld, e), CLF_OK);
        epoch_order(ld, got);
        assert_memory_equal(got, want[e], sizeof got);
    }
    assert_int_equal(clf_loader_set_epoch(ld, 0), CLF_OK);
    epoch_order(ld, got);
    epoch_order(twin, again); /* twin is still at epoch 0 from creation */
    assert_memory_equal(got, want[0], sizeof got);
    assert_memory_equal(again, want[0], sizeof again);
    clf_loader_free(ld);
    clf_loader_free(twin);
    clf_dataset_free(ds);
}

/* Another seed gives another order; no shuffle keeps the given order. */
static void seed_and_no_shuffle(void **state)
{
    clf_dataset *ds = make_dataset();
    clf_loader *a, *b, *plain;
    size_t oa[7], ob[7], op[7];

    (void)state;
    assert_int_equal(clf_loader_create(ds, SUBSET, 7, 3, true, 20, &a), CLF_OK);
    assert_int_equal(clf_loader_create(ds, SUBSET, 7, 3, true, 21, &b), CLF_OK);
    assert_int_equal(clf_loader_create(ds, SUBSET, 7, 3, false, 20, &plain), CLF_OK);
    epoch_order(a, oa);
    epoch_order(b, ob);
    assert_memory_not_equal(oa, ob, sizeof oa);
    assert_int_equal(clf_loader_set_epoch(plain, 5), CLF_OK);
    epoch_order(plain, op);
    assert_memory_equal(op, SUBSET, sizeof op);
    clf_loader_free(a);
    clf_loader_free(b);
    clf_loader_free(plain);
    clf_dataset_free(ds);
}

static void bad_arguments(void **state)
{
    static const size_t outside[2] = {1, N};
    clf_dataset *ds = make_dataset();
    clf_loader *ld = NULL;
    captured_log log;

    (void)state;
    capture_start(&log);
    assert_int_equal(clf_loader_create(ds, outside, 2, 3, true, 1, &ld), CLF_ERR_ARG);
    assert_null(ld);
    assert_int_equal(clf_loader_create(ds, SUBSET, 7, 0, true, 1, &ld), CLF_ERR_ARG);
    assert_int_equal(clf_loader_create(ds, SUBSET, 0, 4, true, 1, &ld), CLF_OK);
    assert_int_equal(clf_loader_batches(ld), 0); /* empty subset: no batch */
    assert_int_equal(clf_loader_set_epoch(ld, -1), CLF_ERR_ARG);
    capture_stop();
    assert_non_null(strstr(log.text, "index 20 (position 1) is outside the dataset of 20"));
    clf_loader_free(ld);
    clf_dataset_free(ds);
}

static void memory_dataset(void **state)
{
    static const uint8_t px[2 * 3] = {1, 2, 3, 4, 5, 6};
    static const int32_t good[2] = {0, 1}, bad[2] = {0, 2};
    clf_dataset *ds = NULL;
    captured_log log;

    (void)state;
    assert_int_equal(clf_dataset_from_memory(px, good, 2, 1, 1, 2, &ds), CLF_OK);
    assert_int_equal(clf_dataset_size(ds), 2);
    assert_int_equal(clf_dataset_classes(ds), 2);
    assert_string_equal(clf_dataset_class_name(ds, 1), "1");
    assert_null(clf_dataset_class_name(ds, 2));
    assert_string_equal(clf_dataset_path(ds, 0), "");
    assert_int_equal(clf_dataset_image(ds, 1)[2], 6);
    assert_null(clf_dataset_image(ds, 2));
    assert_int_equal(clf_dataset_label(ds, 1), 1);
    clf_dataset_free(ds);

    capture_start(&log);
    assert_int_equal(clf_dataset_from_memory(px, bad, 2, 1, 1, 2, &ds), CLF_ERR_ARG);
    assert_int_equal(clf_dataset_from_memory(px, good, 2, 0, 1, 2, &ds), CLF_ERR_ARG);
    capture_stop();
    assert_non_null(strstr(log.text, "label 2 of image 1 is outside [0, 2)"));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(batch_sizes),   cmocka_unit_test(shuffled_epochs),
        cmocka_unit_test(seed_and_no_shuffle), cmocka_unit_test(bad_arguments),
        cmocka_unit_test(memory_dataset),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
