#!/usr/bin/env bash
# Sweeps (issue: sweeps on rank groups): 8 small trials of deliberately
# uneven length (stage 2 of 2 to 10 epochs, in an order that does not sort
# them) run three ways in the same session, on the same images and threads:
#   A. `midge train` x 8, separate processes one after another;
#   B. `midge sweep` in one process (one group): A without the per-process
#      start-up and data scan;
#   C. `mpiexec -n 2 midge sweep --ranks-per-trial 1`: two groups of one rank
#      taking trials dynamically; the busy share of each group is the sum of
#      its trials' seconds (journal) over the sweep's wall time.
# usage: bench/sweep.sh   (build first: scripts/build.sh)
set -euo pipefail
cd "$(dirname "$0")/.."
build=${BUILD_DIR:-build}
size=${SIZE:-128}
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
export OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1
"$build/midge" synth --out "$work/data" --classes 4 --per-class 25 --size 160x120 --format jpg >/dev/null
base=(--set data.root="$work/data" --set data.image_size="$size" --set model.arch=resnet18
      --set model.pretrained=none --set stage1.epochs=1 --set stage1.batch_size=16
      --set stage2.batch_size=16 --set stage1.early_stop_patience=0
      --set stage2.early_stop_patience=0 --set run.threads=1 --set data.workers=1
      --set gradcam.max_images=0 --set run.checkpoint_every=0)
printf '[grid]\nstage2.epochs = 4, 10, 2, 7\nstage2.lr = 0.0001, 0.0003\n' > "$work/uneven.ini"
now() { date +%s.%N; }

# A: separate processes.
t0=$(now)
for e in 4 10 2 7; do
  for lr in 0.0001 0.0003; do
    "$build/midge" train "${base[@]}" --set stage2.epochs=$e --set stage2.lr=$lr \
      --out "$work/alone/$e-$lr" --log-level warn >/dev/null
  done
done
t1=$(now)
# B: one sweep process.
"$build/midge" sweep "${base[@]}" --sweep "$work/uneven.ini" --out "$work/one" --log-level warn >/dev/null
t2=$(now)
# C: two groups of one rank.
mpiexec -n 2 --oversubscribe "$build/midge" sweep "${base[@]}" --sweep "$work/uneven.ini" \
  --ranks-per-trial 1 --out "$work/two" >/dev/null 2>"$work/two.log"
t3=$(now)
# midge's own measure: from the sweep's start to the end of its last trial.
inside=$(grep -o "sweep: .* wall; time in trials per group: .*" "$work/two.log")
/usr/bin/python3 - "$work" "$t0" "$t1" "$t2" "$t3" "$inside" <<'PY'
import sys
import h5py
work, t0, t1, t2, t3 = sys.argv[1], *map(float, sys.argv[2:6])
inside = sys.argv[6]
a, b, c = t1 - t0, t2 - t1, t3 - t2
with h5py.File(f"{work}/one/sweep.h5") as f:
    one = f["trials/seconds"][:].sum()
with h5py.File(f"{work}/two/sweep.h5") as f:
    groups = f["trials/group"][:]
    seconds = f["trials/seconds"][:]
    lengths = ", ".join(f"{s:.1f}" for s in seconds)
busy = [seconds[groups == g].sum() / c for g in (0, 1)]
print(f"trial seconds (2 groups, expansion order): {lengths}")
print("| run | wall s | ratio to A | busy share |")
print("| --- | --- | --- | --- |")
print(f"| A: 8 x `midge train`, one after another | {a:.1f} | 1.00x | - |")
print(f"| B: `midge sweep`, one process | {b:.1f} | {a / b:.2f}x | {one / b:.1%} |")
print(f"| C: `mpiexec -n 2 midge sweep --ranks-per-trial 1` | {c:.1f} | {a / c:.2f}x | group 0 {busy[0]:.1%}, group 1 {busy[1]:.1%} |")
print(f"C as midge logs it (without mpiexec's start and MPI_Finalize): {inside}")
PY
