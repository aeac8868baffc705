#!/usr/bin/python3
"""The order torchvision's ImageFolder lists a small tree in.

Reference for tests/test_data_folder.c (folder_order). Builds the tree the
test builds, in a temporary folder, and prints ImageFolder's samples as
"label relative/path", plus its classes. Run with Debian's torchvision:
    /usr/bin/python3 tools/ref/imagefolder_order.py
"""
import os
import tempfile

from PIL import Image
from torchvision.datasets import ImageFolder

TREE = [
    "a_dog/a.png", "a_dog/z.png", "a_dog/B.png", "a_dog/sub/b.png", "a_dog/sub-x/c.png",
    "a_dog/sub x/d.png", "b_cat/1.png", "b_cat/10.png", "b_cat/2.png",
    "C_upper/deep/er/e.png",
]


def main():
    with tempfile.TemporaryDirectory() as root:
        for rel in TREE:
            path = os.path.join(root, rel)
            os.makedirs(os.path.dirname(path), exist_ok=True)
            Image.new("RGB", (1, 1)).save(path)
        ds = ImageFolder(root)
        print("classes", ds.classes)
        for path, label in ds.samples:
            print(label, os.path.relpath(path, root))


if __name__ == "__main__":
    main()
