#!/usr/bin/env python3
"""Reliability diagram of one run: per bin of the top probability, the
share of validation images predicted right against their mean top
probability, before (raw softmax) and after temperature scaling, from
run.h5 /eval/calibration (docs/science.md). A calibrated model lies on
the diagonal; bars below it are over-confident. Marker size = images in
the bin.

usage: plot_reliability.py RUN_H5 OUT_PNG
"""
import sys

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402

from common import open_run  # noqa: E402


def main():
    f, status = open_run(sys.argv[1])
    if "eval/calibration/temperature" not in f:
        sys.exit(f"{sys.argv[1]}: no calibration recorded (status {status}; "
                 "runs before midge recorded /eval/calibration have none)")
    c = f["eval/calibration"]
    upper = np.asarray(c["bins/upper"])
    width = upper[0]
    fig, axes = plt.subplots(1, 2, figsize=(9, 4.5), sharey=True)
    for ax, when, ece in ((axes[0], "before", c["ece_before"][()]),
                          (axes[1], "after", c["ece_after"][()])):
        count = np.asarray(c[f"bins/count_{when}"])
        acc = np.asarray(c[f"bins/accuracy_{when}"])
        conf = np.asarray(c[f"bins/confidence_{when}"])
        used = count > 0
        ax.bar(upper[used] - width / 2, acc[used], width=width * 0.9, color="tab:blue", alpha=0.6,
               label="share right")
        ax.scatter(conf[used], acc[used], s=20 + 200 * count[used] / max(count.sum(), 1), color="tab:red",
                   zorder=3, label="bin at its mean top probability")
        ax.plot([0, 1], [0, 1], color="grey", linestyle="--", linewidth=1)
        title = "raw softmax" if when == "before" else f"temperature {float(c['temperature'][()]):.2f}"
        ax.set(xlim=(0, 1), ylim=(0, 1), xlabel="top probability", title=f"{title}: ECE {float(ece):.3f}")
    axes[0].set_ylabel("share of images predicted right")
    axes[0].legend(loc="upper left", fontsize=8)
    fig.tight_layout()
    fig.savefig(sys.argv[2], dpi=100)


if __name__ == "__main__":
    main()
