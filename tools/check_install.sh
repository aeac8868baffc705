#!/usr/bin/env bash
# Checks that an installed clfit can be used from C the way README says:
# installs BUILD_DIR to a temporary prefix, compiles examples/train_folder.c
# with `pkg-config --static --cflags --libs clfit` against that prefix only,
# and trains it on a generated 2-class folder of PNGs on the cpu backend.
# Passes (exit 0) when the program exits 0 and prints a validation accuracy.
# Usage: tools/check_install.sh BUILD_DIR   (ctest runs it as install_pkgconfig)
set -euo pipefail

src=$(cd "$(dirname "$0")/.." && pwd)
build=${1:?usage: tools/check_install.sh BUILD_DIR}
build=$(cd "$build" && pwd)
cc=${CC:-cc}
extra=${CHECK_CFLAGS:-} # e.g. the sanitizer flags the library was built with

fail() {
    echo "check_install: $*" >&2
    exit 1
}

command -v pkg-config >/dev/null ||
    fail "pkg-config not found; install it (Debian: apt-get install pkg-config)"
command -v "$cc" >/dev/null || fail "C compiler '$cc' not found (set CC)"
python=/usr/bin/python3
[ -x "$python" ] || python=$(command -v python3) ||
    fail "python3 not found (needed to write the test images)"

tmp=$(mktemp -d "${TMPDIR:-/tmp}/clfit-install.XXXXXX")
trap 'rm -rf "$tmp"' EXIT

# 1. Install, as a user would.
cmake --install "$build" --prefix "$tmp/prefix" >"$tmp/install.log" ||
    { cat "$tmp/install.log"; fail "cmake --install failed"; }
pc=$(find "$tmp/prefix" -name clfit.pc -print -quit)
[ -n "$pc" ] || fail "the install has no clfit.pc"
echo "installed: $(cd "$tmp/prefix" && find . -type f | sort | tr '\n' ' ')"

# 2. Compile the example against the installed copy only (no source tree
#    include path, no build folder).
PKG_CONFIG_PATH="$(dirname "$pc")${PKG_CONFIG_PATH:+:$PKG_CONFIG_PATH}"
export PKG_CONFIG_PATH
flags=$(pkg-config --static --cflags --libs clfit) ||
    fail "pkg-config cannot resolve clfit (a module it requires is missing?)"
echo "pkg-config --static --cflags --libs clfit: $flags"
# shellcheck disable=SC2086 # the flags are lists of words
"$cc" -std=c11 -Wall -Wextra -Werror $extra "$src/examples/train_folder.c" \
    -o "$tmp/train_folder" $flags ||
    fail "the example does not compile and link with pkg-config's flags"

# 3. Two classes of 10 PNGs, 8 x 8: bright reddish and dark bluish squares.
"$python" - "$tmp/data" <<'PY'
import os, struct, sys, zlib

def chunk(kind, data):
    body = kind + data
    return struct.pack(">I", len(data)) + body + struct.pack(">I", zlib.crc32(body))

def write_png(path, rgb, side=8):
    rows = b"".join(b"\x00" + bytes(rgb) * side for _ in range(side))
    head = struct.pack(">IIBBBBB", side, side, 8, 2, 0, 0, 0)  # 8-bit RGB
    with open(path, "wb") as f:
        f.write(b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", head)
                + chunk(b"IDAT", zlib.compress(rows)) + chunk(b"IEND", b""))

for name, (r, g, b) in (("bright", (220, 180, 40)), ("dark", (20, 40, 160))):
    os.makedirs(os.path.join(sys.argv[1], name))
    for i in range(10):
        write_png(os.path.join(sys.argv[1], name, "%02d.png" % i), (r, g + 3 * i, b))
PY

# 4. Train on the cpu backend, whatever OpenCL devices exist.
if ! "$tmp/train_folder" "$tmp/data" cpu linear "$tmp/model.safetensors" \
        >"$tmp/out" 2>&1; then
    cat "$tmp/out"
    fail "the example failed"
fi
cat "$tmp/out"
grep -Eq '^validation: .*accuracy [0-9.]+$' "$tmp/out" || fail "no accuracy printed"
[ -s "$tmp/model.safetensors" ] || fail "no model file written"
echo "check_install: ok"
