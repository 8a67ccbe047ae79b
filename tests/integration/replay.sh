#!/usr/bin/env bash
# midge replay (issue #15): a finished tiny run (CPU, run.deterministic =
# true) replayed on the same machine and ranks is bitwise equal, on 1 rank
# and on 2; after one image's pixels change, replay names that image and
# trains nothing, and with --force it trains and reports what differs and
# why. A 2-rank run replayed on 1 rank names the ranks as the cause. A
# schema-1 run.h5 (no image hashes, open set or calibration) is still
# replayed (images unchecked) and collected.
source "$(dirname "$0")/lib.sh"
cd "$WORK"
H5="/usr/bin/python3 $SRC/tests/integration/h5tool.py"
"$MIDGE" synth --out S --classes 3 --per-class 15 --size 48 --seed 3 >/dev/null || fail "synth"
"$MIDGE" synth --out T --classes 3 --per-class 15 --size 48 --seed 9 >/dev/null || fail "synth T"
train=(--set data.root=S --set data.image_size=32 --set model.arch=resnet18 --set stage1.epochs=1
  --set stage2.epochs=2 --set stage1.batch_size=8 --set stage2.batch_size=8
  --set run.deterministic=true --set gradcam.max_images=4 --set data.workers=2 --set run.threads=1
  --set data.taxonomy=S/taxonomy.csv --set data.level=genus)
run "$MIDGE" train "${train[@]}" --out r1
expect_rc 0 "train"
[ "$($H5 get r1/run.h5 split/val/sha256 | wc -w)" -eq 9 ] || fail "run.h5 lacks the validation images' SHA-256"
first=$($H5 get r1/run.h5 split/train/paths | awk '{print $1}')
[ "$($H5 get r1/run.h5 split/train/sha256 | awk '{print $1}')" = "$(sha256sum "$first" | cut -d' ' -f1)" ] \
  || fail "recorded SHA-256 is not sha256sum's"
CHECKS=$((CHECKS + 2))

run "$MIDGE" replay r1 --out p1
expect_rc 0 "replay on the same rank count"
expect_out "images: 45 checked against their recorded SHA-256 (and 1 input files of data.manifest, data.taxonomy, model.pretrained), 0 changed"
expect_out "bitwise equal: all "
grep -q "bitwise equal" p1/replay.txt || fail "no p1/replay.txt"
$H5 same r1/run.h5 p1/run.h5 eval/probabilities eval/confusion stage2/history/val_loss \
  || fail "replay.txt says equal but the probabilities differ"
CHECKS=$((CHECKS + 2))

# The same on two ranks.
run mpiexec -n 2 --oversubscribe "$MIDGE" train "${train[@]}" --out r2
expect_rc 0 "train on 2 ranks"
run mpiexec -n 2 --oversubscribe "$MIDGE" replay r2 --out p2
expect_rc 0 "replay on 2 ranks"
expect_out "bitwise equal: all "
# On one rank the sums run in another order, and the report says so.
run "$MIDGE" replay r2 --out p2b
expect_rc 1 "2-rank run replayed on 1 rank"
expect_out "NOT bitwise equal"
expect_out "ranks: 2 then, 1 now"

# Refuses to write over a run.
run "$MIDGE" replay r1 --out p1
expect_rc 2 "replay into a folder with a run"
expect_err "already holds a run"

# A run.h5 of schema 1: no hashes, open set, calibration or device. Its
# replay checks no images, compares what the old file has, and is equal.
cp -r r1 old
/usr/bin/python3 - old/run.h5 <<'PY' || fail "making a schema-1 file"
import sys, h5py
with h5py.File(sys.argv[1], "r+") as f:
    for p in ("split/train/sha256", "split/val/sha256", "inputs", "eval/open_set", "eval/calibration"):
        del f[p]
    f.attrs["schema_version"] = 1
    del f.attrs["device"]
PY
# Schema-1 files were written before midge sealed its files.
$H5 unseal old/run.h5 old/unsealed.h5 && mv old/unsealed.h5 old/run.h5
run "$MIDGE" collect old r1 --out sum.h5
expect_rc 0 "collect of a schema-1 and a schema-2 run"
expect_err "old/run.h5 has no checksums (written by an older midge or another program): read unchecked"
expect_out "1 of 2 runs record it"
run "$MIDGE" replay old --out p5
expect_rc 0 "replay of a schema-1 run"
expect_out "images: not checked (this run.h5 records no image hashes"
expect_out "the original is of schema 1:"
expect_out "bitwise equal: all "

# One image's pixels change (another synthetic image copied over it).
victim=$($H5 get r1/run.h5 split/val/paths | awk '{print $2}')
cp "$(ls T/*/*.png | sed -n 5p)" "$victim"
run "$MIDGE" replay r1 --out p3
expect_rc 1 "replay after an image changed"
expect_out "1 changed"
expect_out "$victim: content changed"
expect_out "not replayed"
[ ! -e p3/run.h5 ] || fail "trained although an image changed"
CHECKS=$((CHECKS + 1))
run "$MIDGE" replay r1 --out p4 --force
expect_rc 1 "forced replay after an image changed"
expect_out "$victim: content changed"
expect_out "NOT bitwise equal"
expect_out "files changed since the run trained"

# Another file the run read (data.taxonomy, as it trains at data.level =
# genus) changes: named too.
echo "Extra_taxon,Extra,Extrinae" >>S/taxonomy.csv
run "$MIDGE" replay r2 --out p6
expect_rc 1 "replay after data.taxonomy changed"
expect_out "S/taxonomy.csv: content changed"

done_ok
