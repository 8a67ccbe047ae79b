#!/usr/bin/env bash
# midge predict shapes an image exactly as training did: for every resize
# mode, predicting the validation images with the run's model.h5 reproduces
# the probabilities that run.h5 stored in /eval/probabilities. Images are
# non-square (64x40), so pad, stretch and crop give different inputs.
# Trained in fp32 (run.amp = off): predict computes in fp32, while a bf16
# run evaluates under bf16 autocast (probabilities ~1e-3 apart).
source "$(dirname "$0")/lib.sh"
cd "$WORK"
"$MIDGE" synth --out S --classes 3 --per-class 10 --size 64x40 --seed 4 >/dev/null || fail "synth"
for mode in pad stretch crop; do
  run "$MIDGE" train --set data.root=S --set data.image_size=32 --set data.resize=$mode \
    --set model.arch=resnet18 --set data.workers=1 --set stage1.epochs=1 --set stage2.epochs=1 \
    --set stage1.batch_size=8 --set stage2.batch_size=8 --set gradcam.max_images=0 \
    --set run.amp=off --set run.threads=1 --out run_$mode
  expect_rc 0 "train with data.resize=$mode"
  /usr/bin/python3 - "run_$mode" >paths.txt <<'PY' || fail "val paths of $mode"
import sys, h5py
with h5py.File(sys.argv[1] + "/run.h5", "r") as f:
    for p in f["eval/paths"][:]:
        print(p.decode())
PY
  run "$MIDGE" predict --model run_$mode/model.h5 --input $(cat paths.txt) --top-k 3 \
    --uncalibrated --out pred_$mode.h5
  expect_rc 0 "predict with a $mode model"
  /usr/bin/python3 - "run_$mode" "pred_$mode.h5" <<'PY' || fail "predict differs from run.h5 /eval for data.resize=$mode"
import sys, h5py, numpy as np
run, pred = sys.argv[1], sys.argv[2]
with h5py.File(run + "/run.h5", "r") as f, h5py.File(run + "/model.h5", "r") as m:
    classes = [c.decode() for c in f["classes"][:]]
    ev = dict(zip((p.decode() for p in f["eval/paths"][:]), f["eval/probabilities"][:]))
    resize = m.attrs.get("resize", b"(not recorded)")
    resize = resize.decode() if isinstance(resize, bytes) else resize
with h5py.File(pred, "r") as p:
    paths = [x.decode() for x in p["paths"][:]]
    taxa = p["top_taxa"][:].reshape(len(paths), -1)
    probs = p["top_probabilities"][:]
worst = 0.0
for i, path in enumerate(paths):
    row = np.zeros(len(classes))
    for t, q in zip(taxa[i], probs[i]):
        row[classes.index(t.decode())] = q
    worst = max(worst, float(np.abs(row - ev[path]).max()))
print(f"{run}: model.h5 resize={resize}, {len(paths)} images, largest difference {worst:.2e}", file=sys.stderr)
sys.exit(0 if worst < 1e-4 and len(paths) == len(ev) and resize == run.split("_")[1] else 1)
PY
  CHECKS=$((CHECKS + 1))
done
# Without --uncalibrated predict divides the logits by the run's fitted
# temperature T: its probabilities are run.h5's raised to 1/T and
# renormalized (softmax(z / T) = p^(1/T) / sum p^(1/T) for p = softmax(z)).
run "$MIDGE" predict --model run_pad/model.h5 --input $(cat paths.txt) --top-k 3 --out cal.h5
expect_rc 0 "calibrated predict"
/usr/bin/python3 - run_pad cal.h5 <<'PY' || fail "calibrated predict is not run.h5's probabilities at the fitted temperature"
import sys, h5py, numpy as np
run, pred = sys.argv[1], sys.argv[2]
with h5py.File(run + "/run.h5", "r") as f, h5py.File(run + "/model.h5", "r") as m:
    classes = [c.decode() for c in f["classes"][:]]
    t = f["eval/calibration/temperature"][()]
    assert m.attrs["temperature"] == t
    ev = dict(zip((p.decode() for p in f["eval/paths"][:]), f["eval/probabilities"][:].astype(np.float64)))
    all_right = bool((f["eval/predicted"][:] == f["eval/labels"][:]).all())
with h5py.File(pred, "r") as p:
    assert p.attrs["calibrated"] == 1 and p.attrs["temperature"] == t
    paths = [x.decode() for x in p["paths"][:]]
    taxa = p["top_taxa"][:].reshape(len(paths), -1)
    probs = p["top_probabilities"][:]
worst = 0.0
for i, path in enumerate(paths):
    row = np.zeros(len(classes))
    for c, q in zip(taxa[i], probs[i]):
        row[classes.index(c.decode())] = q
    want = ev[path] ** (1 / t)
    worst = max(worst, float(np.abs(row - want / want.sum()).max()))
print(f"temperature {t:.3f}: largest difference {worst:.2e}", file=sys.stderr)
# T = 1 exactly when no temperature can be fitted (every image right).
sys.exit(0 if worst < 1e-4 and (t == 1) == all_right else 1)
PY
CHECKS=$((CHECKS + 1))
done_ok
