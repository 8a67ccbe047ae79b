#!/usr/bin/env bash
# run.cuda_graph (issue #16) where it cannot capture: on the CPU the run
# says why in its log and trains exactly as without it (run.deterministic:
# the weights and the validation probabilities are bitwise those of the
# same run with run.cuda_graph = false). Capture itself needs a GPU:
# bench/gpu/gpu_check.cpp (cuda_graph_*) checks it there.
source "$(dirname "$0")/lib.sh"
cd "$WORK"
H5="/usr/bin/python3 $SRC/tests/integration/h5tool.py"
"$MIDGE" synth --out S --classes 3 --per-class 12 --size 48 --seed 5 >/dev/null || fail "synth"
train=(--set data.root=S --set data.image_size=32 --set model.arch=resnet18 --set stage1.epochs=1
  --set stage2.epochs=1 --set stage1.batch_size=8 --set stage2.batch_size=8 --set stage2.optimizer=adam
  --set run.deterministic=true --set gradcam.max_images=0 --set run.threads=1)
run "$MIDGE" train "${train[@]}" --set run.cuda_graph=true --out g
expect_rc 0 "train with run.cuda_graph = true on the CPU"
expect_err "run.cuda_graph = true, but the training steps are not captured: the run is on the CPU"
[ "$(grep -c "not captured" <<<"$ERR")" -eq 1 ] || fail "the reason is logged more than once"
CHECKS=$((CHECKS + 1))
run "$MIDGE" train "${train[@]}" --out plain
expect_rc 0 "train without"
grep -q "cuda_graph" <<<"$ERR" && fail "run.cuda_graph = false logs about graphs"
$H5 same g/run.h5 plain/run.h5 eval/probabilities stage1/history/train_loss stage2/history/train_loss \
  || fail "the run with run.cuda_graph = true on the CPU differs"
changed=$($H5 changed g/model.h5 plain/model.h5) || fail "reading model.h5"
[ -z "$changed" ] || fail "weights differ: $changed"
CHECKS=$((CHECKS + 2))
done_ok
