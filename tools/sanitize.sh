#!/usr/bin/env bash
# The test suite under AddressSanitizer + UndefinedBehaviorSanitizer: builds
# a second tree (build-asan, -DCLFIT_SANITIZE=ON) and runs every test in it.
# Any ASan or UBSan report, or a leak with no third-party frame (see
# tools/lsan.supp), fails the test that caused it. The tests that run the
# clfit binary (test_cli) run the sanitized binary with the same settings.
# Usage: tools/sanitize.sh            (after tools/install-deps.sh)
set -euo pipefail
cd "$(dirname "$0")/.."
root=$PWD

cmake -B build-asan -S . -DCMAKE_BUILD_TYPE=RelWithDebInfo -DCLFIT_SANITIZE=ON >/dev/null
cmake --build build-asan -j"$(nproc)"

# detect_stack_use_after_return and check_initialization_order catch what
# plain ASan misses; strict_string_checks reads C strings to their NUL.
export ASAN_OPTIONS=detect_leaks=1:strict_string_checks=1:detect_stack_use_after_return=1:check_initialization_order=1
export LSAN_OPTIONS=suppressions=$root/tools/lsan.supp:print_suppressions=0
export UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1
ctest --test-dir build-asan --output-on-failure --timeout 900
