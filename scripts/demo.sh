#!/usr/bin/env bash
# One command from a fresh Debian 12 machine to a demo result: installs
# dependencies, builds, generates synthetic taxon image sets with `midge
# synth` (the demo set photographs each specimen twice), trains a backbone
# on one set, fine-tunes it in two stages on another (the paper's transfer
# scheme, at CPU scale, split by specimen), cross-validates two settings
# in a 5-fold sweep on two rank groups, identifies specimens with
# prediction sets, and prints per-taxon validation accuracy, image- and
# specimen-level accuracy, the calibration error, the open-set figures of
# a held-out taxon and where the results are. Under 4 minutes on 2 cores
# (bench/RESULTS.md).
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/install-deps.sh
source scripts/env.sh
# Only the binary the demo runs: the tests are built by scripts/test.sh.
MIDGE_BUILD_TARGETS=midge scripts/build.sh
midge=build/midge
out=results/demo
# Afresh every time: a run or sweep folder left by an earlier demo (another
# midge version, other defaults) would otherwise be kept ("already holds a
# complete run") or refused ("belongs to another sweep").
rm -rf "$out"
mkdir -p "$out"

echo "== data: a pretraining set (15 synthetic taxa) and the demo set (5 other taxa, 30 specimens each, photographed twice)"
"$midge" synth --out "$out/pretrain-data" --classes 15 --per-class 40 --size 96 --seed 2
"$midge" synth --out "$out/data" --classes 5 --per-class 30 --views 2 --size 96 --seed 1
# The specimen of an image is in its name (<taxon>_NNNN_vV.png): both
# views of a specimen stay on one side of the split (docs/science.md).
pattern='_([0-9]+)_v'
"$midge" split --data "$out/data" --specimen-pattern "$pattern" --out "$out/split.csv"

# Batches of 32: on a CPU ~1.5x the images per second of 16 at 64 px.
echo "== run 1: a backbone trained from scratch on the pretraining set"
"$midge" train --config configs/demo.ini --set data.root="$out/pretrain-data" \
  --set stage1.epochs=0 --set stage2.epochs=8 --set stage2.batch_size=32 --set stage2.lr=0.003 \
  --set gradcam.max_images=0 --out "$out/backbone"

# One taxon is held out of run 2: its images play a species the model never
# saw, and run.h5 /eval/open_set measures how well they are told apart.
held=Dentimentum_alpha
echo "== run 2: that backbone fine-tuned in two stages on the demo set (2 MPI ranks), $held held out"
mpiexec -n 2 "$midge" train --config configs/demo.ini --set data.root="$out/data" \
  --set model.pretrained="$out/backbone/model.h5" --set run.threads=1 --set data.workers=1 \
  --set data.specimen_pattern="$pattern" --set data.holdout_taxa="$held" --out "$out/run"

echo "== run 3: a sweep (jobs/demo_folds.ini: 2 head learning rates x 5 folds) on 2 rank groups"
mpiexec -n 2 "$midge" sweep --config configs/demo.ini --sweep jobs/demo_folds.ini --ranks-per-trial 1 \
  --set data.root="$out/data" --set data.specimen_pattern="$pattern" \
  --set model.pretrained="$out/backbone/model.h5" --set stage1.epochs=2 --set stage2.epochs=0 \
  --set run.threads=1 --set data.workers=1 --set gradcam.max_images=0 --set data.cache=file \
  --out "$out/sweep"

echo "== Grad-CAM overlays of 8 validation images (midge gradcam)"
mapfile -t val < <(awk -F, '$3 == "val" {print $1}' "$out/split.csv" | head -8)
"$midge" gradcam --model "$out/run/model.h5" --input "${val[@]}" --layer layer2 \
  --out "$out/gradcam.h5" --png "$out/gradcam"

echo "== midge predict: 2 specimens of the held-out taxon, 2 validation specimens of a known one (both views each)"
mapfile -t some < <(ls "$out/data/$held"/*_000[01]_v*.png
  awk -F, '$2 == "Virgimentum_alpha" && $3 == "val" {print $1}' "$out/split.csv" | head -4)
"$midge" predict --model "$out/run/model.h5" --input "${some[@]}" --specimen-pattern "$pattern" \
  --out "$out/predictions.csv"

echo "== plots (analysis/, pinned Python venv)"
plots="skipped (analysis/setup.sh could not create its venv)"
if py=$(analysis/setup.sh); then
  mkdir -p "$out/plots"
  "$py" analysis/plot_curves.py "$out/run/run.h5" "$out/plots/curves.png"
  "$py" analysis/plot_confusion.py "$out/run/run.h5" "$out/plots/confusion.png"
  "$py" analysis/plot_gradcam.py "$out/run/run.h5" "$out/plots/gradcam.png"
  "$py" analysis/plot_sweep.py "$out/sweep/summary.h5" "$out/plots/sweep.png"
  "$py" analysis/plot_reliability.py "$out/run/run.h5" "$out/plots/reliability.png"
  plots="$out/plots/{curves,confusion,gradcam,sweep,reliability}.png"
fi

echo "== per-taxon validation accuracy, specimens, prediction sets, calibration and open set (midge collect)"
"$midge" collect "$out/run" --taxonomy "$out/data/taxonomy.csv" --out "$out/summary.h5"

echo
echo "Results are in $(pwd)/$out/:"
echo "  run/run.h5       metrics, confusion matrix, predictions, Grad-CAM (docs/results-schema.md)"
echo "  run/model.h5     fine-tuned weights (torchvision names)"
echo "  summary.h5/.csv  the collect table above"
echo "  predictions.csv  midge predict: taxon or unknown, probability, open-set score, prediction set"
echo "  predictions.specimens.csv   the same per specimen (its images fused)"
echo "  gradcam/         Grad-CAM overlays: $(ls "$out"/gradcam/*.png | head -3 | tr '\n' ' ')..."
echo "  plots            $plots"
echo "  sweep/           sweep.h5 (journal), trials/<id>/, ranking.csv, summary.h5 /sweep/folds (docs/sweeps.md)"
echo "  backbone/        the pretraining run"
echo "  data/, pretrain-data/   synthetic images, regions.csv, taxonomy.csv"
