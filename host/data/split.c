/* random_split's subset sizes and a seeded permutation cut into subsets. */
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "clfit/data.h"
#include "clfit/log.h"
#include "core/alloc.h"
#include "core/rng.h"

/* "0.7,0.2,0.1" into buf. */
static const char *format_fractions(const double *f, int k, char *buf, size_t size)
{
    size_t used = 0;

    buf[0] = '\0';
    for (int i = 0; i < k && used < size; i++) {
        int w = snprintf(buf + used, size - used, "%s%g", i ? "," : "", f[i]);

        if (w < 0)
            break;
        used += (size_t)w;
    }
    return buf;
}

static const char *subset_name(int i, char *buf, size_t size)
{
    static const char *const names[] = {"train", "validation", "test"};

    if (i < 3)
        return names[i];
    snprintf(buf, size, "subset %d", i + 1);
    return buf;
}

static clf_status check_fractions(const double *f, int k)
{
    char text[256];
    double sum = 0.0;

    for (int i = 0; i < k; i++) {
        if (!(f[i] >= 0.0 && f[i] <= 1.0)) {
            CLF_LOG_ERROR("split fraction %d is %g; each must lie in [0, 1]", i + 1, f[i]);
            return CLF_ERR_ARG;
        }
        sum += f[i];
    }
    if (fabs(sum - 1.0) > 1e-6) {
        CLF_LOG_ERROR("split fractions %s sum to %.9g; they must sum to 1",
                      format_fractions(f, k, text, sizeof text), sum);
        return CLF_ERR_ARG;
    }
    return CLF_OK;
}

clf_status clf_split_sizes(size_t n, const double *fractions, int k, size_t *sizes)
{
    size_t total = 0;
    clf_status st;

    if (k < 1 || !fractions || !sizes || n > ((size_t)1 << 53)) {
        CLF_LOG_ERROR("clf_split_sizes: need k >= 1 fractions and n <= 2^53 (got k = %d)", k);
        return CLF_ERR_ARG;
    }
    st = check_fractions(fractions, k);
    if (st != CLF_OK)
        return st;

    /* floor(n * f) in double, exactly as Python computes it. */
    for (int i = 0; i < k; i++) {
        sizes[i] = (size_t)floor((double)n * fractions[i]);
        total += sizes[i];
    }
    if (total > n) {
        char text[256];

        CLF_LOG_ERROR("split fractions %s sum to more than 1",
                      format_fractions(fractions, k, text, sizeof text));
        return CLF_ERR_ARG;
    }
    for (size_t i = 0; i < n - total; i++)
        sizes[i % (size_t)k]++;
    return CLF_OK;
}

/* The train subset, and every subset with a positive fraction, must get
 * at least one image: an empty one would only fail later, less clearly. */
static clf_status check_nonempty(size_t n, const double *f, int k, const size_t *sizes)
{
    char text[256], got[256], name[32];
    size_t used = 0;

    for (int i = 0; i < k; i++) {
        if (sizes[i] > 0 || (i > 0 && f[i] == 0.0))
            continue;
        got[0] = '\0';
        for (int j = 0; j < k && used < sizeof got; j++) {
            int w = snprintf(got + used, sizeof got - used, "%s%zu", j ? "/" : "", sizes[j]);
            used += w > 0 ? (size_t)w : 0;
        }
        CLF_LOG_ERROR("%zu images are too few for the split %s: it gives %s images and the "
                      "%s subset (fraction %g) would be empty; add images or change the "
                      "split",
                      n, format_fractions(f, k, text, sizeof text), got,
                      subset_name(i, name, sizeof name), f[i]);
        return CLF_ERR_DATA;
    }
    return CLF_OK;
}

clf_status clf_split(size_t n, const double *fractions, int k, uint64_t seed, size_t *perm,
                     size_t *sizes)
{
    clf_rng r;
    clf_status st;

    if (!perm && n > 0) {
        CLF_LOG_ERROR("clf_split: the permutation array must not be NULL");
        return CLF_ERR_ARG;
    }
    st = clf_split_sizes(n, fractions, k, sizes);
    if (st == CLF_OK)
        st = check_nonempty(n, fractions, k, sizes);
    if (st != CLF_OK)
        return st;

    for (size_t i = 0; i < n; i++)
        perm[i] = i;
    clf_rng_seed(&r, seed);
    clf_rng_shuffle(&r, perm, n);
    return CLF_OK;
}
