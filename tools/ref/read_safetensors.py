#!/usr/bin/python3
"""Independent reader of safetensors files, for checking what clfit writes.

Python's `safetensors` package is not in Debian, so this script reads the
published format with nothing but json, struct and numpy:

    8 bytes   N, unsigned little-endian
    N bytes   UTF-8 JSON: {"__metadata__": {str: str}, name: {"dtype",
              "shape", "data_offsets": [begin, end]}, ...}
    the rest  little-endian tensor data, offsets relative to its start

It checks the layout as the reference implementation does (tensors end to
end, covering the data exactly; sizes matching dtype and shape; metadata
values being strings) and prints one line per item:

    header N aligned|unaligned
    metadata KEY JSON-STRING-VALUE
    tensor NAME DTYPE D0,D1,... bits=B sum=S

B is the sum of the tensor's raw 32-bit words as unsigned integers modulo
2**64 (an exact checksum that does not depend on summation order); S is
the float64 sum of the values. Exit status 1, with the reason on stderr,
when the file breaks the format.

Usage: /usr/bin/python3 tools/ref/read_safetensors.py FILE
"""
import json
import struct
import sys

import numpy as np

DTYPES = {"BOOL": 1, "U8": 1, "I8": 1, "F8_E5M2": 1, "F8_E4M3": 1, "I16": 2,
          "U16": 2, "F16": 2, "BF16": 2, "I32": 4, "U32": 4, "F32": 4,
          "F64": 8, "I64": 8, "U64": 8}


def fail(msg):
    print("read_safetensors: " + msg, file=sys.stderr)
    sys.exit(1)


def read(path):
    with open(path, "rb") as f:
        raw = f.read()
    if len(raw) < 8:
        fail("%s: shorter than 8 bytes" % path)
    (n,) = struct.unpack("<Q", raw[:8])
    if n > len(raw) - 8:
        fail("%s: header length %d exceeds the file" % (path, n))
    header = json.loads(raw[8:8 + n].decode("utf-8"))
    if not isinstance(header, dict):
        fail("%s: header is not an object" % path)
    return n, header, raw[8 + n:]


def check_layout(header, data):
    tensors = [(k, v) for k, v in header.items() if k != "__metadata__"]
    at = 0
    for name, info in sorted(tensors, key=lambda kv: tuple(kv[1]["data_offsets"])):
        begin, end = info["data_offsets"]
        count = int(np.prod(info["shape"], dtype=np.int64)) if info["shape"] else 1
        if begin != at or end - begin != count * DTYPES[info["dtype"]]:
            fail("tensor %s: offsets %r do not follow %d with %d values"
                 % (name, info["data_offsets"], at, count))
        at = end
    if at != len(data):
        fail("tensors cover %d of %d data bytes" % (at, len(data)))
    return tensors


def main():
    if len(sys.argv) != 2:
        fail("usage: read_safetensors.py FILE")
    n, header, data = read(sys.argv[1])
    print("header %d %s" % (n, "aligned" if n % 8 == 0 else "unaligned"))
    meta = header.get("__metadata__", {})
    for key, value in meta.items():
        if not isinstance(value, str):
            fail("metadata %s is not a string" % key)
        print("metadata %s %s" % (key, json.dumps(value)))
    for name, info in check_layout(header, data):
        begin, end = info["data_offsets"]
        shape = ",".join(str(d) for d in info["shape"])
        line = "tensor %s %s %s" % (name, info["dtype"], shape)
        if info["dtype"] == "F32":
            words = np.frombuffer(data[begin:end], dtype="<u4").astype(np.uint64)
            values = np.frombuffer(data[begin:end], dtype="<f4").astype(np.float64)
            line += " bits=%d sum=%.17g" % (int(words.sum(dtype=np.uint64)),
                                            float(values.sum()))
        print(line)


if __name__ == "__main__":
    main()
