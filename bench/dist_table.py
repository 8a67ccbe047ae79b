"""Markdown tables from bench/dist.sh's JSON lines: medians over repeats,
2-rank speed relative to 1 rank x 2 threads, exposed communication share."""
import json
import statistics
import sys
from collections import defaultdict

rows = [json.loads(line) for line in open(sys.argv[1]) if line.strip()]
steps = defaultdict(list)
for r in rows:
    if r["case"] != "allreduce":
        steps[(r["arch"], r["case"])].append(r)

def med(rs, key):
    return statistics.median(r[key] for r in rs)

print("| model | run | step s (median) | img/s | vs 1x2 | exposed comm s/step | exposed share | comm s/step | buckets (from hooks) | repeats |")
print("| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |")
for arch in sorted({a for a, _ in steps}):
    base = med(steps[(arch, "1x2")], "step_s")
    for case in ["1x2", "2x1 no sync", "2x1 overlap on", "2x1 overlap off", "2x1 overlap on, 5 MiB buckets"]:
        rs = steps.get((arch, case))
        if not rs:
            continue
        s = med(rs, "step_s")
        e = med(rs, "exposed_comm_s")
        c = med(rs, "comm_s")
        b = f'{rs[0]["buckets"]} ({rs[0]["launched_during_backward"]})' if rs[0]["buckets"] else "-"
        print(f'| {arch} | {case} | {s:.3f} | {rs[0]["global_batch"] / s:.2f} | {base / s:.2f}x | '
              f'{e * 1000:.1f} ms | {e / s:.1%} | {c * 1000:.1f} ms | {b} | {len(rs)} |')
print()
print("| allreduce MiB | ranks | seconds | algbw GB/s | busbw GB/s |")
print("| --- | --- | --- | --- | --- |")
for r in rows:
    if r["case"] == "allreduce":
        print(f'| {r["allreduce_mb"]:g} | {r["ranks"]} | {r["seconds"]:.4f} | {r["algbw_gbps"]:.2f} | {r["busbw_gbps"]:.2f} |')
