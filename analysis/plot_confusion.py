#!/usr/bin/env python3
"""Confusion matrix heatmap of one run (rows = true taxon, columns =
predicted), counts in the cells, row-normalized colours, per-taxon recall on
the right.

usage: plot_confusion.py RUN_H5 OUT_PNG
"""
import sys

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402

from common import open_run, text  # noqa: E402


def main():
    f, status = open_run(sys.argv[1])
    if "eval/confusion" not in f:
        sys.exit(f"{sys.argv[1]}: no evaluation (status {status})")
    cm = np.asarray(f["eval/confusion"])
    classes = text(f["classes"][:])
    rows = cm.sum(1, keepdims=True).clip(min=1)
    n = len(classes)
    fig, ax = plt.subplots(figsize=(2 + 0.6 * n, 1.5 + 0.5 * n))
    im = ax.imshow(cm / rows, cmap="Blues", vmin=0, vmax=1)
    for i in range(n):
        for j in range(n):
            if cm[i, j]:
                ax.text(j, i, str(cm[i, j]), ha="center", va="center",
                        color="white" if cm[i, j] / rows[i, 0] > 0.5 else "black", fontsize=8)
    ax.set_xticks(range(n), classes, rotation=45, ha="right", fontsize=8)
    ax.set_yticks(range(n), [f"{c} ({100 * cm[i, i] / rows[i, 0]:.0f}%)" for i, c in enumerate(classes)],
                  fontsize=8)
    ax.set(xlabel="predicted taxon", ylabel="true taxon (recall)",
           title=f"accuracy {float(f['eval/accuracy'][()]):.3f}, "
                 f"balanced {float(f['eval/balanced_accuracy'][()]):.3f}")
    fig.colorbar(im, ax=ax, fraction=0.04, label="share of the true taxon")
    fig.tight_layout()
    fig.savefig(sys.argv[2], dpi=100)


if __name__ == "__main__":
    main()
