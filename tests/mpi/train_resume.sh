#!/usr/bin/env bash
# Resuming a 2-rank run: killed (rank 1 SIGKILLed) right after its first
# checkpoint of stage 2, the same command under mpiexec -n 2 resumes and
# ends bitwise equal to an uninterrupted 2-rank run. Resuming it on 1 rank
# is refused (training results depend on the number of ranks), naming both.
source "$(dirname "$0")/../integration/lib.sh"
cd "$WORK"
MPIEXEC=${MPIEXEC:-mpiexec}
H5="/usr/bin/python3 $SRC/tests/integration/h5tool.py"
"$MIDGE" synth --out S --classes 3 --per-class 15 --size 48 >/dev/null || fail "synth"
# data.root names this test's own folder, so that kill_rank finds this
# job's rank 1 and no other MPI test's.
args=(train --set data.root="$WORK/S" --set data.image_size=32 --set model.arch=resnet18 --set data.workers=1
      --set stage1.epochs=1 --set stage2.epochs=3 --set stage1.batch_size=8 --set stage2.batch_size=8
      --set run.deterministic=true --set run.threads=1 --set gradcam.max_images=3
      --set run.checkpoint_seconds=0)  # state.h5 every epoch: killed after one
run timeout 240 "$MPIEXEC" -n 2 --oversubscribe "$MIDGE" "${args[@]}" --out whole
expect_rc 0 "uninterrupted 2-rank run"

"$MPIEXEC" -n 2 --oversubscribe "$MIDGE" "${args[@]}" --out cut > cut.log 2>&1 &
launcher=$!
wait_for_checkpoint cut/state.h5 2 1 "$launcher"
kill_rank "$launcher" cut.log "stage 2 epoch 1/3" "midge train --set data.root=$WORK/S " \
  OMPI_COMM_WORLD_RANK=1
[ "$KILL_RC" -ne 0 ] || fail "the job exited 0 after rank 1 was killed"
[ "$($H5 attr cut/run.h5 status)" = running ] || fail "the killed run's run.h5 should say running"
CHECKS=$((CHECKS + 2))

run timeout 120 "$MIDGE" "${args[@]}" --out cut
expect_rc 1 "resuming a 2-rank run on 1 rank"
expect_err "was written by a run on 2 rank(s); this run has 1"

run timeout 240 "$MPIEXEC" -n 2 --oversubscribe "$MIDGE" "${args[@]}" --out cut
expect_rc 0 "resuming on 2 ranks"
expect_err "resuming from cut/state.h5: stage 2"
$H5 same whole/run.h5 cut/run.h5 eval/probabilities eval/confusion stage2/history/train_loss \
  stage2/history/val_loss gradcam/heatmaps || fail "the resumed 2-rank run differs from the uninterrupted one"
[ -z "$($H5 changed whole/model.h5 cut/model.h5)" ] || fail "resumed 2-rank weights differ"
CHECKS=$((CHECKS + 2))
done_ok
