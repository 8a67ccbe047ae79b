#!/usr/bin/env bash
# midge predict, midge gradcam and midge collect on a real (small) trained
# model and real runs.
source "$(dirname "$0")/lib.sh"
cd "$WORK"
H5="/usr/bin/python3 $SRC/tests/integration/h5tool.py"
"$MIDGE" synth --out S --classes 3 --per-class 10 --size 48 >/dev/null || fail "synth"
common=(train --set data.root=S --set data.image_size=32 --set model.arch=resnet18 --set data.workers=1
        --set stage1.epochs=1 --set stage2.epochs=1 --set stage1.batch_size=8 --set stage2.batch_size=8
        --set gradcam.max_images=4)
run "$MIDGE" "${common[@]}" --out runs/a --set run.seed=1
expect_rc 0
run "$MIDGE" "${common[@]}" --out runs/b --set run.seed=2
expect_rc 0
[ "$($H5 get runs/a/run.h5 gradcam/heatmaps | wc -w)" -eq $((4 * 32 * 32)) ] || fail "gradcam in run.h5"
# h5dump of a real run shows every path of the schema (docs/results-schema.md).
listing=$(h5dump -n runs/a/run.h5)
for p in /classes /split/train/paths /split/val/labels /data/skipped /stage1/history/train_loss \
         /stage2/history/images_per_second /eval/confusion /eval/per_class_accuracy /eval/accuracy \
         /eval/balanced_accuracy /eval/labels /eval/predicted /eval/probabilities /eval/paths \
         /gradcam/heatmaps /gradcam/paths /gradcam/labels /gradcam/predicted; do
  grep -q "dataset    $p\$" <<<"$listing" || fail "h5dump shows no $p"
done
attrs=$(h5dump -A -g / runs/a/run.h5)
for a in schema_version midge_version config status error world_size started finished host; do
  grep -q "ATTRIBUTE \"$a\"" <<<"$attrs" || fail "no root attribute $a"
done
CHECKS=$((CHECKS + 3))

# predict: top-k per image; a broken file is reported, the rest identified.
mkdir -p new && cp S/Nodimentum_alpha/Nodimentum_alpha_000[0-2].png new/
echo "not an image" > new/broken.png
run "$MIDGE" predict --model runs/a/model.h5 --input new --out pred.csv --top-k 2
expect_rc 1
expect_out "identified 3 of 4 images"
expect_err "cannot decode image new/broken.png"
[ "$(head -1 pred.csv)" = "path,rank,taxon,probability,error,accepted,score,set" ] || fail "predict CSV header"
[ "$(awk -F, '$2 == 1' pred.csv | wc -l)" -eq 3 ] && [ "$(awk -F, '$2 == 2' pred.csv | wc -l)" -eq 3 ] || fail "top-2 rows"
grep -q "broken.png,,,,\"cannot decode image" pred.csv || fail "broken image not listed"
[ "$($H5 get pred.h5 top_probabilities | wc -w)" -eq 8 ] || fail "predict HDF5"
CHECKS=$((CHECKS + 4))
# --out's extension chooses its format; the other one is written beside it,
# never over it.
run "$MIDGE" predict --model runs/a/model.h5 --input new --out p2.h5 --top-k 2
expect_rc 1
expect_out "CSV:  p2.csv"
expect_out "HDF5: p2.h5"
[ "$($H5 get p2.h5 top_probabilities | wc -w)" -eq 8 ] || fail "--out p2.h5 is not the HDF5 output"
[ "$(head -1 p2.csv)" = "path,rank,taxon,probability,error,accepted,score,set" ] || fail "no CSV beside --out p2.h5"
CHECKS=$((CHECKS + 2))
run "$MIDGE" predict --model runs/a/model.h5 --input new --out p3.txt
expect_rc 2
expect_err "--out must end in .csv, .h5 or .hdf5"
# --device: auto|cpu|cuda; this machine has no GPU, so cuda is refused.
run "$MIDGE" predict --model runs/a/model.h5 --input new --out p4.csv --device gpu
expect_rc 2
expect_err "midge predict: --device must be auto, cpu or cuda, got 'gpu'"
run "$MIDGE" gradcam --model runs/a/model.h5 --input new --out p4.h5 --device cuda
expect_rc 2
expect_err "--device cuda, but no CUDA device is visible"
[ ! -e p4.csv ] && [ ! -e p4.h5 ] || fail "a refused --device wrote output"
CHECKS=$((CHECKS + 1))
# ... and never over the model or another file that is not a prediction.
cp runs/a/model.h5 keep.h5
run "$MIDGE" predict --model runs/a/model.h5 --input new --out runs/a/model.csv
expect_rc 2
expect_err "runs/a/model.h5 is the model file"
run "$MIDGE" predict --model runs/a/model.h5 --input new --out runs/a/run.csv
expect_rc 2
expect_err "runs/a/run.h5 exists and is not a midge predictions file"
cmp -s keep.h5 runs/a/model.h5 || fail "predict changed the model file"
run "$MIDGE" predict --model runs/a/model.h5 --input new --out p2.csv --top-k 2
expect_rc 1  # the same outputs again: an earlier prediction may be replaced
run "$MIDGE" predict --model runs/a/run.h5 --input new --out bad.csv
expect_rc 1
expect_err "is not a midge model file"

