#!/bin/sh
# Fetches the pretrained MobileNetV2 that nsfwjs 4.4.0 ships (MIT licence;
# ImageNet-initialised, fine-tuned by the nsfwjs authors on a 5-class
# image task) and writes it as a plain TF.js layers model:
#   DEST/model.json            Keras functional topology + weightsManifest
#   DEST/group1-shard1of1.bin  the weights, uint8-quantised per tensor
#
# usage: tools/fetch_mobilenet.sh [DEST]     (default: models/mobilenet_v2)
#
# Needs node and npm and access to the npm registry. The package is
# fetched with `npm pack` (a tarball download, nothing is installed).
# Idempotent: a DEST that already verifies is left alone.
set -eu

PKG=nsfwjs@4.4.0
MODEL_DIR=package/dist/models/mobilenet_v2
# What the unwrapped files must be (checked after every fetch).
BIN_NAME=group1-shard1of1.bin
BIN_BYTES=2619461
BIN_SHA256=8e7dddbb16acacc1bf1601b1b8a761e730ff934b7f2d7771312b2f000e5f5f13
N_WEIGHTS=266
N_LAYERS=162

here=$(cd "$(dirname "$0")" && pwd)
dest=${1:-$(cd "$here/.." && pwd)/models/mobilenet_v2}

die() {
    echo "fetch_mobilenet: error: $*" >&2
    exit 1
}

need() {
    command -v "$1" >/dev/null 2>&1 || die "$1 not found on PATH; $2"
}

# Checks that $1 holds the expected model.json and shard; silent if so.
verify() {
    [ -f "$1/model.json" ] || { echo "missing $1/model.json"; return 1; }
    [ -f "$1/$BIN_NAME" ] || { echo "missing $1/$BIN_NAME"; return 1; }
    size=$(wc -c <"$1/$BIN_NAME" | tr -d ' ')
    [ "$size" = "$BIN_BYTES" ] ||
        { echo "$1/$BIN_NAME has $size bytes, expected $BIN_BYTES"; return 1; }
    sum=$(sha256sum "$1/$BIN_NAME" | cut -d' ' -f1)
    [ "$sum" = "$BIN_SHA256" ] ||
        { echo "$1/$BIN_NAME has sha256 $sum, expected $BIN_SHA256"; return 1; }
    node -e '
        const m = JSON.parse(require("fs").readFileSync(process.argv[1], "utf8"));
        const g = m.weightsManifest;
        const layers = m.modelTopology.model_config.config.layers;
        const ok = g.length === 1 && g[0].paths.length === 1 &&
            g[0].paths[0] === process.argv[2] &&
            g[0].weights.length === +process.argv[3] &&
            layers.length === +process.argv[4];
        if (!ok) {
            console.log("model.json: unexpected manifest or layer count");
            process.exit(1);
        }' "$1/model.json" "$BIN_NAME" "$N_WEIGHTS" "$N_LAYERS"
}

need node "install Node.js (Debian: apt-get install nodejs)"
need npm "install npm (Debian: apt-get install npm)"
need sha256sum "install coreutils"

if why=$(verify "$dest" 2>&1); then
    echo "fetch_mobilenet: $dest already holds MobileNetV2 ($PKG); nothing to do"
    exit 0
fi
[ -e "$dest/model.json" ] && echo "fetch_mobilenet: refetching: $why"

tmp=$(mktemp -d "${TMPDIR:-/tmp}/clfit-mobilenet.XXXXXX")
trap 'rm -rf "$tmp"' EXIT INT TERM

echo "fetch_mobilenet: npm pack $PKG"
if ! (cd "$tmp" && npm pack "$PKG" --silent >pack.log 2>&1); then
    cat "$tmp/pack.log" >&2
    die "npm pack $PKG failed: is the npm registry reachable (network, proxy,
    npm config get registry)? Or copy model.json and $BIN_NAME into $dest by hand."
fi
tarball=$(ls "$tmp"/nsfwjs-*.tgz 2>/dev/null | head -n 1)
[ -n "$tarball" ] || die "npm pack produced no tarball in $tmp"

tar -xzf "$tarball" -C "$tmp" "$MODEL_DIR" ||
    die "$tarball has no $MODEL_DIR"
node "$here/unwrap_tfjs_model.js" "$tmp/$MODEL_DIR" "$tmp/out" ||
    die "unwrapping $MODEL_DIR failed"
why=$(verify "$tmp/out" 2>&1) || die "the unwrapped model does not verify: $why"

# Move into place only once everything checked out.
mkdir -p "$dest"
cp "$tmp/out/$BIN_NAME" "$dest/$BIN_NAME.tmp"
cp "$tmp/out/model.json" "$dest/model.json.tmp"
mv "$dest/$BIN_NAME.tmp" "$dest/$BIN_NAME"
mv "$dest/model.json.tmp" "$dest/model.json"
echo "fetch_mobilenet: wrote $dest/model.json and $dest/$BIN_NAME"
