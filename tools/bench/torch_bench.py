#!/usr/bin/python3
"""The PyTorch side of tools/bench: the same figures `clfit bench` gives.

Run with Debian's python3-torch (/usr/bin/python3). Settings as in the
tutorial the seed model comes from: torch.set_num_threads(2), DataLoader
with num_workers=0, ImageFolder with Resize((H, W)) and ToTensor. Each
figure is printed as a sentence and as "result NAME VALUE UNIT", like
clfit's, for tools/bench/report.py. It measures; it asserts nothing.

  torch_bench.py step --classes N [--steps N]
  torch_bench.py data DIR [--epochs N]
  torch_bench.py mobilenet [--batches N]
  torch_bench.py gemm [--repeat N]
  torch_bench.py start --classes N
  torch_bench.py blas            which BLAS library torch loaded
  --threads N before the section changes torch.set_num_threads (default 2).
"""
import argparse
import os
import resource
import statistics
import sys
import time


def process_age():
    """Seconds since this process started (from /proc, 10 ms ticks)."""
    with open("/proc/self/stat") as f:
        fields = f.read().rsplit(")", 1)[1].split()
    start_ticks = int(fields[19])  # field 22 of stat(5), after pid and comm
    now = time.clock_gettime(time.CLOCK_BOOTTIME)
    return now - start_ticks / os.sysconf("SC_CLK_TCK")


# Imported here, after process_age is defined, so `start` can tell import
# time apart; the other sections do not care.
IMPORT_START = time.perf_counter()
import torch  # noqa: E402
from torch import nn  # noqa: E402
IMPORT_SECONDS = time.perf_counter() - IMPORT_START


def result(name, value, unit):
    print(f"result {name} {value:.6g} {unit}", flush=True)


def peak_rss():
    mib = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0
    print(f"peak resident memory of this run: {mib:.1f} MiB")
    result("peak_rss_mib", mib, "MiB")


def seed_model(classes, size=224):
    torch.manual_seed(20)
    model = nn.Sequential(nn.Flatten(), nn.Linear(3 * size * size, classes))
    opt = torch.optim.Adam(model.parameters(), lr=1e-3)
    return model, opt, nn.CrossEntropyLoss()


def train_step(model, opt, loss_fn, x, y):
    """One step as the tutorial's loop runs it, loss.item() included."""
    opt.zero_grad()
    loss = loss_fn(model(x), y)
    loss.backward()
    opt.step()
    return loss.item()


def cmd_step(a):
    model, opt, loss_fn = seed_model(a.classes)
    g = torch.Generator().manual_seed(7)
    x = torch.rand(a.batch, 3, 224, 224, generator=g)
    y = torch.randint(0, a.classes, (a.batch,), generator=g)
    for _ in range(a.warmup):
        train_step(model, opt, loss_fn, x, y)
    times = []
    cpu0 = time.process_time()
    for _ in range(a.steps):
        t0 = time.perf_counter()
        train_step(model, opt, loss_fn, x, y)
        times.append((time.perf_counter() - t0) * 1e3)
    cpu = (time.process_time() - cpu0) * 1e3 / a.steps
    med = statistics.median(times)
    print(f"train step (linear, {a.classes} classes, batch {a.batch}, 224x224): median "
          f"{med:.2f} ms/step, min {min(times):.2f}, max {max(times):.2f} over {a.steps} "
          f"steps; {cpu:.2f} ms of CPU time per step")
    result(f"step_ms_linear_c{a.classes}", med, "ms")


def image_loader(root, batch, size):
    from torchvision import datasets, transforms
    tf = transforms.Compose([transforms.Resize((size, size)), transforms.ToTensor()])
    ds = datasets.ImageFolder(root, transform=tf)
    return ds, torch.utils.data.DataLoader(ds, batch_size=batch, shuffle=True, num_workers=0)


def cmd_data(a):
    """Images/s of whole epochs over the folder: ImageFolder decodes and
    resizes every image in every epoch (there is no cache)."""
    ds, dl = image_loader(a.dir, a.batch, a.size)
    for e in range(a.epochs):
        t0 = time.perf_counter()
        n = sum(x.shape[0] for x, _ in dl)
        rate = n / (time.perf_counter() - t0)
        which = "first" if e == 0 else "later"
        print(f"data pipeline, {which} epoch ({e + 1}): {n} images at {rate:.1f} images/s")
        result("data_first_epoch_ips" if e == 0 else "data_later_epoch_ips", rate, "img/s")


