#!/usr/bin/python3
"""Grad-CAM means something: the share of heatmap mass inside the
taxon-defining structure (regions.csv of `midge synth`) is well above the
share of the image that structure covers.

usage: gradcam_meaning.py RUN_H5 DATA_DIR MIN_RATIO
Prints both shares and their ratio; exit 1 when the ratio is below MIN_RATIO.
"""
import csv
import os
import sys

import h5py
import numpy as np


def main():
    run, data, min_ratio = sys.argv[1], sys.argv[2], float(sys.argv[3])
    boxes = {}
    with open(os.path.join(data, "regions.csv")) as f:
        for row in csv.DictReader(f):
            boxes[os.path.normpath(os.path.join(data, row["path"]))] = row
    with h5py.File(run) as f:
        maps = f["gradcam/heatmaps"][:]
        paths = [p.decode() if isinstance(p, bytes) else p for p in f["gradcam/paths"][:]]
        size = int(f["gradcam/heatmaps"].attrs["input_size"])
    inside, area = [], []
    for heat, path in zip(maps, paths):
        r = boxes[os.path.normpath(path)]
        w, h = int(r["width"]), int(r["height"])
        # pad mode: the longer side is scaled to `size`, the image centred.
        s = size / max(w, h)
        ox, oy = (size - w * s) / 2, (size - h * s) / 2
        x0 = int(np.floor(int(r["x0"]) * s + ox))
        x1 = int(np.ceil(int(r["x1"]) * s + ox))
        y0 = int(np.floor(int(r["y0"]) * s + oy))
        y1 = int(np.ceil(int(r["y1"]) * s + oy))
        total = heat.sum()
        if total <= 0:
            continue
        inside.append(heat[y0:y1, x0:x1].sum() / total)
        area.append((x1 - x0) * (y1 - y0) / float(size * size))
    mass, share = float(np.mean(inside)), float(np.mean(area))
    print(f"Grad-CAM over {len(inside)} images: {100 * mass:.1f}% of the heatmap mass lies in the "
          f"structure, which covers {100 * share:.1f}% of the image (ratio {mass / share:.2f})")
    sys.exit(0 if mass / share >= min_ratio else 1)


if __name__ == "__main__":
    main()
