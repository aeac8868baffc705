#!/usr/bin/python3
"""Checks the TF.js fixtures against a float64 NumPy run of the same model.

A third, independent reading of model.json and the weight shard (NumPy
only, nothing shared with clfit's C reader or with TF.js), run in float64,
tells how far the float32 TF.js fixtures are from the exact answer, and so
which tolerance a float32 implementation can be held to.

usage: /usr/bin/python3 tools/ref/mobilenet_f64.py [MODEL_DIR] [FIXTURE_DIR]
Prints, for every fixture output, the largest |tfjs - f64| relative to
the largest |f64| of that tensor, and the largest elementwise relative
error among elements above 1% of that maximum.
"""
import json
import os
import sys

import numpy as np

ROOT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..")
MODEL = sys.argv[1] if len(sys.argv) > 1 else os.path.join(ROOT, "models/mobilenet_v2")
FIX = sys.argv[2] if len(sys.argv) > 2 else os.path.join(ROOT, "tests/fixtures/mobilenet")


def load_weights(model):
    """name -> float32 array, dequantised as value = min + q * scale."""
    out = {}
    for group in model["weightsManifest"]:
        data = b"".join(open(os.path.join(MODEL, p), "rb").read() for p in group["paths"])
        off = 0
        for w in group["weights"]:
            n = int(np.prod(w["shape"], dtype=np.int64))
            q = w.get("quantization")
            if q and q["dtype"] == "uint8":
                raw = np.frombuffer(data, np.uint8, n, off).astype(np.float64)
                off += n
                vals = (raw * q["scale"] + q["min"]).astype(np.float32)
            elif not q:
                vals = np.frombuffer(data, "<f4", n, off).copy()
                off += 4 * n
            else:
                sys.exit(f"unsupported quantization {q}")
            out[w["name"]] = vals.reshape(w["shape"])
    return out


def window(size, k, s, same):
    """Output size and padding before, as TensorFlow does it."""
    if same:
        o = -(-size // s)
        total = max((o - 1) * s + k - size, 0)
        return o, total // 2, total - total // 2
    return (size - k) // s + 1, 0, 0


def conv(x, kern, strides, same, depthwise):
    """x: (h, w, c) float64; kern: (kh, kw, c, oc) or (kh, kw, c, mult)."""
    kh, kw = kern.shape[:2]
    oh, pt, pb = window(x.shape[0], kh, strides[0], same)
    ow, pl, pr = window(x.shape[1], kw, strides[1], same)
    xp = np.pad(x, ((pt, pb), (pl, pr), (0, 0)))
    acc = None
    for dy in range(kh):
        for dx in range(kw):
            patch = xp[dy:dy + (oh - 1) * strides[0] + 1:strides[0],
                       dx:dx + (ow - 1) * strides[1] + 1:strides[1], :]
            if depthwise:
                term = (patch[:, :, :, None] * kern[dy, dx][None, None]).reshape(oh, ow, -1)
            else:
                term = patch @ kern[dy, dx]
            acc = term if acc is None else acc + term
    return acc


def run(model, weights, x, outputs):
    cfg = model["modelTopology"]["model_config"]["config"]
    act = {}
    for layer in cfg["layers"]:
        name, cls, c = layer["name"], layer["class_name"], layer["config"]
        ins = [act[r[0]] for node in layer["inbound_nodes"] for r in node]
        w = lambda v: weights[f"{name}/{v}"].astype(np.float64)
        if cls == "InputLayer":
            y = x
        elif cls == "ZeroPadding2D":
            (t, b), (l, r) = c["padding"]
            y = np.pad(ins[0], ((t, b), (l, r), (0, 0)))
        elif cls in ("Conv2D", "DepthwiseConv2D"):
            dw = cls == "DepthwiseConv2D"
            y = conv(ins[0], w("depthwise_kernel" if dw else "kernel"), c["strides"],
                     c["padding"] == "same", dw)
            if c["use_bias"]:
                y = y + w("bias")
            assert c["activation"] == "linear"
        elif cls == "BatchNormalization":
            y = (ins[0] - w("moving_mean")) / np.sqrt(w("moving_variance") + c["epsilon"])
            y = y * w("gamma") + w("beta")
        elif cls == "ReLU":
            y = np.clip(ins[0], 0, c["max_value"])
        elif cls == "Add":
            y = sum(ins)
        elif cls == "AveragePooling2D":
            p = c["pool_size"]
            h, wd = ins[0].shape[0] // p[0], ins[0].shape[1] // p[1]
            y = ins[0][:h * p[0], :wd * p[1]].reshape(h, p[0], wd, p[1], -1).mean(axis=(1, 3))
        elif cls == "Flatten":
            y = ins[0].reshape(-1)
        elif cls == "Dense":
            y = ins[0] @ w("kernel") + w("bias")
            if c["activation"] == "relu":
                y = np.maximum(y, 0)
            elif c["activation"] == "softmax":
                e = np.exp(y - y.max())
                y = e / e.sum()
        elif cls == "Dropout":
            y = ins[0]
        else:
            sys.exit(f"layer {name}: {cls} not handled")
        act[name] = y
        if all(o in act for o in outputs):
            break
    return act


def main():
    model = json.load(open(os.path.join(MODEL, "model.json")))
    weights = load_weights(model)
    index = json.load(open(os.path.join(FIX, "index.json")))
    tensors = {t["name"]: t for t in index["tensors"]}
    by_input = {}
    for t in index["tensors"]:
        if "input" in t:
            by_input.setdefault(t["input"], []).append(t)

    worst = 0.0
    for inp, outs in by_input.items():
        meta = tensors[inp]
        px = np.fromfile(os.path.join(FIX, meta["file"]), np.uint8).reshape(meta["shape"])
        # TF.js divides in float32.
        x = (px.astype(np.float32) / np.float32(255)).astype(np.float64)
        act = run(model, weights, x, [t["layer"] for t in outs])
        for t in outs:
            ref = np.fromfile(os.path.join(FIX, t["file"]), "<f4").astype(np.float64)
            exact = act[t["layer"]].reshape(-1)
            scale = np.abs(exact).max()
            err = np.abs(ref - exact).max() / scale
            big = np.abs(exact) > 0.01 * scale
            rel = (np.abs(ref - exact)[big] / np.abs(exact)[big]).max()
            worst = max(worst, err)
            print(f"{t['name']:28s} max|tfjs-f64|/max|f64| = {err:.2e}   "
                  f"max rel (|f64| > 1% of max) = {rel:.2e}")
    print(f"worst scaled error {worst:.2e}")


if __name__ == "__main__":
    main()
