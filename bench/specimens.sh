#!/usr/bin/env bash
# The specimen leak and specimen fusion (issue #28, docs/science.md), on
# synthetic specimens photographed 4 times, each with individual marks
# (`midge synth --views 4 --marks`): per seed, the same data and recipe
# trained twice, once split image by image (data.split_unit = image: a
# specimen's views fall on both sides) and once by specimen (the default
# with data.specimen_pattern). Prints per seed the image-split accuracy,
# the specimen-split accuracy, and the specimen split's specimen-level
# accuracy (its images fused, /eval/specimens), then the means and the
# seeds on which each comparison held. The two runs of a seed train side
# by side, one thread each.
# usage: bench/specimens.sh   (SEEDS="1 2 3 4 5 6" PER_CLASS=16 EPOCHS=20 BUILD_DIR=build)
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/env.sh
midge=${BUILD_DIR:-build}/midge
seeds=${SEEDS:-1 2 3 4 5 6}
per_class=${PER_CLASS:-16}
epochs=${EPOCHS:-20}
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
pattern='_([0-9]+)_v'
recipe=(--set data.image_size=32 --set model.arch=resnet18 --set model.pretrained=none
  --set data.specimen_pattern="$pattern" --set data.workers=0 --set run.threads=1
  --set stage1.epochs=0 --set stage2.epochs="$epochs" --set stage2.batch_size=16
  --set stage2.optimizer=adam --set stage2.lr=0.002 --set stage2.schedule=cosine
  --set stage2.early_stop_patience=0 --set augment.rotate_deg=0 --set augment.shift=0
  --set augment.scale=0 --set augment.shear=0 --set augment.brightness=0
  --set augment.contrast=0 --set gradcam.max_images=0 --set run.amp=off)
figures() {  # run.h5 -> "accuracy images specimen_accuracy specimens"
  /usr/bin/python3 - "$1" <<'PY'
import h5py, sys
e = h5py.File(sys.argv[1], "r")["eval"]
print(e["accuracy"][()], len(e["labels"]), e["specimens/accuracy"][()], len(e["specimens/names"]))
PY
}
rows=()
for seed in $seeds; do
  data="$work/data-$seed"
  "$midge" synth --out "$data" --classes 5 --per-class "$per_class" --views 4 --marks --size 64 \
    --seed "$seed" >/dev/null
  pids=()
  for unit in image specimen; do
    "$midge" train --config configs/demo.ini --set data.root="$data" --set data.split_unit=$unit \
      --set run.seed="$seed" "${recipe[@]}" --out "$work/$unit-$seed" --log-level warn >/dev/null &
    pids+=($!)
  done
  # Each in turn, so that a failed run ends the benchmark only after the
  # other has stopped (the EXIT trap removes their folder).
  failed=0
  for pid in "${pids[@]}"; do wait "$pid" || failed=1; done
  [ "$failed" -eq 0 ] || { echo "bench/specimens.sh: a training run of seed $seed failed" >&2; exit 1; }
  rows+=("$seed $(figures "$work/image-$seed/run.h5") $(figures "$work/specimen-$seed/run.h5")")
  echo "seed $seed done" >&2
done
/usr/bin/python3 - "$per_class" "$epochs" "${rows[@]}" <<'PY'
import statistics as st, sys
per_class, epochs = sys.argv[1], sys.argv[2]
rows = [r.split() for r in sys.argv[3:]]
print(f"5 taxa x {per_class} specimens x 4 views, --marks, 64 px, ResNet-18 from scratch at 32 px, "
      f"{epochs} epochs, one thread per run")
print("| seed | image-by-image split | by specimen: images | by specimen: specimens (fused) |")
print("| --- | --- | --- | --- |")
img, spec, fused = [], [], []
for seed, a_img, n_img, _, _, a_spec, n_spec, a_fused, n_fused in rows:
    img.append(float(a_img)); spec.append(float(a_spec)); fused.append(float(a_fused))
    print(f"| {seed} | {float(a_img):.3f} ({n_img} images) | {float(a_spec):.3f} ({n_spec} images) "
          f"| {float(a_fused):.3f} ({n_fused} specimens) |")
sd = lambda v: st.stdev(v) if len(v) > 1 else 0.0
print(f"| mean ± sd | {st.mean(img):.3f} ± {sd(img):.3f} | {st.mean(spec):.3f} ± {sd(spec):.3f} "
      f"| {st.mean(fused):.3f} ± {sd(fused):.3f} |")
n = len(rows)
print(f"image split above specimen split on {sum(a > b for a, b in zip(img, spec))} of {n} seeds "
      f"(mean difference {st.mean(a - b for a, b in zip(img, spec)):+.3f})")
print(f"specimen-level at or above image-level (specimen split) on "
      f"{sum(f >= s for f, s in zip(fused, spec))} of {n} seeds "
      f"(mean difference {st.mean(f - s for f, s in zip(fused, spec)):+.3f})")
PY
