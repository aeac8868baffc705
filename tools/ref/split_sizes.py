#!/usr/bin/python3
"""Subset sizes torch.utils.data.random_split gives for fractions.

Reference for tests/test_split.c. Run with Debian's torch:
    /usr/bin/python3 tools/ref/split_sizes.py
It prints one line per case, "N fractions -> sizes", made by calling
random_split on a range dataset and measuring the subsets' lengths.
"""
import warnings

import torch
from torch.utils.data import random_split

CASES = [
    ([0.7, 0.2, 0.1], [3, 7, 10, 33, 385, 5478, 0, 1, 2]),
    ([0.8, 0.2], [5, 9, 101]),
    ([0.5, 0.5, 0.0], [7]),
    ([1.0], [4]),
    ([0.1, 0.2, 0.3, 0.4], [13]),
]


def main():
    warnings.simplefilter("ignore")  # torch warns about empty subsets
    print("torch", torch.__version__)
    for fractions, sizes in CASES:
        for n in sizes:
            parts = random_split(range(n), fractions,
                                 generator=torch.Generator().manual_seed(20))
            print(n, ",".join(str(f) for f in fractions), "->",
                  " ".join(str(len(p)) for p in parts))


if __name__ == "__main__":
    main()
