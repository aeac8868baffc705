/* splitmix64 (Steele, Lea, Flood 2014), written from its published recurrence. */
#include "rng.h"

static uint64_t mix64(uint64_t z)
{
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
    return z ^ (z >> 31);
}

void clf_rng_seed(clf_rng *r, uint64_t seed)
{
    r->state = mix64(seed ^ 0x6a09e667f3bcc909ULL);
}

uint64_t clf_rng_next(clf_rng *r)
{
    r->state += 0x9e3779b97f4a7c15ULL;
    return mix64(r->state);
}

uint64_t clf_rng_below(clf_rng *r, uint64_t n)
{
    /* reject the top partial range so every residue is equally likely */
    uint64_t limit = UINT64_MAX - UINT64_MAX % n;
    uint64_t x;

    do {
        x = clf_rng_next(r);
    } while (x >= limit);
    return x % n;
}

float clf_rng_uniform(clf_rng *r)
{
    return (float)(clf_rng_next(r) >> 40) * (1.0f / 16777216.0f);
}

void clf_rng_shuffle(clf_rng *r, size_t *idx, size_t n)
{
    for (size_t i = n; i > 1; i--) {
        size_t j = (size_t)clf_rng_below(r, i);
        size_t t = idx[i - 1];

        idx[i - 1] = idx[j];
        idx[j] = t;
    }
}

