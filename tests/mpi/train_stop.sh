#!/usr/bin/env bash
# A stop on request inside an epoch (core/stop_request.h): SIGTERM to a
# 1-rank run in stage 1, SIGUSR2 to mpiexec of a 2-rank run in stage 2
# (mpiexec forwards it to both ranks). Each run stops at a step boundary
# inside the epoch with exit code 75, state.h5 holding the next batch and
# run.h5 saying "interrupted"; rerunning the same command resumes from that
# batch and ends bitwise equal to an uninterrupted run (run.deterministic,
# CPU): histories, probabilities, Grad-CAM and every weight.
source "$(dirname "$0")/../integration/lib.sh"
cd "$WORK"
MPIEXEC=${MPIEXEC:-mpiexec}
H5="/usr/bin/python3 $SRC/tests/integration/h5tool.py"
"$MIDGE" synth --out S --classes 3 --per-class 30 --size 48 >/dev/null || fail "synth"
# 72 training images: 36 steps per epoch in stage 1, 18 in stage 2, so that
# a signal sent after step 2 lands inside the epoch even on a busy machine.
args=(train --set data.root="$WORK/S" --set data.image_size=32 --set model.arch=resnet18 --set data.workers=1
      --set stage1.epochs=1 --set stage2.epochs=2 --set stage1.batch_size=2 --set stage2.batch_size=4
      --set run.deterministic=true --set run.threads=1 --set gradcam.max_images=3)
same_as_whole() {  # same_as_whole WHOLE CUT
  $H5 same "$1/run.h5" "$2/run.h5" eval/probabilities eval/confusion stage1/history/train_loss \
    stage1/history/train_acc stage2/history/train_loss stage2/history/train_acc \
    stage2/history/val_loss gradcam/heatmaps || fail "$2 differs from the uninterrupted $1"
  [ -z "$($H5 changed "$1/model.h5" "$2/model.h5")" ] || fail "$2: weights differ from $1"
  CHECKS=$((CHECKS + 2))
}
# stopped_inside CUT STAGE STEPS: state.h5 is inside the first epoch of
# STAGE (STEPS per epoch), run.h5 interrupted.
stopped_inside() {
  local batch
  batch=$($H5 get "$1/state.h5" batch)
  [ "$($H5 get "$1/state.h5" stage)" = "$2" ] || fail "$1: stopped in stage $($H5 get "$1/state.h5" stage), not $2"
  [ "$($H5 get "$1/state.h5" epoch)" = 0 ] || fail "$1: stopped after epoch 1"
  [ "$batch" -gt 0 ] && [ "$batch" -lt "$3" ] || fail "$1: state.h5 is not inside an epoch (batch $batch of $3)"
  [ "$($H5 attr "$1/run.h5" status)" = interrupted ] || fail "$1: run.h5 is not 'interrupted'"
  CHECKS=$((CHECKS + 3))
}

# One rank, SIGTERM in stage 1.
run timeout 240 "$MIDGE" "${args[@]}" --out whole1
expect_rc 0 "uninterrupted 1-rank run"
"$MIDGE" "${args[@]}" --out cut1 --log-level debug >cut1.log 2>&1 &
pid=$!
wait_for_line cut1.log "stage 1 epoch 1 batch 2/36 done" "$pid"
kill -TERM "$pid"
wait "$pid"
rc=$?
[ "$rc" -eq 75 ] || fail "SIGTERM: exit code $rc, expected 75: $(tail -5 cut1.log)"
grep -q "stopped by SIGTERM after batch [0-9]*/36 of stage 1 epoch 1" cut1.log ||
  fail "no stop inside stage 1 epoch 1: $(tail -5 cut1.log)"
stopped_inside cut1 1 36
batch=$($H5 get cut1/state.h5 batch)
run timeout 240 "$MIDGE" "${args[@]}" --out cut1
expect_rc 0 "resuming the 1-rank run"
expect_err "resuming from cut1/state.h5: stage 1, 0 epoch(s) of it done, then $batch batch(es) of epoch 1"
same_as_whole whole1 cut1

# Two ranks, SIGUSR2 to mpiexec in stage 2.
run timeout 240 "$MPIEXEC" -n 2 --oversubscribe "$MIDGE" "${args[@]}" --out whole2
expect_rc 0 "uninterrupted 2-rank run"
"$MPIEXEC" -n 2 --oversubscribe "$MIDGE" "${args[@]}" --out cut2 --log-level debug >cut2.log 2>&1 &
pid=$!
wait_for_line cut2.log "stage 2 epoch 1 batch 2/18 done" "$pid"
kill -USR2 "$pid"
wait "$pid"
rc=$?
[ "$rc" -eq 75 ] || fail "SIGUSR2: mpiexec exit code $rc, expected 75: $(tail -5 cut2.log)"
stopped_inside cut2 2 18
batch=$($H5 get cut2/state.h5 batch)
run timeout 240 "$MPIEXEC" -n 2 --oversubscribe "$MIDGE" "${args[@]}" --out cut2
expect_rc 0 "resuming the 2-rank run"
expect_err "resuming from cut2/state.h5: stage 2, 0 epoch(s) of it done, then $batch batch(es) of epoch 1"
same_as_whole whole2 cut2
done_ok
