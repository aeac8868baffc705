#!/usr/bin/env bash
# Memcheck on the cpu backend: every test executable with OpenCL hidden (the
# ICD loader pointed at an empty vendors folder, so OpenCL tests skip and
# the cpu paths run), then `clfit train --device cpu` on a tiny image folder.
# Any invalid access, use of uninitialised memory or leak fails (exit 1).
# Third-party leaks are suppressed in tools/valgrind.supp (each explained).
# Slow (about 30x: 2 to 15 minutes with the MobileNetV2 tests); the last pass of .ci/run.
# Usage: tools/valgrind.sh [TEST_NAME...]
set -euo pipefail
cd "$(dirname "$0")/.."

build=build-valgrind
cmake -B $build -S . -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
cmake --build $build -j"$(nproc)" >/dev/null

tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
mkdir "$tmp/vendors"
export OCL_ICD_VENDORS=$tmp/vendors
unset CLFIT_DEVICE

vg=(valgrind -q --error-exitcode=1 --leak-check=full --errors-for-leak-kinds=definite,indirect
    --show-leak-kinds=definite,indirect --track-origins=yes
    --suppressions="$PWD/tools/valgrind.supp")

# test_cli runs the clfit binary itself: it is covered by the run below
# rather than by tracing its children.
if [ $# -eq 0 ]; then
    set -- $(cd $build/tests && ls test_* | grep -v '^test_cli$')
fi
status=0
for t in "$@"; do
    printf '== %s\n' "$t"
    if ! CMOCKA_MESSAGE_OUTPUT=stdout "${vg[@]}" "$build/tests/$t" >"$tmp/out" 2>&1; then
        cat "$tmp/out"
        status=1
    fi
done

# A small training run: 2 classes of 6 PNGs, 8 x 8, two epochs.
python3 - "$tmp/data" <<'PY'
import os, struct, sys, zlib
root = sys.argv[1]
def png(path, rgb):
    raw = b"".join(b"\0" + bytes(rgb) * 8 for _ in range(8))
    def chunk(tag, data):
        return (struct.pack(">I", len(data)) + tag + data
                + struct.pack(">I", zlib.crc32(tag + data)))
    with open(path, "wb") as f:
        f.write(b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", 8, 8, 8, 2, 0, 0, 0))
                + chunk(b"IDAT", zlib.compress(raw)) + chunk(b"IEND", b""))
for c, base in (("a", 200), ("b", 30)):
    os.makedirs(f"{root}/{c}")
    for i in range(6):
        png(f"{root}/{c}/{i}.png", (base + 4 * i, 90, 255 - base))
PY
printf '== clfit train --device cpu\n'
if ! "${vg[@]}" $build/clfit train "$tmp/data" --device cpu --image-size 8 --epochs 2 \
        --batch-size 4 --model mlp:8 >"$tmp/out" 2>&1; then
    cat "$tmp/out"
    status=1
fi
[ $status -eq 0 ] && echo "valgrind: no errors"
exit $status
