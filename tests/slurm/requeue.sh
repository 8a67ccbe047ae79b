#!/usr/bin/env bash
# Time limits and preemption as Slurm delivers them, on the single-node
# Slurm of scripts/slurm-local.sh: `scancel --batch --signal=USR2` (what
# `#SBATCH --signal=B:USR2@120` sends before a time limit) reaches a running
# slurm/train.sbatch job in the middle of an epoch; midge stops at a step
# boundary with exit code 75, the script requeues the job, the rerun resumes
# from the next batch and completes, bitwise equal to an uninterrupted srun
# of the same configuration. The same for slurm/sweep.sbatch on two rank
# groups: both running trials stop, the journal records them as
# interrupted (not failed), and after the requeue every trial completes
# exactly once.
source "$(dirname "$0")/../integration/lib.sh"
cd "$WORK"
bash "$SRC/scripts/slurm-local.sh" >/dev/null || fail "could not start the local Slurm (scripts/slurm-local.sh)"
H5="/usr/bin/python3 $SRC/tests/integration/h5tool.py"
"$MIDGE" synth --out S --classes 3 --per-class 30 --size 48 >/dev/null || fail "synth"
# 72 training images in batches of 4: 18 steps per epoch, so that a signal
# sent after step 2 lands inside the epoch even on a busy machine.
tiny_config cfg.ini data.workers=1 stage2.epochs=2 run.deterministic=true gradcam.max_images=3

# A requeued job waits 11 s before it may start again (scripts/slurm-local.sh).
# signal_when JOB LOG TEXT: once LOG holds TEXT, SIGUSR2 to the job's batch shell.
signal_when() {
  local deadline=$(( $(date +%s) + 120 ))
  until [ -f "$2" ] && grep -qF -- "$3" "$2"; do
    [ "$(date +%s)" -lt "$deadline" ] || fail "'$3' did not appear in $2 within 120 s"
    # Once it has a log the job is running (pending array tasks are listed as <job>_[0-1]).
    [ ! -f "$2" ] || squeue -h -o %i | grep -qx "$1" || fail "job $1 ended before '$3': $(tail -20 "$2")"
    sleep 0.1
  done
  scancel --batch --signal=USR2 "$1" || fail "scancel --signal=USR2 $1"
}
jobs_to_cancel=()
trap 'for j in ${jobs_to_cancel[@]+"${jobs_to_cancel[@]}"}; do scancel "$j"; done; rm -rf "$WORK"' EXIT

# The training job.
run timeout 300 srun -n 2 --kill-on-bad-exit=1 "$MIDGE" train --config cfg.ini --out "$WORK/whole"
expect_rc 0 "uninterrupted srun -n 2"
job=$(sbatch --parsable --chdir="$WORK" --export=ALL,MIDGE="$MIDGE" "$SRC/slurm/train.sbatch" \
  cfg.ini "$WORK/cut" --log-level debug) || fail "sbatch train.sbatch"
jobs_to_cancel=("$job")
log=midge-train-$job.out
signal_when "$job" "$log" "stage 2 epoch 1 batch 2/18 done"
wait_for_job "$job" 200
grep -q "stopped by SIGUSR2 after batch [0-9]*/18 of stage 2 epoch 1" "$log" ||
  fail "the job did not stop inside stage 2 epoch 1: $(tail -20 "$log")"
grep -q "requeueing job $job (restart 1)" "$log" || fail "the job was not requeued: $(tail -20 "$log")"
grep -q "resuming from $WORK/cut/state.h5: stage 2, 0 epoch(s) of it done, then [1-9][0-9]* batch(es) of epoch 1" "$log" ||
  fail "the requeued job did not resume inside the epoch: $(tail -20 "$log")"
[ "$($H5 attr cut/run.h5 status)" = complete ] || fail "the requeued job's run.h5 is not complete"
$H5 same whole/run.h5 cut/run.h5 eval/probabilities eval/confusion stage2/history/train_loss \
  stage2/history/train_acc stage2/history/val_loss gradcam/heatmaps ||
  fail "the stopped and requeued training differs from the uninterrupted one"
[ -z "$($H5 changed whole/model.h5 cut/model.h5)" ] || fail "requeued weights differ"
CHECKS=$((CHECKS + 6))

# The requeue cap: with MIDGE_MAX_REQUEUES=0 the stopped job is not
# requeued; it ends with 75 and the run stays interrupted, resumable.
job=$(sbatch --parsable --chdir="$WORK" --export=ALL,MIDGE="$MIDGE",MIDGE_MAX_REQUEUES=0 \
  "$SRC/slurm/train.sbatch" cfg.ini "$WORK/capped" --log-level debug) || fail "sbatch (capped)"