def cmd_mobilenet(a):
    """MobileNetV2's feature extractor (the frozen base of the transfer
    model), inference, random weights: speed only."""
    from torchvision.models import mobilenet_v2
    torch.manual_seed(0)
    base = mobilenet_v2().features.eval()
    x = torch.rand(a.batch, 3, 224, 224)
    with torch.no_grad():
        base(x)
        times = []
        for _ in range(a.batches):
            t0 = time.perf_counter()
            base(x)
            times.append(time.perf_counter() - t0)
    ips = a.batch / statistics.median(times)
    print(f"MobileNetV2 base (batch {a.batch}, 224x224, inference): {ips:.1f} images/s "
          f"(median of {a.batches} batches)")
    result("mobilenet_base_ips", ips, "img/s")


# The shapes `clfit bench gemm` runs by default: (m, n, k, trans_a, trans_b).
GEMM_SHAPES = [
    (12, 10, 150528, False, False), (12, 4, 150528, False, False),
    (150528, 10, 12, True, False), (12, 150528, 10, False, True),
    (256, 256, 256, False, False), (512, 512, 512, False, False),
    (1024, 1024, 1024, False, False),
]


def cmd_gemm(a):
    """torch.mm (OpenBLAS sgemm) on operands stored as clfit stores them:
    a transposed operand is a transposed view of a row-major matrix."""
    g = torch.Generator().manual_seed(1)
    for m, n, k, ta, tb in GEMM_SHAPES:
        A = torch.rand(k, m, generator=g).t() if ta else torch.rand(m, k, generator=g)
        B = torch.rand(n, k, generator=g).t() if tb else torch.rand(k, n, generator=g)
        C = torch.empty(m, n)
        torch.mm(A, B, out=C)
        times = []
        for _ in range(a.repeat):
            t0 = time.perf_counter()
            torch.mm(A, B, out=C)
            times.append(time.perf_counter() - t0)
        t = statistics.median(times)
        gf = 2.0 * m * n * k / t * 1e-9
        tt = ("T" if ta else "N") + ("T" if tb else "N")
        print(f"sgemm {m}x{n}x{k} {tt}: {t * 1e3:.3f} ms, {gf:.1f} GFLOP/s "
              f"(median of {a.repeat})")
        result(f"sgemm_gflops_{m}x{n}x{k}_{tt}", gf, "GFLOP/s")


def cmd_start(a):
    """Process start to the end of the first training step (the data is
    random: loading excluded), with the import of torch shown apart."""
    model, opt, loss_fn = seed_model(a.classes)
    x = torch.rand(a.batch, 3, 224, 224)
    y = torch.randint(0, a.classes, (a.batch,))
    train_step(model, opt, loss_fn, x, y)
    age = process_age()
    print(f"start to first step: {age * 1e3:.0f} ms (import torch {IMPORT_SECONDS * 1e3:.0f} "
          f"ms)")
    result("start_to_first_step_ms", age * 1e3, "ms")


def cmd_blas(a):
    """Names the BLAS library mapped into the process after a matmul."""
    torch.mm(torch.rand(64, 64), torch.rand(64, 64))
    with open("/proc/self/maps") as f:
        libs = sorted({line.split()[-1] for line in f if "blas" in line.lower()})
    real = [os.path.realpath(p) for p in libs]
    print("BLAS libraries in the process: " + (", ".join(sorted(set(real))) or "none"))
    print(f"torch {torch.__version__}, {torch.get_num_threads()} threads")


def main():
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--threads", type=int, default=2,
                   help="torch.set_num_threads (default 2, as in the tutorial)")
    sub = p.add_subparsers(dest="section", required=True)
    s = sub.add_parser("step")
    s.add_argument("--classes", type=int, default=10)
    s.add_argument("--batch", type=int, default=12)
    s.add_argument("--steps", type=int, default=30)
    s.add_argument("--warmup", type=int, default=3)
    s = sub.add_parser("data")
    s.add_argument("dir")
    s.add_argument("--batch", type=int, default=12)
    s.add_argument("--size", type=int, default=224)
    s.add_argument("--epochs", type=int, default=2)
    s = sub.add_parser("mobilenet")
    s.add_argument("--batch", type=int, default=12)
    s.add_argument("--batches", type=int, default=5)
    s = sub.add_parser("gemm")
    s.add_argument("--repeat", type=int, default=5)
    s = sub.add_parser("start")
    s.add_argument("--classes", type=int, default=10)
    s.add_argument("--batch", type=int, default=12)
    sub.add_parser("blas")
    a = p.parse_args()

    torch.set_num_threads(a.threads)
    {"step": cmd_step, "data": cmd_data, "mobilenet": cmd_mobilenet, "gemm": cmd_gemm,
     "start": cmd_start, "blas": cmd_blas}[a.section](a)
    if a.section != "blas":
        peak_rss()
    return 0


if __name__ == "__main__":
    sys.exit(main())
