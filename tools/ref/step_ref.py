#!/usr/bin/python3
"""Reference for tests/test_model_step.c: whole training steps of clfit's
"mlp:4" model, computed independently with PyTorch autograd in float64.

The model (as clfit builds it for 2x3 RGB images and 3 classes):
  x = uint8 HWC image -> CHW -> / 255 -> flatten (18 values, C, H, W order)
  h = relu(x W1 + b1)          W1: (18, 4) Keras layout (inputs, units)
  z = h W2 + b2                W2: (4, 3)
  loss = mean over the batch of -log softmax(z)[label]
Weights, images and labels come from the closed formulas below, which the
test repeats. Printed: the mean loss of batch A at the start, the weights
after one SGD step (lr 0.5) on batch A, and after two Keras-Adam steps
(lr 0.01) on batch A (3 images) then batch B (1 image, a short batch).

Run:  /usr/bin/python3 tools/ref/step_ref.py
"""
import math

import numpy as np
import torch

H, W, C, HID, K = 2, 3, 3, 4, 3
D = C * H * W


def f32(x):
    return np.asarray(x, dtype=np.float32).astype(np.float64)


def image(n):
    img = np.zeros((H, W, C), dtype=np.uint8)
    for y in range(H):
        for x in range(W):
            for c in range(C):
                img[y, x, c] = (n * 97 + y * 41 + x * 23 + c * 71 + 13 * n * c) % 256
    return img


def weights():
    w1 = [[0.3 * math.sin(1.1 * i + 0.7 * j + 0.5) for j in range(HID)] for i in range(D)]
    b1 = [0.1 * math.cos(j) for j in range(HID)]
    w2 = [[0.5 * math.cos(0.9 * j + 1.3 * k) for k in range(K)] for j in range(HID)]
    b2 = [0.05 * k for k in range(K)]
    # the test stores them as float32
    return [torch.tensor(f32(v), requires_grad=True) for v in (w1, b1, w2, b2)]


def batch(idx):
    # pixels / 255 in float32, as the device computes v * (1 / 255.f)
    imgs = np.stack([image(n) for n in idx]).astype(np.float32)
    x = imgs * np.float32(1.0 / 255.0)
    x = np.transpose(x, (0, 3, 1, 2)).reshape(len(idx), D)
    return torch.tensor(x.astype(np.float64))


BATCH_A = ([0, 1, 2], [0, 2, 1])
BATCH_B = ([3], [2])


def loss_of(params, idx, labels):
    w1, b1, w2, b2 = params
    x = batch(idx)
    z1 = x @ w1 + b1
    assert z1.abs().min() > 1e-2, "a relu input sits on its kink"
    z = torch.relu(z1) @ w2 + b2
    return torch.nn.functional.cross_entropy(z, torch.tensor(labels), reduction="mean")


def grads(params, idx, labels):
    for p in params:
        p.grad = None
    loss = loss_of(params, idx, labels)
    loss.backward()
    return loss.item(), [p.grad.detach().numpy().ravel() for p in params]


def flat(params):
    return np.concatenate([p.detach().numpy().ravel() for p in params])


def sgd_step(lr=0.5):
    params = weights()
    loss, g = grads(params, *BATCH_A)
    lr = float(np.float32(lr))
    return loss, flat(params) - lr * np.concatenate(g)


def adam_steps(lr=0.01, b1=0.9, b2=0.999, eps=1e-7):
    lr, b1, b2, eps = (float(np.float32(v)) for v in (lr, b1, b2, eps))
    params = weights()
    m = [np.zeros(p.numel()) for p in params]
    v = [np.zeros(p.numel()) for p in params]
    for t, (idx, labels) in enumerate([BATCH_A, BATCH_B], start=1):
        _, g = grads(params, idx, labels)
        lr_t = lr * math.sqrt(1 - b2 ** t) / (1 - b1 ** t)
        with torch.no_grad():
            for i, p in enumerate(params):
                m[i] += (g[i] - m[i]) * (1 - b1)
                v[i] += (g[i] * g[i] - v[i]) * (1 - b2)
                step = lr_t * m[i] / (np.sqrt(v[i]) + eps)
                p -= torch.tensor(step.reshape(p.shape))
    return flat(params)


def show(name, arr):
    print("static const double %s[%d] = {" % (name, len(arr)))
    for i in range(0, len(arr), 4):
        print("    " + ", ".join("%.10e" % x for x in arr[i:i + 4]) + ",")
    print("};")


torch.set_default_dtype(torch.float64)
loss_a, after_sgd = sgd_step()
print("/* mean loss of batch A at the start: */")
print("static const double loss_a = %.10e;" % loss_a)
show("after_sgd", after_sgd)
show("after_adam", adam_steps())
