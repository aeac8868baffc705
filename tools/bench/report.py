#!/usr/bin/python3
"""Prints tools/bench/run.sh's table from the outputs it kept.

Each output file is NAME.SIDE.REP (side: clfit, clfit_cpu, torch) and
holds "result METRIC VALUE UNIT" lines. A figure is the median over the
repetitions; a ratio compares medians measured in the same run. Targets
are those of issue 6; "met" is only a reading of the numbers, never a
test.

  report.py OUT_DIR
"""
import collections
import glob
import os
import statistics
import sys

# Issue 6's memory floor for the seed step: "about 36 MB (weights, batch,
# gradients, Adam state)" at about 38 GB/s. Counted as floats: the weights,
# their gradient and Adam's m and v, each written and read once
# (8 x 150528 x classes), and the float batch read by the forward and the
# backward pass (2 x 12 x 150528): 33.7 MB at 4 classes, the figure.
# A stricter floor without the batch and the gradient (clfit's fused update
# never stores the gradient) is printed beside it: W, m and v only
# (6 x 150528 x classes).
BANDWIDTH = 38e9
INPUTS, BATCH = 150528, 12


def floor_bytes(classes):
    return (8 * INPUTS * classes + 2 * BATCH * INPUTS) * 4


def strict_floor_bytes(classes):
    return 6 * INPUTS * classes * 4


def load(out):
    res = collections.defaultdict(list)  # (name, side, metric) -> values
    for path in glob.glob(os.path.join(out, "*.*.*")):
        base = os.path.basename(path)
        if base.endswith(".err"):
            continue
        name, side, _ = base.rsplit(".", 2)
        with open(path) as f:
            for line in f:
                parts = line.split()
                if len(parts) == 4 and parts[0] == "result":
                    res[(name, side, parts[1])].append(float(parts[2]))
    return res


def med(res, name, side, metric):
    v = res.get((name, side, metric))
    return statistics.median(v) if v else None


def fmt(v, unit):
    if v is None:
        return "n/a"
    if unit == "ms" and v >= 100:
        return f"{v:.0f} ms"
    return f"{v:.2f} {unit}" if v < 100 else f"{v:.0f} {unit}"


class Table:
    def __init__(self):
        self.rows = []

    def add(self, figure, a, b, unit, ratio=None, target="", met=None):
        r = "" if ratio is None else f"{ratio:.3g}x"
        m = "" if met is None else ("met" if met else "NOT met")
        self.rows.append((figure, fmt(a, unit), fmt(b, unit), r, target, m))

    def print(self):
        head = ("figure", "clfit", "PyTorch", "ratio", "target", "")
        w = [max(len(str(r[i])) for r in self.rows + [head]) for i in range(6)]
        for r in [head] + self.rows:
            print("  ".join(str(c).ljust(w[i]) for i, c in enumerate(r)).rstrip())


def ratio(a, b):
    return a / b if a is not None and b else None


def steps(t, res):
    for c in (4, 10):
        name = f"step_c{c}"
        metric = f"step_ms_linear_c{c}"
        a, b = med(res, name, "clfit", metric), med(res, name, "torch", metric)
        r = ratio(a, b)
        t.add(f"train step, {c} classes (opencl)", a, b, "ms", r, "<= 0.25x",
              r is not None and r <= 0.25)
        floor = floor_bytes(c) / BANDWIDTH * 1e3
        rf = ratio(a, floor)
        t.add(f"  vs memory floor ({floor_bytes(c) / 1e6:.0f} MB at 38 GB/s)", a, floor,
              "ms", rf, "<= 2x floor", rf is not None and rf <= 2)
        strict = strict_floor_bytes(c) / BANDWIDTH * 1e3
        t.add(f"  vs W, m, v only ({strict_floor_bytes(c) / 1e6:.0f} MB at 38 GB/s)", a, strict,
              "ms", ratio(a, strict))
        cpu = med(res, name, "clfit_cpu", metric)
        t.add(f"train step, {c} classes (cpu backend)", cpu, b, "ms", ratio(cpu, b))
        skx = med(res, name, "torch_skx", metric)
        if skx is not None:
            t.add(f"  vs PyTorch with OpenBLAS AVX-512 kernels", a, skx, "ms", ratio(a, skx))
        one = med(res, name, "torch_1t", metric)
        if one is not None:
            t.add(f"  vs PyTorch on 1 thread", a, one, "ms", ratio(a, one))


