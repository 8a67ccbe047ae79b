#!/usr/bin/env bash
# Accuracy of training inputs shaped first and augmented from the shaped
# square (what the image cache needs; data/transform.h) against the earlier
# single-resampling pipeline, on synthetic JPEGs and on real images
# (scikit-learn's bundled scans of handwritten digits, 8x8 px, 10 classes),
# three seeds each. OLD is a midge binary built before the change.
# usage: OLD=/path/to/old/midge bench/shaping_accuracy.sh   (needs a venv with
#        scikit-learn and pillow in SKVENV, default /tmp/skvenv)
set -euo pipefail
cd "$(dirname "$0")/.."
new=${BUILD_DIR:-build}/midge
old=${OLD:?OLD=path of a midge binary from before the two-step shaping}
venv=${SKVENV:-/tmp/skvenv}
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
"$new" synth --out "$work/synth" --classes 5 --per-class 60 --size 128x96 --format jpg --seed 1 >/dev/null
"$venv/bin/python" bench/digits_set.py "$work/digits"
aug=(--set augment.rotate_deg=15 --set augment.shift=0.1 --set augment.scale=0.1
     --set augment.hflip=false --set augment.vflip=false --set augment.elastic_alpha=1.5
     --set augment.elastic_sigma=4 --set model.arch=resnet18 --set model.pretrained=none
     --set run.threads=2 --set data.workers=2 --set gradcam.max_images=0
     --set stage1.early_stop_patience=0 --set stage2.early_stop_patience=0
     --set stage1.epochs=1 --set stage2.epochs=10 --set run.amp=off)
acc() { /usr/bin/python3 -c "import h5py; print(h5py.File('$1/run.h5')['eval/accuracy'][()])"; }
rows=()
for set in synth digits; do
  size=64; [ $set = digits ] && size=32
  for seed in 1 2 3; do
    for which in old new; do
      bin=$new; [ $which = old ] && bin=$old
      "$bin" train --config configs/demo.ini --set data.root="$work/$set" --set data.image_size=$size \
        --set run.seed=$seed "${aug[@]}" --out "$work/$set-$which-$seed" --log-level warn >/dev/null
      rows+=("$set $which $seed $(acc "$work/$set-$which-$seed")")
    done
  done
done
/usr/bin/python3 - "${rows[@]}" <<'PY'
import statistics as st, sys
acc = {}
for row in sys.argv[1:]:
    s, which, seed, a = row.split()
    acc.setdefault((s, which), []).append(float(a))
print("| data | seeds 1, 2, 3: single resampling (before) | mean ± sd | shaped, then augmented (now) | mean ± sd |")
print("| --- | --- | --- | --- | --- |")
for s in ("synth", "digits"):
    o, n = acc[(s, "old")], acc[(s, "new")]
    f = lambda v: ", ".join(f"{x:.3f}" for x in v)
    print(f"| {s} | {f(o)} | {st.mean(o):.3f} ± {st.stdev(o):.3f} | {f(n)} | {st.mean(n):.3f} ± {st.stdev(n):.3f} |")
PY
