#!/usr/bin/env bash
# Sweeps as users submit them, on a real single-node Slurm
# (scripts/slurm-local.sh): slurm/submit.sh runs a 4-trial sweep job on two
# rank groups and, after it, the dependent collect job; every trial
# completes once and summary.csv and ranking.csv list them all. A job array
# of 2 tasks (slurm/sweep.sbatch --array=0-1) runs each trial exactly once,
# and `midge collect` on the shared folder ranks all of them.
source "$(dirname "$0")/../integration/lib.sh"
cd "$WORK"
bash "$SRC/scripts/slurm-local.sh" >/dev/null || fail "could not start the local Slurm (scripts/slurm-local.sh)"
H5="/usr/bin/python3 $SRC/tests/integration/h5tool.py"
"$MIDGE" synth --out S --classes 3 --per-class 8 --size 48 >/dev/null || fail "synth"
tiny_config cfg.ini data.workers=1 gradcam.max_images=0
printf '[grid]\nstage2.lr = 0.0001, 0.0003\nmodel.dropout = 0.2, 0.5\n' > grid.ini
mapfile -t id < <(sweep_ids grid.ini --config cfg.ini)
[ ${#id[@]} -eq 4 ] || fail "expected 4 trials: ${id[*]}"

jobs_to_cancel=()
trap 'for j in ${jobs_to_cancel[@]+"${jobs_to_cancel[@]}"}; do scancel "$j"; done; rm -rf "$WORK"' EXIT

run env MIDGE="$MIDGE" SWEEP_SBATCH="--ntasks=2" bash "$SRC/slurm/submit.sh" cfg.ini grid.ini "$WORK/sw"
expect_rc 0 "submit.sh"
expect_out "summary:     $WORK/sw/summary.h5"
sweep_job=$(awk '/^sweep job:/ {print $3}' <<<"$OUT")
collect_job=$(awk '/^collect job:/ {print $3}' <<<"$OUT")
[ -n "$sweep_job" ] && [ -n "$collect_job" ] || fail "no job ids in: $OUT"
jobs_to_cancel=("$sweep_job" "$collect_job")
wait_for_job "$sweep_job"
# A failed sweep leaves the collect job pending for ever (afterok).
[ "$($H5 get sw/sweep.h5 trials/state)" = "complete complete complete complete" ] ||
  fail "sweep job: $($H5 get sw/sweep.h5 trials/state); $(cat midge-sweep-*.out | tail -20)"
wait_for_job "$collect_job"
grep -q "ranking: $WORK/sw/ranking.csv" "midge-collect-$collect_job.out" ||
  fail "the collect job did not rank the sweep: $(tail -20 "midge-collect-$collect_job.out")"
for i in "${id[@]}"; do
  grep -q "trials/$i/run.h5" sw/summary.csv || fail "summary.csv lacks trial $i"
done
[ "$(tail -n +2 sw/ranking.csv | wc -l)" -eq 4 ] || fail "ranking.csv: $(cat sw/ranking.csv)"
grep -q "sweep of 4 trials on 2 group(s) of 1 rank(s)" midge-sweep-"$sweep_job"_*.out ||
  fail "the sweep job did not run 2 groups: $(head -5 midge-sweep-"$sweep_job"_*.out)"
CHECKS=$((CHECKS + 5))

# A job array of two parts into one folder.
run timeout 200 sbatch --wait --array=0-1 --ntasks=1 --chdir="$WORK" --export=ALL,MIDGE="$MIDGE" \
  "$SRC/slurm/sweep.sbatch" cfg.ini grid.ini "$WORK/arr"
expect_rc 0 "array sweep: $(tail -20 midge-sweep-*_[01].out)"
array_job=$(grep -o '[0-9]*' <<<"$OUT" | head -1)
logs=(midge-sweep-"${array_job}"_0.out midge-sweep-"${array_job}"_1.out)
[ -f "${logs[0]}" ] && [ -f "${logs[1]}" ] || fail "array task logs missing: $(ls)"
for i in "${id[@]}"; do
  n=$(cat "${logs[@]}" | grep -c "$i (.*) on group 0: starting")
  [ "$n" -eq 1 ] || fail "array: trial $i started $n times"
done
grep -q "part 0/2: 2 of them" "${logs[0]}" && grep -q "part 1/2: 2 of them" "${logs[1]}" ||
  fail "array tasks did not run parts 0/2 and 1/2"
[ "$($H5 get arr/sweep.h5 trials/state)" = "complete complete complete complete" ] ||
  fail "array: $($H5 get arr/sweep.h5 trials/state)"
[ "$($H5 attr arr/sweep.h5 status)" = complete ] || fail "array: the journal is not complete"
run "$MIDGE" collect arr --out arr/summary.h5
expect_rc 0 "collect of the array's folder"
expect_out "configurations by mean validation accuracy over seeds"
[ "$(tail -n +2 arr/ranking.csv | wc -l)" -eq 4 ] || fail "array ranking.csv: $(cat arr/ranking.csv)"
CHECKS=$((CHECKS + 5))
done_ok
