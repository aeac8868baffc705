#!/usr/bin/python3
"""Reference values for tests/test_optim.c: Keras's Adam and SGD updates.

Written from the formulas in Keras's documentation and DESIGN.md
("Numbers"), not from clfit's code, and computed in float64 from
hyperparameters rounded to float32 first (Keras and clfit both hold them
as float32: 1 - float32(0.999) is 0.00099998713, not 0.001):

  Adam:  m += (g - m) * (1 - b1);  v += (g*g - v) * (1 - b2)
         lr_t = lr * sqrt(1 - b2^t) / (1 - b1^t)
         w -= lr_t * m / (sqrt(v) + eps)
  SGD:   momentum 0:  w -= lr * g
         otherwise:   vel = momentum * vel - lr * g
                      w += vel                         (plain)
                      w += momentum * vel - lr * g     (nesterov)

Run:  /usr/bin/python3 tools/ref/optim_ref.py
and paste the printed arrays into tests/test_optim.c.
"""
import numpy as np

# A Dense(2) on 2 inputs: kernel (2, 2) and bias (2,), flattened as
# [k00, k01, k10, k11, b0, b1]. Element 2 starts at 0 with a tiny
# gradient, where Keras's epsilon placement differs from PyTorch's.
# The test feeds these as float32, so they are rounded to float32 here too.
def f32a(xs):
    return np.array(xs, dtype=np.float32).astype(np.float64)


W0 = f32a([0.5, -1.0, 0.0, 0.25, 0.1, -0.2])
GRADS = [
    f32a([0.1, -0.2, 1e-8, 3.0, 0.5, -0.05]),
    f32a([-0.3, -0.1, 1e-8, 2.0, 0.0, 0.4]),
    f32a([0.2, 0.05, 1e-8, -1.0, -0.5, 0.1]),
]


def f32(x):
    return float(np.float32(x))


def adam(lr=1e-3, b1=0.9, b2=0.999, eps=1e-7):
    lr, b1, b2, eps = f32(lr), f32(b1), f32(b2), f32(eps)
    w, m, v = W0.copy(), np.zeros(6), np.zeros(6)
    out = []
    for t, g in enumerate(GRADS, start=1):
        m += (g - m) * (1 - b1)
        v += (g * g - v) * (1 - b2)
        lr_t = lr * np.sqrt(1 - b2 ** t) / (1 - b1 ** t)
        w -= lr_t * m / (np.sqrt(v) + eps)
        out.append((w.copy(), m.copy(), v.copy()))
    return out


def sgd(lr=0.01, momentum=0.0, nesterov=False):
    lr, momentum = f32(lr), f32(momentum)
    w, vel = W0.copy(), np.zeros(6)
    out = []
    for g in GRADS:
        if momentum == 0.0:
            w -= lr * g
        else:
            vel = momentum * vel - lr * g
            w += momentum * vel - lr * g if nesterov else vel
        out.append(w.copy())
    return out


def show(name, arr):
    print("    /* %s */ {%s}," % (name, ", ".join("%.9e" % x for x in arr)))


print("adam (lr 1e-3, b1 0.9, b2 0.999, eps 1e-7): w, m, v after steps 1..3")
for t, (w, m, v) in enumerate(adam(), start=1):
    show("w%d" % t, w)
    show("m%d" % t, m)
    show("v%d" % t, v)
for label, kw in [("sgd lr 0.01", {}),
                  ("sgd lr 0.01 momentum 0.9", {"momentum": 0.9}),
                  ("sgd lr 0.01 momentum 0.9 nesterov",
                   {"momentum": 0.9, "nesterov": True})]:
    print(label + ": w after steps 1..3")
    for t, w in enumerate(sgd(**kw), start=1):
        show("w%d" % t, w)
