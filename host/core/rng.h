/* Deterministic random numbers (internal): a 64-bit state, splitmix64.
 *
 * The whole state is one uint64_t, so it is trivially saved in checkpoints
 * and identical on every platform. Not for cryptography.
 */
#ifndef CLFIT_CORE_RNG_H
#define CLFIT_CORE_RNG_H

#include <stddef.h>
#include <stdint.h>

typedef struct clf_rng {
    uint64_t state;
} clf_rng;

/* Seeds the generator; different seeds give unrelated streams. */
void clf_rng_seed(clf_rng *r, uint64_t seed);

uint64_t clf_rng_next(clf_rng *r);

/* Uniform integer in [0, n), without modulo bias; n > 0. */
uint64_t clf_rng_below(clf_rng *r, uint64_t n);

/* Uniform float in [0, 1) with 24 random bits. */
float clf_rng_uniform(clf_rng *r);

/* Fisher-Yates shuffle of idx[0..n). */
void clf_rng_shuffle(clf_rng *r, size_t *idx, size_t n);

#endif
