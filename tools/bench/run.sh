#!/bin/sh
# The side-by-side benchmark of issue 6: clfit (clfit bench) against
# PyTorch (tools/bench/torch_bench.py, Debian's python3-torch) on the same
# data, model and batch, then one table with each figure and the ratio.
# It measures and prints; it asserts nothing.
#
#   tools/bench/run.sh [--quick] [--reps N] [--jpegs N]
#
# Environment: CLFIT (default build/clfit), PYTHON (default /usr/bin/python3),
# CLFIT_BENCH_DEVICE (default opencl), BENCH_OUT (default build/bench).
# Needs: a built clfit, python3-torch python3-torchvision libopenblas0,
# darknet (its photos) and imagemagick for the JPEG folder, and the
# MobileNetV2 of tools/fetch_mobilenet.sh (fetched when missing; npm).
#
# On a shared or busy machine every figure is noisy: each measurement is
# repeated (--reps, default 3) with clfit and PyTorch alternating, the
# table shows medians, and the load average is printed before and after.
set -eu

here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
clfit=${CLFIT:-$root/build/clfit}
python=${PYTHON:-/usr/bin/python3}
device=${CLFIT_BENCH_DEVICE:-opencl}
out=${BENCH_OUT:-$root/build/bench}
reps=3
jpegs=300
steps=50

while [ $# -gt 0 ]; do
    case $1 in
    --quick) reps=1; steps=20; jpegs=120 ;;
    --reps) reps=$2; shift ;;
    --jpegs) jpegs=$2; shift ;;
    *) echo "usage: run.sh [--quick] [--reps N] [--jpegs N]" >&2; exit 2 ;;
    esac
    shift
done

[ -x "$clfit" ] || { echo "run.sh: no clfit at $clfit (build it first)" >&2; exit 1; }
"$python" -c 'import torch, torchvision' 2>/dev/null ||
    { echo "run.sh: $python lacks torch/torchvision (apt-get install python3-torch python3-torchvision)" >&2; exit 1; }

rm -rf "$out"
mkdir -p "$out"
data=$root/data/bench-jpeg-$jpegs
"$here/make_jpegs.sh" "$data" "$jpegs"
base=$root/models/mobilenet_v2/model.json
[ -f "$base" ] || "$root/tools/fetch_mobilenet.sh" >/dev/null 2>&1 ||
    echo "run.sh: no MobileNetV2 (tools/fetch_mobilenet.sh needs npm); that row stays n/a" >&2

# OpenBLAS 0.3.21 does not know this CPU model and falls back to its
# Prescott (SSE3) kernels; PyTorch also runs with OpenBLAS's AVX-512
# kernels forced, as a second, stronger reference, where the CPU has them.
skx=""
grep -qw avx512f /proc/cpuinfo && skx=SkylakeX

# run NAME SIDE COMMAND...: keeps the output as $out/NAME.SIDE.REP
run() {
    name=$1 side=$2
    shift 2
    f="$out/$name.$side.$rep"
    if ! "$@" > "$f" 2> "$f.err"; then
        echo "run.sh: '$*' failed; see $f.err" >&2
        echo "failed" >> "$f"
    fi
}

{
    echo "date: $(date -u '+%Y-%m-%d %H:%M UTC')"
    echo "machine: $(nproc) cores, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ //'), $(awk '/MemTotal/ {printf "%.0f GiB", $2 / 1048576}' /proc/meminfo)"
    echo "load average before: $(cut -d' ' -f1-3 /proc/loadavg)"
    echo "clfit device: $("$clfit" devices 2>/dev/null | grep -m1 '^opencl' || echo none)"
    echo "torch: $("$python" "$here/torch_bench.py" blas | tr '\n' ';')"
    echo "OpenBLAS core as detected: $(OPENBLAS_VERBOSE=2 "$python" -c 'import torch; torch.mm(torch.rand(8, 8), torch.rand(8, 8))' 2>&1 | grep -m1 Core || echo unknown)"
    echo "jpegs: $jpegs files of 1280x720 in $data (from Debian's darknet photos)"
} > "$out/about.txt"

rep=1
while [ "$rep" -le "$reps" ]; do
    echo "round $rep of $reps ..."
    for c in 4 10; do
        run "step_c$c" clfit "$clfit" bench step --device "$device" --classes "$c" --steps "$steps"
        run "step_c$c" torch "$python" "$here/torch_bench.py" step --classes "$c" --steps "$steps"
        run "step_c$c" clfit_cpu "$clfit" bench step --device cpu --classes "$c" --steps 10
        [ -n "$skx" ] && run "step_c$c" torch_skx env OPENBLAS_CORETYPE=$skx "$python" \
            "$here/torch_bench.py" step --classes "$c" --steps "$steps"
    done
    run gemm clfit "$clfit" bench gemm --device "$device"
    run gemm torch "$python" "$here/torch_bench.py" gemm
    [ -n "$skx" ] && run gemm torch_skx env OPENBLAS_CORETYPE=$skx "$python" \
        "$here/torch_bench.py" gemm
    run data clfit "$clfit" bench data "$data" --device "$device"
    run data torch "$python" "$here/torch_bench.py" data "$data" --epochs 2
    [ -f "$base" ] && run mobilenet clfit "$clfit" bench mobilenet --device "$device" \
        --base "$base"
    run mobilenet torch "$python" "$here/torch_bench.py" mobilenet
    [ -n "$skx" ] && run mobilenet torch_skx env OPENBLAS_CORETYPE=$skx "$python" \
        "$here/torch_bench.py" mobilenet
    # PyTorch's OpenMP threads spin at barriers: when another process holds
    # a core, 2 threads can be several times slower than 1. One thread,
    # as a check of how much of a ratio that effect is.
    run mobilenet torch_1t "$python" "$here/torch_bench.py" --threads 1 mobilenet
    run step_c10 torch_1t "$python" "$here/torch_bench.py" --threads 1 step --classes 10 \
        --steps "$steps"

    # start-up: empty caches (cold), then the same caches again (warm);
    # and PoCL's cache empty with clfit's warm (a driver without a cache)
    pocl=$(mktemp -d) own=$(mktemp -d)
    run start_cold clfit env POCL_CACHE_DIR="$pocl" CLFIT_CACHE_DIR="$own" "$clfit" bench start --device "$device"
    run start_warm clfit env POCL_CACHE_DIR="$pocl" CLFIT_CACHE_DIR="$own" "$clfit" bench start --device "$device"
    rm -rf "$pocl"
    pocl=$(mktemp -d)
    run start_nodriver clfit env POCL_CACHE_DIR="$pocl" CLFIT_CACHE_DIR="$own" "$clfit" bench start --device "$device"
    rm -rf "$pocl" "$own"
    run start_warm torch "$python" "$here/torch_bench.py" start
    rep=$((rep + 1))
done
echo "load average after: $(cut -d' ' -f1-3 /proc/loadavg)" >> "$out/about.txt"

"$python" "$here/report.py" "$out"
