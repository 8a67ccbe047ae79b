#!/usr/bin/env bash
# A corpus of awkward and broken files (tests/integration/bad_inputs.py) in a
# taxon folder goes through train, predict and gradcam: every readable image
# is used, every unreadable one is listed with its path and reason, folders
# and symlink loops are never taken for images, and nothing crashes or hangs.
source "$(dirname "$0")/lib.sh"
cd "$WORK"
H5="/usr/bin/python3 $SRC/tests/integration/h5tool.py"
"$MIDGE" synth --out S --classes 3 --per-class 10 --size 48 --seed 5 >/dev/null || fail "synth"
taxon=$(find S -mindepth 1 -maxdepth 1 -type d | sort | head -1)
/usr/bin/python3 "$SRC/tests/integration/bad_inputs.py" "$taxon" >corpus.txt || fail "corpus"
ln -s rootloop S/rootloop  # a symlink loop beside the taxon folders
mapfile -t readable < <(awk '$2 == "readable" {print $1}' corpus.txt)
mapfile -t unreadable < <(awk '$2 == "unreadable" {print $1}' corpus.txt)
[ ${#readable[@]} -eq 6 ] && [ ${#unreadable[@]} -eq 5 ] || fail "corpus: $(cat corpus.txt)"

# --- train: readable corpus images in the split, unreadable ones in /data/skipped.
run timeout 600 "$MIDGE" train --set data.root=S --set data.image_size=32 --set model.arch=resnet18 \
  --set data.workers=2 --set stage1.epochs=1 --set stage2.epochs=1 --set stage1.batch_size=8 \
  --set stage2.batch_size=8 --set gradcam.max_images=40 --set data.max_bad_fraction=0.5 \
  --set run.threads=1 --out run
expect_rc 0 "training with a corpus of bad inputs"
expect_err "ignoring $taxon/loop.jpg: Too many levels of symbolic links"
expect_err "ignoring $taxon/folder.jpg: named like an image, but not a file"
expect_err "ignoring S/rootloop: Too many levels of symbolic links"
split=$($H5 get run/run.h5 split/train/paths; $H5 get run/run.h5 split/val/paths)
skipped=$($H5 get run/run.h5 data/skipped)
reasons=$(/usr/bin/python3 -c "
import h5py
f = h5py.File('run/run.h5', 'r')
for p, r in zip(f['data/skipped'][:], f['data/skipped_reasons'][:]):
    print(p.decode(), '|', r.decode())")
for f in "${readable[@]}"; do
  grep -q "$taxon/$f" <<<"$split" || fail "readable $f not in the split"
  ! grep -q "$f" <<<"$skipped" || fail "readable $f was skipped: $reasons"
done
for f in "${unreadable[@]}"; do
  grep -q "^$taxon/$f | .*$f" <<<"$reasons" || fail "unreadable $f not listed with a reason naming it: $reasons"
done
for f in folder.jpg loop.jpg; do
  ! grep -q "$f" <<<"$split" || fail "$f taken for an image"
done
[ "$(wc -l <<<"$reasons")" -eq 5 ] || fail "expected 5 skipped images: $reasons"
CHECKS=$((CHECKS + 4))

# --- predict: the readable six identified, the unreadable five and the loop listed.
run timeout 300 "$MIDGE" predict --model run/model.h5 --input "$taxon" --out pred.csv
expect_rc 1 "predict with unreadable inputs"
expect_out "identified $((10 + 6)) of $((10 + 6 + 5 + 1)) images"
for f in "${readable[@]}"; do
  grep -q "^$taxon/$f,1," pred.csv || fail "readable $f not identified: $(cat pred.csv)"
done
for f in "${unreadable[@]}" loop.jpg; do
  grep -q "^$taxon/$f,,,,.*$f" pred.csv || fail "$f not listed with a reason: $(grep "$f" pred.csv)"
done
! grep -q "folder.jpg" pred.csv || fail "a folder was taken for an image"
CHECKS=$((CHECKS + 3))

# --- gradcam: heatmaps of the readable, the rest reported by name.
run timeout 300 "$MIDGE" gradcam --model run/model.h5 --input "$taxon" --out cam.h5
expect_rc 1 "gradcam with unreadable inputs"
expect_out "heatmaps of 16 images"
for f in "${unreadable[@]}" loop.jpg; do expect_err "$f"; done
[ "$($H5 get cam.h5 gradcam/paths | wc -w)" -eq 16 ] || fail "gradcam paths"
CHECKS=$((CHECKS + 1))
done_ok
