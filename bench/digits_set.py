"""Writes a real-image taxon set for accuracy benchmarks: scikit-learn's
bundled scans of handwritten digits (8x8 px, grey), 60 per digit, as PNGs
in one folder per class (digit_0 ... digit_9) under OUT. No download: the
scans ship with scikit-learn.

usage: python digits_set.py OUT   (a Python with scikit-learn and pillow)
"""
import os
import sys

from PIL import Image
from sklearn.datasets import load_digits


def main(out, per_class=60):
    d = load_digits()
    count = {}
    for img, label in zip(d.images, d.target):
        n = count.get(label, 0)
        if n >= per_class:
            continue
        count[label] = n + 1
        folder = os.path.join(out, f"digit_{label}")
        os.makedirs(folder, exist_ok=True)
        Image.fromarray((img * 255 / 16).astype("uint8")).save(os.path.join(folder, f"{n:03d}.png"))


if __name__ == "__main__":
    main(sys.argv[1])
