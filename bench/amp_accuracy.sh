#!/usr/bin/env bash
# Does bf16 (run.amp = bf16, what run.amp = auto picks on a CPU with
# AVX512_BF16 or AMX-BF16) reach the accuracy of fp32 (run.amp = off)?
# Five seeds each (SEEDS="1 2 3 4 5"), on
#  - synth: the held-in synthetic recipe (midge synth, 5 taxa x 60 JPEGs,
#    64 px, ResNet-18 from random weights, two stages);
#  - digits: a real-image transfer run: scikit-learn's bundled scans of
#    handwritten digits (10 classes x 60, upscaled to 32 px), starting from
#    the fp32 synth model of seed 1 (model.pretrained = its model.h5: stage 1
#    trains the new head on the frozen backbone, stage 2 all layers).
# Prints a markdown table: per-seed values, mean +- sd per precision, and the
# paired difference bf16 - fp32 (same seed) as mean +- sd.
# usage: bench/amp_accuracy.sh   (needs a venv with scikit-learn and pillow in
#        SKVENV, default /tmp/skvenv: python3 -m venv /tmp/skvenv &&
#        /tmp/skvenv/bin/pip install scikit-learn pillow)
set -euo pipefail
cd "$(dirname "$0")/.."
midge=${BUILD_DIR:-build}/midge
venv=${SKVENV:-/tmp/skvenv}
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
"$midge" synth --out "$work/synth" --classes 5 --per-class 60 --size 128x96 --format jpg --seed 1 >/dev/null
"$venv/bin/python" bench/digits_set.py "$work/digits"
common=(--set augment.rotate_deg=15 --set augment.shift=0.1 --set augment.scale=0.1
        --set augment.hflip=false --set augment.vflip=false --set augment.elastic_alpha=1.5
        --set augment.elastic_sigma=4 --set model.arch=resnet18
        --set run.threads=2 --set data.workers=2 --set gradcam.max_images=0
        --set stage1.early_stop_patience=0 --set stage2.early_stop_patience=0)
acc() { /usr/bin/python3 -c "import h5py; f = h5py.File('$1/run.h5'); print(f['eval/accuracy'][()], f.attrs['amp'])"; }
rows=()
for seed in ${SEEDS:-1 2 3 4 5}; do
  for amp in off bf16; do
    out=$work/synth-$amp-$seed
    "$midge" train --config configs/demo.ini --set data.root="$work/synth" --set data.image_size=64 \
      --set model.pretrained=none --set stage1.epochs=1 --set stage2.epochs=10 \
      --set run.seed=$seed --set run.amp=$amp "${common[@]}" --out "$out" --log-level warn >/dev/null
    rows+=("synth $amp $seed $(acc "$out")")
  done
done
for seed in ${SEEDS:-1 2 3 4 5}; do
  for amp in off bf16; do
    out=$work/digits-$amp-$seed
    "$midge" train --config configs/demo.ini --set data.root="$work/digits" --set data.image_size=32 \
      --set model.pretrained="$work/synth-off-1/model.h5" --set stage1.epochs=3 --set stage2.epochs=6 \
      --set run.seed=$seed --set run.amp=$amp "${common[@]}" --out "$out" --log-level warn >/dev/null
    rows+=("digits $amp $seed $(acc "$out")")
  done
done
/usr/bin/python3 - "${rows[@]}" <<'PY'
import statistics as st, sys
acc = {}
for row in sys.argv[1:]:
    s, amp, seed, a, stored = row.split()
    assert stored == amp, f"run.h5 says amp {stored}, asked for {amp}"
    acc.setdefault((s, amp), []).append(float(a))
print("| data | fp32 (run.amp = off) per seed | mean ± sd | bf16 (run.amp = bf16) per seed | mean ± sd | bf16 − fp32, same seed |")
print("| --- | --- | --- | --- | --- | --- |")
for s in ("synth", "digits"):
    o, n = acc[(s, "off")], acc[(s, "bf16")]
    d = [b - a for a, b in zip(o, n)]
    f = lambda v: ", ".join(f"{x:.3f}" for x in v)
    print(f"| {s} | {f(o)} | {st.mean(o):.3f} ± {st.stdev(o):.3f} | {f(n)} | {st.mean(n):.3f} ± {st.stdev(n):.3f} | {st.mean(d):+.3f} ± {st.stdev(d):.3f} |")
PY