jobs_to_cancel=("$job")
log=midge-train-$job.out
signal_when "$job" "$log" "stage 1 epoch 1 batch 2/18 done"
wait_for_job "$job" 200
grep -q "stopped and resumable, but job $job was requeued 0 time(s) already (MIDGE_MAX_REQUEUES=0): not requeued" "$log" ||
  fail "the capped job: $(tail -5 "$log")"
! grep -q "requeueing" "$log" || fail "the capped job was requeued"
[ "$($H5 attr capped/run.h5 status)" = interrupted ] || fail "the capped job's run.h5 is not interrupted"
CHECKS=$((CHECKS + 3))

# The sweep job: 4 trials on 2 groups of 1 rank.
printf '[grid]\nstage2.lr = 0.0001, 0.0003\nmodel.dropout = 0.2, 0.5\n' >grid.ini
mapfile -t id < <(sweep_ids grid.ini --config cfg.ini)
[ ${#id[@]} -eq 4 ] || fail "expected 4 trials: ${id[*]}"
job=$(sbatch --parsable --chdir="$WORK" --ntasks=2 --export=ALL,MIDGE="$MIDGE" "$SRC/slurm/sweep.sbatch" \
  cfg.ini grid.ini "$WORK/sw" --log-level debug) || fail "sbatch sweep.sbatch"
jobs_to_cancel=("$job")
log=midge-sweep-${job}_4294967294.out
signal_when "$job" "$log" "stage 2 epoch 1 batch 2/18 done"
wait_for_job "$job" 200
n=$(grep -c "interrupted by SIGUSR2, resumes when the sweep is rerun" "$log")
[ "$n" -ge 1 ] || fail "no trial was interrupted: $(tail -20 "$log")"
grep -q "requeueing job $job (restart 1)" "$log" || fail "the sweep job was not requeued: $(tail -20 "$log")"
[ "$($H5 get sw/sweep.h5 trials/state)" = "complete complete complete complete" ] ||
  fail "after the requeue: $($H5 get sw/sweep.h5 trials/state); $(tail -20 "$log")"
for i in "${id[@]}"; do
  started=$(grep -c "$i (.*) on group [01]: starting" "$log")
  ended=$(grep -c "trial [1-4]/4 .* on group [01]: val acc" "$log")
  [ "$started" -eq 1 ] || fail "trial $i started $started times"
done
[ "$ended" -eq 4 ] || fail "$ended trials completed, expected each of 4 once: $(grep 'val acc' "$log")"
[ "$(grep -c ": resuming" "$log")" -eq "$n" ] || fail "not every interrupted trial resumed once"
echo "sweep: $n trial(s) interrupted by SIGUSR2, resumed after the requeue; 4 complete once each"
CHECKS=$((CHECKS + 5))

# A job array of 2 parts: the signal to task 1 requeues that task alone
# (scontrol requeue <job>_1); every trial still completes exactly once.
job=$(sbatch --parsable --array=0-1 --ntasks=1 --chdir="$WORK" --export=ALL,MIDGE="$MIDGE" \
  "$SRC/slurm/sweep.sbatch" cfg.ini grid.ini "$WORK/arr" --log-level debug) || fail "sbatch --array"
jobs_to_cancel=("$job")
signal_when "${job}_1" "midge-sweep-${job}_1.out" "stage 2 epoch 1 batch 2/18 done"
wait_for_job "$job" 200
logs=("midge-sweep-${job}_0.out" "midge-sweep-${job}_1.out")
grep -q "requeueing job ${job}_1 (restart 1)" "${logs[1]}" ||
  fail "array task 1 was not requeued: $(tail -20 "${logs[1]}")"
! grep -q "requeueing" "${logs[0]}" || fail "array task 0 was requeued too"
[ "$($H5 get arr/sweep.h5 trials/state)" = "complete complete complete complete" ] ||
  fail "array after the requeue: $($H5 get arr/sweep.h5 trials/state)"
[ "$($H5 attr arr/sweep.h5 status)" = complete ] || fail "array: the journal is not complete"
[ "$(cat "${logs[@]}" | grep -c "on group 0: val acc")" -eq 4 ] ||
  fail "array: not 4 trial completions: $(cat "${logs[@]}" | grep 'val acc')"
for i in "${id[@]}"; do
  [ "$(cat "${logs[@]}" | grep -c "$i (.*) on group 0: starting")" -eq 1 ] || fail "array: trial $i started twice"
done
CHECKS=$((CHECKS + 5))
done_ok
