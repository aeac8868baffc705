#!/usr/bin/python3
"""Turns Debian's Fashion-MNIST into an image folder clfit can train on.

    /usr/bin/python3 tools/fashion_mnist_to_folder.py OUT [--subset train|test]
                                                          [--count N] [--source DIR]

Reads the IDX files of the Debian package dataset-fashion-mnist
(/usr/share/datasets/fashion-mnist/*.gz) and writes the first N images
(default 10000) of the chosen subset as 28x28 greyscale PNGs:
    OUT/<class>/<index>.png     e.g. OUT/Ankle_boot/00000.png
with one folder per class, named after the clothes. Needs python3-pil.

Running it again with the same arguments does nothing once OUT is complete
(a hidden marker file, which clfit ignores, records what was written).
With other arguments it rewrites OUT and removes the numbered PNGs of an
earlier run that are no longer part of it.
"""
import argparse
import gzip
import os
import struct
import sys

CLASSES = ["T-shirt_top", "Trouser", "Pullover", "Dress", "Coat", "Sandal", "Shirt",
           "Sneaker", "Bag", "Ankle_boot"]
FILES = {
    "train": ("train-images-idx3-ubyte.gz", "train-labels-idx1-ubyte.gz"),
    "test": ("t10k-images-idx3-ubyte.gz", "t10k-labels-idx1-ubyte.gz"),
}
MARKER = ".fashion-mnist-complete"


def die(msg):
    print("fashion_mnist_to_folder: error: " + msg, file=sys.stderr)
    sys.exit(1)


def read_idx(path, want_magic, want_dims):
    """The header dimensions and the payload of a gzip'd IDX file."""
    try:
        with gzip.open(path, "rb") as f:
            data = f.read()
    except OSError as e:
        die("cannot read %s: %s" % (path, e))
    if len(data) < 4 + 4 * want_dims:
        die("%s is too short to be an IDX file" % path)
    magic = struct.unpack(">I", data[:4])[0]
    if magic != want_magic:
        die("%s: IDX magic 0x%08x, expected 0x%08x" % (path, magic, want_magic))
    dims = struct.unpack(">%dI" % want_dims, data[4:4 + 4 * want_dims])
    payload = data[4 + 4 * want_dims:]
    size = 1
    for d in dims:
        size *= d
    if len(payload) != size:
        die("%s: header promises %d bytes of data, file has %d" % (path, size, len(payload)))
    return dims, payload


def load(source, subset):
    names = FILES[subset]
    paths = [os.path.join(source, n) for n in names]
    missing = [p for p in paths if not os.path.isfile(p)]
    if missing:
        die("%s not found; install the Debian package: apt-get install dataset-fashion-mnist"
            % ", ".join(missing))
    (n, rows, cols), pixels = read_idx(paths[0], 0x00000803, 3)
    (m,), labels = read_idx(paths[1], 0x00000801, 1)
    if n != m:
        die("%s has %d images but %s has %d labels" % (names[0], n, names[1], m))
    if max(labels) >= len(CLASSES):
        die("%s holds label %d; Fashion-MNIST has 10 classes" % (names[1], max(labels)))
    return n, rows, cols, pixels, labels


def expected_files(out, labels, count):
    return [os.path.join(out, CLASSES[labels[i]], "%05d.png" % i) for i in range(count)]


def is_complete(out, stamp, files):
    try:
        with open(os.path.join(out, MARKER)) as f:
            if f.read().strip() != stamp:
                return False
    except OSError:
        return False
    return all(os.path.isfile(p) for p in files)


def remove_stale(out, keep):
    """Numbered PNGs of an earlier run that are not in this one."""
    keep = set(keep)
    removed = 0
    for c in CLASSES:
        folder = os.path.join(out, c)
        if not os.path.isdir(folder):
            continue
        for name in os.listdir(folder):
            path = os.path.join(folder, name)
            stem = name[:-4]
            if name.endswith(".png") and len(stem) == 5 and stem.isdigit() \
                    and path not in keep:
                os.remove(path)
                removed += 1
    return removed


def write_images(Image, files, pixels, rows, cols):
    size = rows * cols
    for i, path in enumerate(files):
        tmp = path + ".tmp"
        im = Image.frombytes("L", (cols, rows), pixels[i * size:(i + 1) * size])
        im.save(tmp, format="PNG")
        os.replace(tmp, path)  # never a half-written PNG under the final name


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("out", help="output folder (created if needed)")
    ap.add_argument("--subset", choices=["train", "test"], default="train")
    ap.add_argument("--count", type=int, default=10000,
                    help="how many images, from the first (default 10000)")
    ap.add_argument("--source", default="/usr/share/datasets/fashion-mnist",
                    help="folder of the IDX .gz files")
    args = ap.parse_args()

    try:
        from PIL import Image
    except ImportError:
        die("PIL is missing; install it: apt-get install -y python3-pil "
            "(and run this script with /usr/bin/python3)")

    n, rows, cols, pixels, labels = load(args.source, args.subset)
    if not 1 <= args.count <= n:
        die("--count must be between 1 and %d for the %s subset, not %d"
            % (n, args.subset, args.count))
    stamp = "subset=%s count=%d" % (args.subset, args.count)
    files = expected_files(args.out, labels, args.count)
    if is_complete(args.out, stamp, files):
        print("%s already holds the %d %s images; nothing to do" % (args.out, args.count,
                                                                   args.subset))
        return

    for c in CLASSES:
        os.makedirs(os.path.join(args.out, c), exist_ok=True)
    marker = os.path.join(args.out, MARKER)
    if os.path.exists(marker):
        os.remove(marker)
    removed = remove_stale(args.out, files)
    write_images(Image, files, pixels, rows, cols)
    with open(marker, "w") as f:
        f.write(stamp + "\n")
    print("wrote %d %s images in %d class folders to %s%s" % (
        args.count, args.subset, len(CLASSES), args.out,
        " (removed %d from an earlier run)" % removed if removed else ""))


if __name__ == "__main__":
    main()
