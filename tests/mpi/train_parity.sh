#!/usr/bin/env bash
# Data-parallel training is one-rank training: in stage 1 (frozen BatchNorm,
# no dropout), 2 ranks with 4 images each per step end with the same
# parameters as 1 rank with 8 (relative difference below 1e-5), and the
# reduced confusion matrix equals the single-rank one. Checked for the
# default gradient sync (one bucket, overlapped), for tiny buckets (fc.weight
# and fc.bias in separate buckets) and with overlap off. In fp32
# (run.amp = off): bf16 autocast rounds 1- and 2-rank batches differently.
source "$(dirname "$0")/../integration/lib.sh"
cd "$WORK"
MPIEXEC=${MPIEXEC:-mpiexec}
"$MIDGE" synth --out S --classes 3 --per-class 10 --size 48 >/dev/null || fail "synth"
"$MIDGE" train --set data.root=S --set data.image_size=32 --set model.arch=resnet18 --set stage1.epochs=0 \
  --set stage2.epochs=1 --set stage2.batch_size=8 --out base --log-level warn >/dev/null || fail "base model"
args=(train --set data.root=S --set data.image_size=32 --set model.arch=resnet18 --set model.dropout=0
      --set model.pretrained=base/model.h5 --set stage1.epochs=3 --set stage2.epochs=0 --set stage1.batch_size=8
      --set stage1.optimizer=sgd --set stage1.lr=0.05 --set run.deterministic=true --set data.workers=1
      --set run.amp=off --set gradcam.max_images=0 --log-level warn)
run "$MIDGE" "${args[@]}" --set run.threads=2 --out one
expect_rc 0
run timeout 120 "$MPIEXEC" -n 2 --oversubscribe "$MIDGE" "${args[@]}" --set run.threads=1 --out two \
  --log-level info
expect_rc 0
expect_err "in 1 buckets (host memory, overlap on)"
run timeout 120 "$MPIEXEC" -n 2 --oversubscribe "$MIDGE" "${args[@]}" --set run.threads=1 --out two_small \
  --set dist.bucket_mb=0.001 --log-level info
expect_rc 0
expect_err "in 2 buckets (host memory, overlap on)"
run timeout 120 "$MPIEXEC" -n 2 --oversubscribe "$MIDGE" "${args[@]}" --set run.threads=1 --out two_off \
  --set dist.overlap=false --log-level info
expect_rc 0
expect_err "(host memory, overlap off)"
for two in two two_small two_off; do
CHECKS=$((CHECKS + 2))
TWO=$two /usr/bin/python3 - <<'PY' || fail "2-rank ($two) and 1-rank training differ"
import h5py, numpy as np, os, sys
two = os.environ["TWO"]
a, b = h5py.File("one/model.h5"), h5py.File(f"{two}/model.h5")
worst = 0.0
for name in a["weights"]:
    x, y = a["weights"][name][()], b["weights"][name][()]
    if name.startswith("fc."):
        worst = max(worst, float(np.abs(x - y).max() / max(np.abs(x).max(), 1e-12)))
    elif not np.array_equal(x, y):
        sys.exit(f"frozen backbone tensor {name} differs")
print(f"{two}: largest relative difference of the head: {worst:.2e}")
base = h5py.File("base/model.h5")
if np.array_equal(base["weights/fc.weight"][()], a["weights/fc.weight"][()]):
    sys.exit("stage 1 did not train the head: nothing was compared")
ra, rb = h5py.File("one/run.h5"), h5py.File(f"{two}/run.h5")
if not np.array_equal(ra["eval/confusion"][()], rb["eval/confusion"][()]):
    sys.exit("confusion matrices differ")
sys.exit(0 if worst < 1e-5 else 1)
PY
done
done_ok
