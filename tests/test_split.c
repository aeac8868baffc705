/* Split sizes against torch's random_split, and the seeded permutation.
 *
 * Expected sizes: tools/ref/split_sizes.py, run with Debian's torch 1.13
 * (/usr/bin/python3), which calls torch.utils.data.random_split on a range
 * dataset and prints the subset lengths. Expected permutations:
 * tools/ref/shuffle_order.py, an independent re-implementation of the
 * generator and shuffle the split documents. */
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "clfit/data.h"
#include "test_data_util.h"

static const double SEVEN_TWO_ONE[3] = {0.7, 0.2, 0.1};

typedef struct split_case {
    size_t n;
    int k;
    double f[4];
    size_t want[4];
} split_case;

/* Output of tools/ref/split_sizes.py (torch 1.13.0a0). */
static const split_case CASES[] = {
    {3, 3, {0.7, 0.2, 0.1}, {3, 0, 0}},
    {7, 3, {0.7, 0.2, 0.1}, {5, 2, 0}},
    {10, 3, {0.7, 0.2, 0.1}, {7, 2, 1}},
    {33, 3, {0.7, 0.2, 0.1}, {24, 6, 3}},
    {385, 3, {0.7, 0.2, 0.1}, {270, 77, 38}},
    {5478, 3, {0.7, 0.2, 0.1}, {3835, 1096, 547}},
    {0, 3, {0.7, 0.2, 0.1}, {0, 0, 0}},
    {1, 3, {0.7, 0.2, 0.1}, {1, 0, 0}},
    {2, 3, {0.7, 0.2, 0.1}, {2, 0, 0}},
    {5, 2, {0.8, 0.2}, {4, 1}},
    {9, 2, {0.8, 0.2}, {8, 1}},
    {101, 2, {0.8, 0.2}, {81, 20}},
    {7, 3, {0.5, 0.5, 0.0}, {4, 3, 0}},
    {4, 1, {1.0}, {4}},
    {13, 4, {0.1, 0.2, 0.3, 0.4}, {2, 3, 3, 5}},
};

static void sizes_match_torch(void **state)
{
    (void)state;
    for (size_t c = 0; c < sizeof CASES / sizeof CASES[0]; c++) {
        size_t got[4] = {0};

        assert_int_equal(clf_split_sizes(CASES[c].n, CASES[c].f, CASES[c].k, got), CLF_OK);
        for (int s = 0; s < CASES[c].k; s++)
            if (got[s] != CASES[c].want[s])
                fail_msg("n=%zu subset %d: %zu, torch gives %zu", CASES[c].n, s, got[s],
                         CASES[c].want[s]);
    }
}

static void bad_fractions(void **state)
{
    static const double neg[3] = {0.9, 0.2, -0.1}, over[3] = {0.7, 0.2, 0.2};
    static const double under[2] = {0.5, 0.4}, nan_f[2] = {0.5, NAN};
    size_t sizes[3];
    captured_log log;

    (void)state;
    capture_start(&log);
    assert_int_equal(clf_split_sizes(10, neg, 3, sizes), CLF_ERR_ARG);
    assert_int_equal(clf_split_sizes(10, over, 3, sizes), CLF_ERR_ARG);
    assert_int_equal(clf_split_sizes(10, under, 2, sizes), CLF_ERR_ARG);
    assert_int_equal(clf_split_sizes(10, nan_f, 2, sizes), CLF_ERR_ARG);
    assert_int_equal(clf_split_sizes(10, SEVEN_TWO_ONE, 0, sizes), CLF_ERR_ARG);
    capture_stop();
    assert_int_equal(log.errors, 5);
    assert_non_null(strstr(log.text, "0.7,0.2,0.2"));
}

/* 3 and 7 images leave the validation or test subset empty although
 * their fractions are positive: a clear error, not an empty batch later. */
static void too_few_images(void **state)
{
    size_t perm[7], sizes[3];
    captured_log log;

    (void)state;
    capture_start(&log);
    assert_int_equal(clf_split(3, SEVEN_TWO_ONE, 3, 20, perm, sizes), CLF_ERR_DATA);
    assert_int_equal(clf_split(7, SEVEN_TWO_ONE, 3, 20, perm, sizes), CLF_ERR_DATA);
    capture_stop();
    assert_non_null(strstr(log.text, "3 images are too few for the split 0.7,0.2,0.1: it "
                                     "gives 3/0/0 images and the validation subset"));
    assert_non_null(strstr(log.text, "7 images are too few for the split 0.7,0.2,0.1: it "
                                     "gives 5/2/0 images and the test subset"));
}

/* An empty subset is fine when its fraction is 0; the train subset never. */
static void empty_allowed_only_at_zero(void **state)
{
    static const double no_test[3] = {0.5, 0.5, 0.0}, no_train[2] = {0.0, 1.0};
    size_t perm[7], sizes[3];
    captured_log log;

    (void)state;
    assert_int_equal(clf_split(7, no_test, 3, 20, perm, sizes), CLF_OK);
    assert_int_equal(sizes[2], 0);
    capture_start(&log);
    assert_int_equal(clf_split(7, no_train, 2, 20, perm, sizes), CLF_ERR_DATA);
    capture_stop();
    assert_non_null(strstr(log.text, "train subset"));
}

/* Every index exactly once: the subsets are disjoint and cover 0..n-1. */
static void disjoint_and_covering(void **state)
{
    static const size_t ns[] = {10, 33, 385, 5478};

    (void)state;
    for (size_t c = 0; c < sizeof ns / sizeof ns[0]; c++) {
        size_t n = ns[c], sizes[3];
        size_t *perm = malloc(n * sizeof *perm);
        unsigned char *seen = calloc(n, 1);

        assert_int_equal(clf_split(n, SEVEN_TWO_ONE, 3, 20, perm, sizes), CLF_OK);
        assert_int_equal(sizes[0] + sizes[1] + sizes[2], n);
        for (size_t i = 0; i < n; i++) {
            assert_true(perm[i] < n);
            assert_int_equal(seen[perm[i]], 0);
            seen[perm[i]] = 1;
        }
        free(perm);
        free(seen);
    }
}

/* The permutation for n = 10 is the one tools/ref/shuffle_order.py
 * computes; the same seed gives it again, another seed another one. */
static void seeded_permutation(void **state)
{
    static const size_t want20[10] = {4, 5, 1, 6, 3, 0, 2, 7, 9, 8};
    static const size_t want21[10] = {8, 1, 6, 4, 9, 0, 5, 7, 3, 2};
    size_t perm[10], again[10], sizes[3];

    (void)state;
    assert_int_equal(clf_split(10, SEVEN_TWO_ONE, 3, 20, perm, sizes), CLF_OK);
    assert_memory_equal(perm, want20, sizeof perm);
    assert_int_equal(clf_split(10, SEVEN_TWO_ONE, 3, 20, again, sizes), CLF_OK);
    assert_memory_equal(perm, again, sizeof perm);
    assert_int_equal(clf_split(10, SEVEN_TWO_ONE, 3, 21, perm, sizes), CLF_OK);
    assert_memory_equal(perm, want21, sizeof perm);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(sizes_match_torch),     cmocka_unit_test(bad_fractions),
        cmocka_unit_test(too_few_images),        cmocka_unit_test(empty_allowed_only_at_zero),
        cmocka_unit_test(disjoint_and_covering), cmocka_unit_test(seeded_permutation),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
