"""Summary of bench/gpu/e2e.sh: midge's and the PyTorch peer's training
images/s per stage (data loading included), the share of the training loop
spent waiting for data, GPU utilisation while each trained (NVML samples),
peak GPU memory, the sweep's trials, and each step's wall time. Writes
e2e.json and prints a Markdown table. Needs h5py and numpy."""
import argparse
import glob
import json
import os
import statistics

import h5py
import numpy as np


def phases(path):
    out = {}
    for line in open(path):
        name, t0, t1, rc = line.rstrip("\n").split("\t")
        out[name] = (float(t0), float(t1), int(rc))
    return out


def utilisation(samples, span):
    if samples is None or span is None:
        return None
    t0, t1 = span[0], span[1]
    inside = samples[(samples[:, 0] >= t0) & (samples[:, 0] <= t1)]
    if len(inside) == 0:
        return None
    busy = inside[inside[:, 1] > 0]  # start-up and shut-down excluded
    return {"mean_percent": float(inside[:, 1].mean()),
            "mean_percent_while_busy": float(busy[:, 1].mean()) if len(busy) else 0.0,
            "max_memory_used_bytes": float(inside[:, 2].max())}


def steady(values):
    """Median over the stage's epochs after the first (warm-up: cuDNN
    autotuning, first decode of every file)."""
    rest = values[1:] if len(values) > 1 else values
    return float(statistics.median(rest)) if rest else 0.0


def midge_run(path):
    with h5py.File(path, "r") as f:
        images = len(f["split/train/labels"])
        run = {"status": f.attrs["status"].decode() if isinstance(f.attrs["status"], bytes) else str(f.attrs["status"]),
               "peak_cuda_bytes": float(f.attrs.get("peak_cuda_bytes", 0)), "train_images": images}
        for stage in ("stage1", "stage2"):
            g = f.get(f"{stage}/history")
            if g is None:
                continue
            ips = [float(v) for v in g["images_per_second"][:]]
            wait = [float(v) for v in g["data_wait_seconds"][:]] if "data_wait_seconds" in g else [0.0] * len(ips)
            train_s = [images / v if v > 0 else 0.0 for v in ips]
            run[stage] = {"images_per_second": ips, "data_wait_seconds": wait, "train_seconds": train_s,
                          "val_acc": [float(v) for v in g["val_acc"][:]]}
        if "eval/accuracy" in f:
            run["val_accuracy"] = float(f["eval/accuracy"][()])
    return run


def peer_run(path):
    run = {}
    for line in open(path):
        if not line.startswith("{"):
            continue
        row = json.loads(line)
        if row.get("summary"):
            run.update(row)
            continue
        s = run.setdefault(f"stage{row['stage']}", {"images_per_second": [], "data_wait_seconds": [],
                                                    "train_seconds": [], "val_acc": []})
        for k in ("images_per_second", "data_wait_seconds", "train_seconds", "val_acc", "seconds"):
            s.setdefault(k, []).append(row[k])
    return run