# gradcam: heatmaps in [0,1] and overlay PNGs that decode.
run "$MIDGE" gradcam --model runs/a/model.h5 --input S/Dentimentum_alpha --out cam.h5 --png overlays --layer layer3
expect_rc 0
expect_out "heatmaps of 10 images"
/usr/bin/python3 -c "
import h5py, numpy as np, sys
m = h5py.File('cam.h5')['gradcam/heatmaps'][:]
sys.exit(0 if m.shape == (10, 32, 32) and m.min() >= 0 and m.max() <= 1 and m.max() > 0 else 1)" || fail "heatmaps"
[ "$(ls overlays/*.png | wc -l)" -eq 10 ] || fail "overlay PNGs"
/usr/bin/python3 -c "
from PIL import Image; import glob
for p in glob.glob('overlays/*.png'):
    assert Image.open(p).size == (32, 32)" || fail "overlays do not decode"
CHECKS=$((CHECKS + 3))

# collect: two seeds form one group; a failed run is skipped with a line;
# each run's calibration error is reported and kept in summary.h5.
mkdir -p runs/failed && cp runs/a/run.h5 runs/failed/run.h5
/usr/bin/python3 -c "
import h5py
with h5py.File('runs/failed/run.h5', 'r+') as f:
    f.attrs['status'] = 'failed'; f.attrs['error'] = 'loss is NaN'"
$H5 reseal runs/failed/run.h5
run "$MIDGE" collect runs --out summary.h5 --taxonomy S/taxonomy.csv
expect_rc 0
expect_out "skipped runs/failed/run.h5: failed (loss is NaN)"
expect_out "group 1: 2 run(s) (seeds 1 2)"
expect_out "accuracy at genus level"
expect_out "accuracy at subfamily level"
expect_out "expected calibration error "
expect_out "after temperature scaling (2 of 2 runs record it)"
/usr/bin/python3 - <<'PY' || fail "summary.h5 ece_before does not match the runs' run.h5"
import h5py
s = h5py.File("summary.h5", "r")
g = next(iter(s["groups"].values())) if "groups" in s else None
assert g is not None, list(s.keys())
for path, ece in zip(g["runs"][()], g["ece_before"][()]):
    run = h5py.File(path.decode() if isinstance(path, bytes) else path, "r")
    assert ece == run["eval/calibration/ece_before"][()], (path, ece)
PY
[ -f summary.csv ] || fail "summary.csv"
[ "$(tail -n +2 summary.csv | wc -l)" -eq 6 ] || fail "summary.csv rows (2 runs x 3 taxa)"
CHECKS=$((CHECKS + 2))
run "$MIDGE" collect nowhere
expect_rc 2
done_ok
