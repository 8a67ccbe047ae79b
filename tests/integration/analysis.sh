#!/usr/bin/env bash
# analysis/ scripts on a small real run: each writes a PNG that is a real,
# non-empty image. The pinned venv comes from analysis/setup.sh (PyPI).
source "$(dirname "$0")/lib.sh"
cd "$WORK"
PY=$(bash "$SRC/analysis/setup.sh") || fail "analysis/setup.sh could not create the venv"
"$MIDGE" synth --out S --classes 3 --per-class 10 --size 48 >/dev/null || fail "synth"
for seed in 1 2; do
  "$MIDGE" train --set data.root=S --set data.image_size=32 --set model.arch=resnet18 --set data.workers=1 \
    --set run.threads=1 --set stage1.epochs=2 --set stage2.epochs=2 --set stage1.batch_size=8 \
    --set stage2.batch_size=8 --set gradcam.max_images=6 --set run.seed=$seed --out runs/s$seed \
    --log-level warn >/dev/null \
    || fail "training seed $seed"
done
"$MIDGE" collect runs --out summary.h5 >/dev/null || fail "collect"
run "$PY" "$SRC/analysis/plot_curves.py" runs/s1/run.h5 curves.png
expect_rc 0
run "$PY" "$SRC/analysis/plot_confusion.py" runs/s1/run.h5 confusion.png
expect_rc 0
run "$PY" "$SRC/analysis/plot_gradcam.py" runs/s1/run.h5 gradcam.png
expect_rc 0
run "$PY" "$SRC/analysis/plot_reliability.py" runs/s1/run.h5 reliability.png
expect_rc 0
run "$PY" "$SRC/analysis/plot_sweep.py" summary.h5 sweep.png
expect_rc 0
# A sweep's summary: accuracy against each swept key (one numeric, one not).
printf '[grid]\nstage2.lr = 0.0001, 0.001\nmodel.arch = resnet18, resnet34\n' > keys.ini
"$MIDGE" sweep --set data.root=S --set data.image_size=32 --set data.workers=1 --set run.threads=1 \
  --set stage1.epochs=1 --set stage2.epochs=1 --set stage1.batch_size=8 --set stage2.batch_size=8 \
  --set gradcam.max_images=0 --sweep keys.ini --out sw --log-level warn >/dev/null || fail "sweep"
run "$PY" "$SRC/analysis/plot_sweep.py" sw/summary.h5 sweep_keys.png
expect_rc 0
for png in curves confusion gradcam reliability sweep sweep_keys; do
  CHECKS=$((CHECKS + 1))
  "$PY" -c "
import sys
from PIL import Image
im = Image.open('$png.png'); im.load()
w, h = im.size
extrema = im.convert('L').getextrema()
sys.exit(0 if w >= 200 and h >= 200 and extrema[0] < extrema[1] else 1)" || fail "$png.png is not a non-empty image"
done
done_ok
