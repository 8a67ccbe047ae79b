#!/usr/bin/env python3
"""Sweep comparison from a summary.h5. From `midge sweep` (group /sweep):
validation accuracy against each swept key, one panel per key (every trial
a dot, each configuration's mean over seeds with its standard deviation).
From `midge collect` alone: accuracy and balanced accuracy per group of
repeats (mean and standard deviation over seeds, every run as a dot).

usage: plot_sweep.py SUMMARY_H5 OUT_PNG
"""
import sys

import h5py
import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402


def as_numbers(values):
    try:
        return [float(v) for v in values]
    except ValueError:
        return None


def plot_keys(f, out):
    keys = [k.decode() for k in f["sweep/keys"][:]]
    values = [[v.decode() for v in row] for row in f["sweep/points/values"][:]]
    mean = f["sweep/points/accuracy_mean"][:]
    sd = f["sweep/points/accuracy_sd"][:]
    point = f["sweep/trials/point"][:]
    acc = f["sweep/trials/accuracy"][:]
    fig, axes = plt.subplots(1, len(keys), figsize=(1 + 3.5 * len(keys), 3.8), squeeze=False)
    for j, (key, ax) in enumerate(zip(keys, axes[0])):
        column = [row[j] for row in values]
        numbers = as_numbers(column)
        if numbers is None:  # categories in order of first appearance
            names = list(dict.fromkeys(column))
            x = [names.index(v) for v in column]
            ax.set_xticks(range(len(names)), names, rotation=30, fontsize=8)
        else:
            x = numbers
            if min(x) > 0 and max(x) / min(x) >= 10:
                ax.set_xscale("log")
        ax.plot([x[p] for p in point], acc, "k.", ms=4, alpha=0.6, label="trial")
        ax.errorbar(x, mean, yerr=sd, fmt="o", color="tab:blue", capsize=3, label="mean ± sd over seeds")
        ax.set(xlabel=key, ylim=(0, 1.05))
        if j == 0:
            ax.set_ylabel("validation accuracy")
            ax.legend(fontsize=7)
    fig.suptitle(f"best: {f['sweep/best'].attrs['parameters']}", fontsize=9)
    fig.tight_layout()
    fig.savefig(out, dpi=100)


def main():
    with h5py.File(sys.argv[1], "r") as f:
        if "sweep/points/values" in f:
            plot_keys(f, sys.argv[2])
            return
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
