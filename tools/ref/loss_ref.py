#!/usr/bin/python3
"""Cross-checks the hand-computed values in tests/test_loss.c.

Softmax cross-entropy from logits in float64 with Python's own math, not
clfit's code. With mx = max(x) and r = log(sum(exp(x - mx))):
  loss = r - (x[label] - mx),  p = exp(x - mx - r),
(the max comes off before anything else, so 3e38 neither overflows nor
cancels),
  grad = (p - onehot(label)) / n,  correct = (first arg-max == label).
Run:  /usr/bin/python3 tools/ref/loss_ref.py
"""
import math

CASES = [
    ([1.0, 2.0, 3.0], 2),
    ([1000.0, -1000.0, 0.0], 1),
    ([3e38, 3e38, -3e38], 1),
    ([2.0, 2.0, 1.0], 0),
]


def main():
    for x, label in CASES:
        mx = max(x)
        r = math.log(sum(math.exp(v - mx) for v in x))
        p = [math.exp(v - mx - r) for v in x]
        first_max = x.index(mx)
        print("x=%s label=%d loss=%.9g p=[%s] correct=%d" % (
            x, label, r - (x[label] - mx), ", ".join("%.9g" % v for v in p),
            first_max == label))


main()
