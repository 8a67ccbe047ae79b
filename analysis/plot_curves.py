#!/usr/bin/env python3
"""Learning curves of one run: loss and accuracy per epoch for training and
validation, both stages on one axis, the stage boundary marked.

usage: plot_curves.py RUN_H5 OUT_PNG
"""
import sys

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402

from common import history, open_run  # noqa: E402


def main():
    f, status = open_run(sys.argv[1])
    stages = [(s, history(f, s)) for s in ("stage1", "stage2")]
    fig, (ax_loss, ax_acc) = plt.subplots(1, 2, figsize=(11, 4))
    offset = 0
    for name, h in stages:
        if h is None:
            continue
        x = h["epoch"] + offset
        for ax, key in ((ax_loss, "loss"), (ax_acc, "acc")):
            ax.plot(x, h[f"train_{key}"], "o-", label=f"{name} train", ms=3)
            ax.plot(x, h[f"val_{key}"], "s--", label=f"{name} validation", ms=3)
        if offset == 0 and name == "stage1":
            boundary = x[-1] + 0.5
            for ax in (ax_loss, ax_acc):
                ax.axvline(boundary, color="grey", lw=1, ls=":")
                ax.text(boundary, ax.get_ylim()[1], " stage 2", va="top", color="grey")
        offset = x[-1]
    ax_loss.set(xlabel="epoch", ylabel="cross-entropy loss", title="loss")
    ax_acc.set(xlabel="epoch", ylabel="accuracy", title="accuracy", ylim=(0, 1.02))
    for ax in (ax_loss, ax_acc):
        ax.legend(fontsize=8)
        ax.grid(alpha=0.3)
    fig.suptitle(f"{sys.argv[1]} ({status})")
    fig.tight_layout()
    fig.savefig(sys.argv[2], dpi=100)


if __name__ == "__main__":
    main()