def stage_figures(s):
    if not s:
        return None
    wait, train = sum(s["data_wait_seconds"]), sum(s["train_seconds"])
    return {"steady_images_per_second": steady(s["images_per_second"]),
            "data_wait_percent": 100.0 * wait / train if train > 0 else 0.0,
            "epochs": len(s["images_per_second"])}


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--out", required=True)
    p.add_argument("--run", required=True)
    p.add_argument("--sweep", required=True)
    p.add_argument("--run-graph", default="", help="run.h5 of the run with run.cuda_graph = true")
    p.add_argument("--project", default="",
                   help="S1,S2: the recipe's epochs; a peer that ran fewer gets its time for S1 + S2 "
                        "projected (measured wall time plus each missing epoch at its stage's steady "
                        "epoch time)")
    a = p.parse_args()
    ph = phases(os.path.join(a.out, "phases.tsv"))
    samples_path = os.path.join(a.out, "gpu_samples.csv")
    samples = np.loadtxt(samples_path, delimiter=",", skiprows=1, ndmin=2) if os.path.exists(samples_path) else None
    report = {"phases": {k: {"seconds": round(v[1] - v[0], 2), "exit": v[2]} for k, v in ph.items()}}
    rows = []
    sides = {}
    if os.path.exists(a.run):
        sides["midge"] = (midge_run(a.run), ph.get("train"))
    if a.run_graph and os.path.exists(a.run_graph):
        sides["midge-graph"] = (midge_run(a.run_graph), ph.get("train_graph"))
    peer_log = os.path.join(a.out, "peer.log")
    if os.path.exists(peer_log):
        sides["pytorch"] = (peer_run(peer_log), ph.get("peer"))
    for name, (run, span) in sides.items():
        entry = {"gpu": utilisation(samples, span)}
        for stage in ("stage1", "stage2"):
            entry[stage] = stage_figures(run.get(stage))
        entry["peak_cuda_bytes"] = run.get("peak_cuda_bytes")
        entry["wall_seconds"] = round(span[1] - span[0], 2) if span else None
        entry["epochs"] = {stage: run.get(stage) for stage in ("stage1", "stage2")}
        report[name] = entry
        for stage in ("stage1", "stage2"):
            f = entry[stage]
            if f:
                gpu = entry["gpu"] or {}
                rows.append((name, stage, f["steady_images_per_second"], f["data_wait_percent"],
                             gpu.get("mean_percent_while_busy", float("nan")),
                             (entry["peak_cuda_bytes"] or 0) / 2**30, entry["wall_seconds"]))
    if "midge" in report and "pytorch" in report:
        report["ratio"] = {}
        for stage in ("stage1", "stage2"):
            m, t = report["midge"][stage], report["pytorch"][stage]
            if m and t and t["steady_images_per_second"] > 0:
                report["ratio"][stage] = m["steady_images_per_second"] / t["steady_images_per_second"]
    if "midge" in report and "midge-graph" in report:
        report["graph_ratio"] = {}
        for stage in ("stage1", "stage2"):
            m, g = report["midge"][stage], report["midge-graph"][stage]
            if m and g and m["steady_images_per_second"] > 0:
                report["graph_ratio"][stage] = g["steady_images_per_second"] / m["steady_images_per_second"]
    if a.project and "pytorch" in report:
        want = [int(v) for v in a.project.split(",")]
        run, span = sides["pytorch"]
        if span:
            projected, missing = span[1] - span[0], []
            for stage, epochs in zip(("stage1", "stage2"), want):
                seconds = run.get(stage, {}).get("seconds", [])
                if 0 < len(seconds) < epochs:
                    projected += (epochs - len(seconds)) * steady(seconds)
                    missing.append(f"{stage} {len(seconds)} of {epochs}")
            if missing:
                report["pytorch"]["projected_wall_seconds"] = round(projected, 2)
                report["pytorch"]["projected_from"] = missing
    journal = os.path.join(a.sweep, "sweep.h5")
    if os.path.exists(journal):
        with h5py.File(journal, "r") as f:
            states = [s.decode() if isinstance(s, bytes) else str(s) for s in f["trials/state"][:]]
        report["sweep"] = {"trials": len(states), "complete": states.count("complete"),
                           "run_h5": len(glob.glob(os.path.join(a.sweep, "trials", "*", "run.h5")))}
    with open(os.path.join(a.out, "e2e.json"), "w") as f:
        json.dump(report, f, indent=1)
    print("| side | stage | steady img/s | data wait | GPU util (busy samples) | peak GPU GiB | train wall s |")
    print("| --- | --- | --- | --- | --- | --- | --- |")
    for r in rows:
        print(f"| {r[0]} | {r[1]} | {r[2]:.1f} | {r[3]:.1f}% | {r[4]:.0f}% | {r[5]:.2f} | {r[6]} |")
    for stage, v in report.get("ratio", {}).items():
        print(f"midge / PyTorch, {stage}: {v:.2f}x")
    for stage, v in report.get("graph_ratio", {}).items():
        print(f"midge with run.cuda_graph / without, {stage}: {v:.2f}x")
    print("steps:", ", ".join(f"{k} {v['seconds']} s (exit {v['exit']})" for k, v in report["phases"].items()))
    if "projected_wall_seconds" in report.get("pytorch", {}):
        print(f"PyTorch peer for the recipe's epochs: {report['pytorch']['projected_wall_seconds']} s, "
              f"projected (ran {', '.join(report['pytorch']['projected_from'])} epochs)")
    if "sweep" in report:
        print("sweep:", report["sweep"])


if __name__ == "__main__":
    main()
