#!/usr/bin/env python3
"""Writes the hand-made seeds of fuzz/corpus/tfjs_weights/ and
fuzz/corpus/safetensors/.

tfjs_weights: each seed is a weightsManifest (JSON), a NUL byte, then the
shard bytes that fuzz_tfjs_weights writes to files s0 and s1 (the bytes
are split in the middle). The float32 seed reuses
tests/fixtures/keras/tfjs_sequential's weights.bin; the others exercise
each stored type TF.js writes.

mobilenet (only when tools/fetch_mobilenet.sh has put the real model in
models/mobilenet_v2): the real TF.js model.json cut after block_2_add, its
first 30 layers, for fuzz/corpus/keras_json/, and those layers' weights
(the real uint8-quantised manifest entries and shard bytes) for
fuzz/corpus/tfjs_weights/; small enough to keep fuzzing fast.

safetensors: files with every dtype, an empty file and metadata only (the
model and checkpoint files clfit writes are copied there too; see
fuzz/README.md for how the harnesses write those).
Run from the repository root: fuzz/make_seeds.py
"""
import json
import struct
from pathlib import Path

out = Path("fuzz/corpus/tfjs_weights")
out.mkdir(parents=True, exist_ok=True)


def seed(name, groups, blob):
    text = json.dumps(groups, separators=(",", ":")).encode()
    (out / name).write_bytes(text + b"\0" + blob)


bin_f32 = Path("tests/fixtures/keras/tfjs_sequential/weights.bin").read_bytes()
seed("float32", [{"paths": ["s0", "s1"], "weights": [
    {"name": "dense/kernel", "shape": [16, 3], "dtype": "float32"},
    {"name": "dense/bias", "shape": [3], "dtype": "float32"}]}], bin_f32)

halves = struct.pack("<6e", 0.5, -1.0, 2.0, 65504.0, 6e-8, 0.0)
seed("float16", [{"paths": ["s0", "s1"], "weights": [
    {"name": "c/kernel", "shape": [2, 3], "dtype": "float32",
     "quantization": {"dtype": "float16", "original_dtype": "float32"}}]}], halves)

seed("uint8", [{"paths": ["s0", "s1"], "weights": [
    {"name": "a/kernel", "shape": [2, 2, 1, 2], "dtype": "float32",
     "quantization": {"dtype": "uint8", "min": -0.5, "scale": 0.01}},
    {"name": "a/bias", "shape": [2], "dtype": "float32",
     "quantization": {"dtype": "uint8", "min": 0.0, "scale": 0.1}}]}],
     bytes(range(0, 200, 20)))

seed("uint16", [{"paths": ["s0"], "weights": [
    {"name": "bn/gamma", "shape": [3], "dtype": "float32",
     "quantization": {"dtype": "uint16", "min": -1.0, "scale": 0.001}}]},
    {"paths": ["s1"], "weights": [
    {"name": "bn/beta", "shape": [1], "dtype": "float32"}]}],
    # s0: the three uint16; s1: the float32 and 2 unused bytes (a warning)
    struct.pack("<3H", 0, 1000, 65535) + struct.pack("<f", 1.5) + b"\0\0")


def safetensors(path, tensors, meta=None):
    hdr, data = {}, b""
    if meta is not None:
        hdr["__metadata__"] = meta
    for name, (dtype, shape, raw) in tensors.items():
        hdr[name] = {"dtype": dtype, "shape": shape,
                     "data_offsets": [len(data), len(data) + len(raw)]}
        data += raw
    h = json.dumps(hdr).encode()
    h += b" " * ((8 - len(h) % 8) % 8)
    Path(path).write_bytes(struct.pack("<Q", len(h)) + h + data)


st = Path("fuzz/corpus/safetensors")
st.mkdir(parents=True, exist_ok=True)
safetensors(st / "dtypes", {
    "f16": ("F16", [2], struct.pack("<2e", 1.0, -2.0)),
    "i64": ("I64", [1], struct.pack("<q", -5)),
    "b": ("BOOL", [3], b"\x01\x00\x01"),
    "bf": ("BF16", [1], b"\x80\x3f"),
    "f64": ("F64", [], struct.pack("<d", 3.5)),
    "u8": ("U8", [2, 2], bytes(4)),
    "f32": ("F32", [2, 1], struct.pack("<2f", 0.5, 1.5)),
    "z": ("F32", [0, 3], b"")}, {"note": "hand-made", "clfit.crc32": "00000000"})
safetensors(st / "empty", {})
safetensors(st / "meta_only", {}, {"a": "b"})


def mobilenet_seeds(src=Path("models/mobilenet_v2")):
    if not (src / "model.json").exists():
        print("models/mobilenet_v2 not fetched: MobileNetV2 seeds not written")
        return
    model = json.loads((src / "model.json").read_text())
    cfg = model["modelTopology"]["model_config"]["config"]
    names = [layer["name"] for layer in cfg["layers"]]
    cut = names.index("block_2_add") + 1
    cfg["layers"] = cfg["layers"][:cut]
    cfg["output_layers"] = [["block_2_add", 0, 0]]
    kept = set(names[:cut])

    shard = b"".join((src / p).read_bytes() for p in model["weightsManifest"][0]["paths"])
    sizes = {"uint8": 1, "uint16": 2, "float16": 2}
    weights, blob, off = [], b"", 0
    for w in model["weightsManifest"][0]["weights"]:
        count = 1
        for dim in w["shape"]:
            count *= dim
        q = w.get("quantization")
        n = count * (sizes[q["dtype"]] if q else 4)
        if w["name"].split("/")[0] in kept:
            weights.append(w)
            blob += shard[off:off + n]
        off += n
    model["weightsManifest"] = [{"paths": ["s0", "s1"], "weights": weights}]
    model["modelTopology"].pop("training_config", None)
    text = json.dumps(model, separators=(",", ":"))
    Path("fuzz/corpus/keras_json/mobilenet_v2_block2.json").write_text(text)
    seed("mobilenet_v2_block2", [{"paths": ["s0", "s1"], "weights": weights}], blob)


mobilenet_seeds()
