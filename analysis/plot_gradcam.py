#!/usr/bin/env python3
"""Grad-CAM grid of one run: for each explained validation image the shaped
input, the heatmap overlaid on it, and the true and predicted taxon.

usage: plot_gradcam.py RUN_H5 OUT_PNG [MAX_IMAGES]
"""
import sys

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
from PIL import Image  # noqa: E402

from common import open_run, text  # noqa: E402

MEAN = (0.485, 0.456, 0.406)


def shaped(path, size):
    """The image as midge feeds it (pad mode): longer side = size, centred."""
    img = Image.open(path).convert("RGB")
    scale = size / max(img.size)
    img = img.resize((max(1, round(img.size[0] * scale)), max(1, round(img.size[1] * scale))))
    canvas = Image.new("RGB", (size, size), tuple(int(m * 255) for m in MEAN))
    canvas.paste(img, ((size - img.size[0]) // 2, (size - img.size[1]) // 2))
    return np.asarray(canvas)


def main():
    f, _ = open_run(sys.argv[1])
    limit = int(sys.argv[3]) if len(sys.argv) > 3 else 12
    if "gradcam/heatmaps" not in f:
        sys.exit(f"{sys.argv[1]}: no /gradcam (gradcam.max_images = 0?)")
    maps = f["gradcam/heatmaps"]
    size = int(maps.attrs["input_size"])
    classes = text(f["classes"][:])
    paths = text(f["gradcam/paths"][:])
    labels = f["gradcam/labels"][:]
    predicted = f["gradcam/predicted"][:]
    n = min(limit, len(paths))
    cols = 4
    rows = (n + cols - 1) // cols
    fig, axes = plt.subplots(rows, 2 * cols, figsize=(2 * 2 * cols, 2.3 * rows), squeeze=False)
    for ax in axes.ravel():
        ax.axis("off")
    for i in range(n):
        r, c = divmod(i, cols)
        img = shaped(paths[i], size)
        axes[r, 2 * c].imshow(img)
        axes[r, 2 * c + 1].imshow(img)
        axes[r, 2 * c + 1].imshow(maps[i], cmap="jet", alpha=0.45, vmin=0, vmax=1)
        ok = labels[i] == predicted[i]
        axes[r, 2 * c].set_title(f"true {classes[labels[i]]}", fontsize=7)
        axes[r, 2 * c + 1].set_title(f"pred {classes[predicted[i]]}", fontsize=7,
                                     color="green" if ok else "red")
    fig.suptitle(f"Grad-CAM ({maps.attrs['layer'].decode() if isinstance(maps.attrs['layer'], bytes) else maps.attrs['layer']})")
    fig.tight_layout()
    fig.savefig(sys.argv[2], dpi=100)


if __name__ == "__main__":
    main()
