#!/usr/bin/env bash
# Builds the libFuzzer harnesses with clang (ASan + UBSan) and runs each one
# for DURATION seconds, one after the other, starting from its committed seed
# corpus fuzz/corpus/<name>/ (new inputs go to build-fuzz/corpus/<name>/, not
# into git). A crash, leak, timeout (25 s for one input) or sanitizer report
# fails the run; the
# input that caused it is left in build-fuzz/artifacts/<name>/.
#
# Usage: fuzz/run.sh DURATION [NAME...]     e.g. fuzz/run.sh 60 image
# Environment: FUZZ_JOBS (build parallelism, default 2), FUZZ_BUILD (build
# directory, default build-fuzz).
set -euo pipefail
cd "$(dirname "$0")/.."

duration=${1:?usage: fuzz/run.sh DURATION [NAME...]}
shift
build=${FUZZ_BUILD:-build-fuzz}

CC=${CC_FUZZ:-clang} cmake -B "$build" -S . -DCMAKE_BUILD_TYPE=RelWithDebInfo \
    -DCLFIT_FUZZ=ON -DCLFIT_SANITIZE=ON -DCLFIT_TESTS=OFF >/dev/null
cmake --build "$build" -j"${FUZZ_JOBS:-2}" >/dev/null

if [ $# -eq 0 ]; then
    set -- $(cd fuzz && ls fuzz_*.c | sed -e 's/^fuzz_//' -e 's/\.c$//')
fi

export ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=1:allocator_may_return_null=1}
export UBSAN_OPTIONS=${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}
status=0
for name in "$@"; do
    exe="$build/fuzz/fuzz_$name"
    seeds="fuzz/corpus/$name"
    work="$build/corpus/$name"
    art="$build/artifacts/$name"
    mkdir -p "$work" "$art"
    dict=()
    [ -f "fuzz/$name.dict" ] && dict=(-dict="fuzz/$name.dict")
    echo "== fuzz_$name: ${duration}s from $(ls "$seeds" | wc -l) seeds"
    # -timeout: one input taking over 25 s (OSS-Fuzz's limit; ASan and
    # coverage make code 10-20x slower) is a hang; -rss_limit_mb: the image
    # cap (256 MiB a decode) and the weights caps fit well inside it.
    if ! "$exe" -max_total_time="$duration" -timeout=25 -rss_limit_mb=2560 \
            -malloc_limit_mb=2048 -print_final_stats=1 "${dict[@]}" \
            -artifact_prefix="$art/" "$work" "$seeds" 2>"$build/fuzz_$name.log"; then
        echo "fuzz_$name FAILED; log: $build/fuzz_$name.log, input: $(ls -t "$art" | head -1)"
        tail -40 "$build/fuzz_$name.log"
        status=1
    else
        grep -E '^stat::(number_of_executed_units|peak_rss_mb)|cov:' \
            "$build/fuzz_$name.log" | tail -3
    fi
done
exit $status
