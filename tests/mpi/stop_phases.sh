#!/usr/bin/env bash
# A stop request is seen in every phase, not only between training steps
# (docs/slurm.md): rank 0 of a 2-rank run sends itself SIGUSR2
# (MIDGE_FAULT stop sites, core/fault.h) while hashing the images, in the
# middle of an epoch's validation, of the final evaluation and of Grad-CAM.
# Each run stops at the next agreement with exit 75 and run.h5
# "interrupted"; rerunning the same command finishes bitwise equal to an
# uninterrupted run (run.deterministic, CPU).
source "$(dirname "$0")/../integration/lib.sh"
cd "$WORK"
MPIEXEC=${MPIEXEC:-mpiexec}
H5="/usr/bin/python3 $SRC/tests/integration/h5tool.py"
"$MIDGE" synth --out S --classes 3 --per-class 10 --size 48 --seed 4 >/dev/null || fail "synth"
args=(train --set data.root="$WORK/S" --set data.image_size=32 --set model.arch=resnet18
      --set data.workers=1 --set stage1.epochs=1 --set stage2.epochs=2 --set stage1.batch_size=4
      --set stage2.batch_size=4 --set run.deterministic=true --set run.threads=1
      --set gradcam.max_images=6 --set dist.timeout=30)
run timeout 300 "$MPIEXEC" -n 2 --oversubscribe "$MIDGE" "${args[@]}" --out whole
expect_rc 0 "uninterrupted run"
for site in stop_hashing stop_validation stop_final_eval stop_gradcam; do
  run timeout 300 env MIDGE_FAULT="$site@rank0" "$MPIEXEC" -n 2 --oversubscribe "$MIDGE" "${args[@]}" --out "$site"
  expect_rc 75 "$site"
  expect_err "stopped by"
  [ "$($H5 attr "$site/run.h5" status)" = interrupted ] || fail "$site: run.h5 is not 'interrupted'"
  run timeout 300 "$MPIEXEC" -n 2 --oversubscribe "$MIDGE" "${args[@]}" --out "$site"
  expect_rc 0 "$site: rerun"
  $H5 same whole/run.h5 "$site/run.h5" eval/probabilities eval/confusion stage1/history/train_loss \
    stage2/history/train_loss stage2/history/val_loss gradcam/heatmaps ||
    fail "$site: the resumed run differs from the uninterrupted one"
  [ -z "$($H5 changed whole/model.h5 "$site/model.h5")" ] || fail "$site: weights differ"
  CHECKS=$((CHECKS + 3))
done
done_ok
