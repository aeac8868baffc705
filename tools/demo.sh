#!/usr/bin/env bash
# The main job: installs what clfit needs, builds it, turns Debian's
# Fashion-MNIST into an image folder of PNG files, and trains the seed's
# linear model on it through OpenCL. Extra arguments go to `clfit train`
# (e.g. --image-size 224, --device cpu, --model mlp:128).
# Usage: tools/demo.sh [clfit train options]
set -euo pipefail
cd "$(dirname "$0")/.."

tools/install-deps.sh
cmake -B build -S . -DCMAKE_BUILD_TYPE=Release
cmake --build build -j"$(nproc)"
/usr/bin/python3 tools/fashion_mnist_to_folder.py --count 10000 data/fashion-mnist

build/clfit devices
build/clfit train data/fashion-mnist --device opencl --image-size 28 --epochs 5 "$@"
