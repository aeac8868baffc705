#!/usr/bin/env bash
# The test command: installs what the tests need, fetches the pretrained
# MobileNetV2 they compare against, builds with warnings as errors, and
# runs every test. Usage: tools/test.sh
set -euo pipefail
cd "$(dirname "$0")/.."

tools/install-deps.sh
tools/fetch_mobilenet.sh models/mobilenet_v2

cmake -B build -S . -DCMAKE_BUILD_TYPE=Release -DCLFIT_WERROR=ON
cmake --build build -j"$(nproc)"
ctest --test-dir build --output-on-failure
