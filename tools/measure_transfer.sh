#!/bin/sh
# The measurement of issue 3's "Done when": the frozen MobileNetV2 base
# with a Flatten -> Dense head against the plain linear model, on the same
# Fashion-MNIST images and split, at 224x224, 5 epochs, on the cpu and
# OpenCL backends. Then the base's forward speed on each backend.
#
# usage: tools/measure_transfer.sh [OUT_DIR]     (default: measure/)
#   CLFIT     the clfit binary            (default build/clfit)
#   DATA      an image folder             (default data/fm3000, made with
#             /usr/bin/python3 tools/fashion_mnist_to_folder.py --count 3000 data/fm3000)
#   DEVICES   backends to run             (default "cpu opencl")
#   MOBILENET model.json of the base      (default models/mobilenet_v2/model.json,
#             from tools/fetch_mobilenet.sh)
# Each run writes OUT_DIR/<device>-<model>.log; the summary goes to stdout.
# Long: on 2 cores 5 minutes to an hour, depending on the CPU. Run it once, in the background.
set -eu

out=${1:-measure}
clfit=${CLFIT:-build/clfit}
data=${DATA:-data/fm3000}
devices=${DEVICES:-cpu opencl}
base=${MOBILENET:-models/mobilenet_v2/model.json}

[ -x "$clfit" ] || { echo "measure_transfer: no $clfit; build first" >&2; exit 1; }
[ -d "$data" ] || { echo "measure_transfer: no $data (see the usage)" >&2; exit 1; }
[ -f "$base" ] || { echo "measure_transfer: no $base; run tools/fetch_mobilenet.sh" >&2; exit 1; }
mkdir -p "$out"

for dev in $devices; do
    "$clfit" train "$data" --device "$dev" --epochs 5 --model linear \
        >"$out/$dev-linear.log" 2>&1
    "$clfit" train "$data" --device "$dev" --epochs 5 --base "$base" \
        >"$out/$dev-base.log" 2>&1
done

# Per run: the epoch lines (the progress bar's last state) and the test line.
for log in "$out"/*.log; do
    echo "== $log"
    tr '\r' '\n' <"$log" | grep -E '^[0-9]+/[0-9]+ .*accuracy.*val_|^test_|caching' || true
done

# The base's forward speed (batch 12, 224x224) on each backend.
for dev in $devices; do
    "$clfit" bench mobilenet --device "$dev" --base "$base" --batches 5 2>&1 |
        grep -v '^result' | tee "$out/$dev-speed.log"
done
