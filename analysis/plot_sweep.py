#!/usr/bin/env python3
"""Sweep comparison from a `midge collect` summary: accuracy and balanced
accuracy per group of repeats (mean and standard deviation over seeds, every
run as a dot).

usage: plot_sweep.py SUMMARY_H5 OUT_PNG
"""
import sys

import h5py
import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402


def main():
    with h5py.File(sys.argv[1], "r") as f:
        groups = sorted(f["groups"], key=int)
        acc = [np.asarray(f[f"groups/{g}/accuracy"]) for g in groups]
        bal = [np.asarray(f[f"groups/{g}/balanced_accuracy"]) for g in groups]
    x = np.arange(len(groups))
    fig, ax = plt.subplots(figsize=(2 + 1.2 * len(groups), 4))
    for shift, values, label in ((-0.15, acc, "accuracy"), (0.15, bal, "balanced accuracy")):
        means = [v.mean() for v in values]
        sds = [v.std(ddof=1) if len(v) > 1 else 0 for v in values]
        ax.bar(x + shift, means, 0.3, yerr=sds, capsize=3, label=label, alpha=0.7)
        for xi, v in zip(x, values):
            ax.plot(np.full(len(v), xi + shift), v, "k.", ms=4)
    ax.set_xticks(x, [f"group {g}" for g in groups])
    ax.set(ylabel="validation", ylim=(0, 1.05), title="runs grouped by configuration (repeats = seeds)")
    ax.legend(fontsize=8)
    fig.tight_layout()
    fig.savefig(sys.argv[2], dpi=100)


if __name__ == "__main__":
    main()
