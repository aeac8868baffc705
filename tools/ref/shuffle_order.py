#!/usr/bin/python3
"""Permutations clfit's split and loader must produce, computed independently.

Reference for tests/test_split.c and tests/test_loader.c. It re-implements,
from their documented definitions, the generator of host/core/rng.c
(splitmix64 with seeding state = mix(seed ^ 0x6a09e667f3bcc909), unbiased
below(n) by rejection, Fisher-Yates from the top) and the seeds clfit
derives: clf_split shuffles 0..n-1 with `seed`; the loader shuffles its
indices for epoch e with seed ^ (0x9e3779b97f4a7c15 * (e + 1) mod 2^64).
    /usr/bin/python3 tools/ref/shuffle_order.py
"""
M = (1 << 64) - 1
GOLDEN = 0x9E3779B97F4A7C15


def mix64(z):
    z = ((z ^ (z >> 30)) * 0xBF58476D1CE4E5B9) & M
    z = ((z ^ (z >> 27)) * 0x94D049BB133111EB) & M
    return z ^ (z >> 31)


class Rng:
    def __init__(self, seed):
        self.state = mix64(seed ^ 0x6A09E667F3BCC909)

    def next(self):
        self.state = (self.state + GOLDEN) & M
        return mix64(self.state)

    def below(self, n):
        limit = M - M % n
        while True:
            x = self.next()
            if x < limit:
                return x % n


def shuffle(seed, items):
    r, items = Rng(seed), list(items)
    for i in range(len(items), 1, -1):
        j = r.below(i)
        items[i - 1], items[j] = items[j], items[i - 1]
    return items


def main():
    print("split n=10 seed=20:", shuffle(20, range(10)))
    print("split n=10 seed=21:", shuffle(21, range(10)))
    subset = [3, 5, 7, 11, 13, 17, 19]
    for epoch in range(3):
        seed = 20 ^ ((GOLDEN * (epoch + 1)) & M)
        print("loader", subset, "seed=20 epoch=%d:" % epoch, shuffle(seed, subset))


if __name__ == "__main__":
    main()
