#!/bin/sh
# Makes the benchmark's JPEG folder: COUNT (default 300) photos of
# 1280x720, quality 90, in 4 class folders, from the 7 photos in Debian's
# `darknet` package (apt-get install -y darknet) and ImageMagick. Each file
# is a different crop of one photo (offset and zoom vary, every second one
# mirrored, brightness 90-110%), scaled to fill 1280x720. Deterministic:
# the same COUNT gives the same files. Does nothing when OUT already holds
# COUNT JPEGs.
#   tools/bench/make_jpegs.sh OUT [COUNT]
set -eu

out=${1:?usage: make_jpegs.sh OUT [COUNT]}
count=${2:-300}
src=/usr/share/darknet/data

if [ ! -f "$src/dog.jpg" ]; then
    echo "make_jpegs: no photos in $src; install them: apt-get install -y darknet" >&2
    exit 1
fi
command -v convert >/dev/null || { echo "make_jpegs: ImageMagick's convert is missing" >&2; exit 1; }
have=$(find "$out" -name '*.jpg' 2>/dev/null | wc -l)
if [ "$have" -eq "$count" ]; then
    exit 0
fi
rm -rf "$out"
for c in 0 1 2 3; do mkdir -p "$out/class$c"; done

set -- dog eagle giraffe horses kite person scream
i=0
while [ "$i" -lt "$count" ]; do
    photo=$(eval echo "\${$(( i % 7 + 1 ))}")
    v=$(( i / 7 ))
    zoom=$(( 60 + (v * 7) % 40 ))            # crop 60..99% of each side
    gx=$(( (v * 13) % (101 - zoom) ))         # crop offset, % of the side
    gy=$(( (v * 29) % (101 - zoom) ))
    flip=""
    [ $(( v % 2 )) -eq 1 ] && flip="-flop"
    bright=$(( 90 + (v * 3) % 21 ))
    # ImageMagick 6 on Debian warns about its own policy.xml on every
    # call; the exit status still reports real failures (set -e)
    w=$(identify -format '%w' "$src/$photo.jpg" 2>/dev/null)
    h=$(identify -format '%h' "$src/$photo.jpg" 2>/dev/null)
    cw=$(( w * zoom / 100 )); ch=$(( h * zoom / 100 ))
    ox=$(( w * gx / 100 )); oy=$(( h * gy / 100 ))
    convert "$src/$photo.jpg" -crop "${cw}x${ch}+${ox}+${oy}" +repage $flip \
        -modulate "$bright" -resize '1280x720^' -gravity center -extent 1280x720 \
        -quality 90 "$out/class$(( i % 4 ))/img$(printf %04d "$i").jpg" 2>/dev/null
    i=$(( i + 1 ))
done
echo "made $count JPEGs of 1280x720 in $out"