def data(t, res):
    first = [med(res, "data", s, "data_first_epoch_ips") for s in ("clfit", "torch")]
    r = ratio(*first)
    t.add("data, first epoch (decode, 1280x720 JPEG)", *first, "img/s", r, ">= 1.5x",
          r is not None and r >= 1.5)
    later = [med(res, "data", s, "data_later_epoch_ips") for s in ("clfit", "torch")]
    r = ratio(*later)
    t.add("data, later epochs", *later, "img/s", r, ">= 10x", r is not None and r >= 10)
    disk = med(res, "data", "clfit", "data_disk_cache_ips")
    t.add("data, second run (on-disk image cache)", disk, first[1], "img/s",
          ratio(disk, first[1]))


def mobilenet(t, res):
    b = med(res, "mobilenet", "torch", "mobilenet_base_ips")
    a = med(res, "mobilenet", "clfit", "mobilenet_base_ips")
    t.add("MobileNetV2 base, batch 12 (n/a: no model)" if a is None else
          "MobileNetV2 base, batch 12, 224x224", a, b, "img/s", ratio(a, b), ">= 1x",
          None if a is None else ratio(a, b) >= 1)
    skx = med(res, "mobilenet", "torch_skx", "mobilenet_base_ips")
    if skx is not None:
        t.add("  vs PyTorch with OpenBLAS AVX-512 kernels", a, skx, "img/s", ratio(a, skx))
    one = med(res, "mobilenet", "torch_1t", "mobilenet_base_ips")
    if one is not None:
        t.add("  vs PyTorch on 1 thread", a, one, "img/s", ratio(a, one))


def gemm(t, res):
    names = sorted({k[2] for k in res if k[0] == "gemm" and k[2].startswith("sgemm_")},
                   key=lambda s: [int(x) for x in s.split("_")[2].split("x")])
    for m in names:
        shape = m.split("_", 2)[2].replace("_", " ")
        a, b = med(res, "gemm", "clfit", m), med(res, "gemm", "torch", m)
        skx = med(res, "gemm", "torch_skx", m)
        big = shape.startswith("1024x1024x1024")
        # the target is against the stronger OpenBLAS when there are two
        best = max(x for x in (b, skx) if x is not None) if (b or skx) else None
        r = ratio(a, best)
        t.add(f"SGEMM {shape} (vs OpenBLAS)", a, best, "GFLOP/s", r,
              ">= 0.5x" if big else "", (r is not None and r >= 0.5) if big else None)
        if skx is not None:
            t.add("  OpenBLAS as detected / with AVX-512 kernels", b, skx, "GFLOP/s",
                  ratio(b, skx))


def start(t, res):
    torch_start = med(res, "start_warm", "torch", "start_to_first_step_ms")
    cold = med(res, "start_cold", "clfit", "start_to_first_step_ms")
    warm = med(res, "start_warm", "clfit", "start_to_first_step_ms")
    nod = med(res, "start_nodriver", "clfit", "start_to_first_step_ms")
    t.add("start to first step, cold (empty caches)", cold, torch_start, "ms",
          ratio(cold, torch_start))
    t.add("start to first step, warm", warm, torch_start, "ms", ratio(warm, torch_start),
          "< 1000 ms", warm is not None and warm < 1000)
    t.add("  PoCL cache empty, clfit's warm", nod, torch_start, "ms", ratio(nod, torch_start))


def memory(t, res):
    for name, what in (("step_c10", "train step, 10 classes"), ("data", "data pipeline")):
        a, b = med(res, name, "clfit", "peak_rss_mib"), med(res, name, "torch", "peak_rss_mib")
        t.add(f"peak memory, {what}", a, b, "MiB", ratio(a, b))


def main():
    out = sys.argv[1]
    res = load(out)
    about = os.path.join(out, "about.txt")
    if os.path.exists(about):
        print(open(about).read().rstrip())
    reps = max((int(p.rsplit(".", 1)[1]) for p in glob.glob(os.path.join(out, "*.*.[0-9]*"))
                if not p.endswith(".err")), default=0)
    print(f"figures: medians of {reps} rounds; ratio = clfit / PyTorch (for SGEMM: / the "
          f"faster OpenBLAS, through torch.mm)\n")
    t = Table()
    for part in (steps, data, mobilenet, gemm, start, memory):
        part(t, res)
    t.print()
    return 0


if __name__ == "__main__":
    sys.exit(main())
