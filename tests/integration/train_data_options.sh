#!/usr/bin/env bash
# [data] options that change what training sees, end to end through
# `midge train`: data.level relabels species folders at a higher level,
# data.manifest replaces the folder scan (its split, not the every-fifth
# rule), and data.balance reaches the loss (oversample: every taxon as often
# as the largest per epoch; weighted: a class-weighted loss).
source "$(dirname "$0")/lib.sh"
cd "$WORK"
"$MIDGE" synth --out S --classes 3 --per-class 15 --size 48 --seed 6 >/dev/null || fail "synth"
# Imbalance: the first taxon keeps 5 of its 15 images (4 train, 1 val).
first=$(find S -mindepth 1 -maxdepth 1 -type d | sort | head -1)
find "$first" -name '*.png' | sort | tail -n 10 | xargs rm
common=(train --set data.image_size=32 --set model.arch=resnet18 --set data.workers=1
        --set stage1.epochs=1 --set stage2.epochs=0 --set stage1.batch_size=4
        --set run.deterministic=true --set run.threads=1 --set gradcam.max_images=0)
py() { /usr/bin/python3 -c "import h5py, sys; f = h5py.File(sys.argv[1], 'r'); $1" "$2"; }

# --- data.level: subfamily labels from the species folders.
run "$MIDGE" "${common[@]}" --set data.root=S --set data.taxonomy=S/taxonomy.csv \
  --set data.level=subfamily --out level
expect_rc 0 "training at subfamily level"
classes=$(py "[print(c.decode()) for c in f['classes'][:]]" level/run.h5)
[ "$classes" = "$(tail -n +2 S/taxonomy.csv | cut -d, -f3 | sort -u)" ] \
  || fail "classes at subfamily level: $classes"
# Every validation image carries its folder's subfamily.
/usr/bin/python3 - <<'PY' || fail "labels at subfamily level do not follow taxonomy.csv"
import csv, h5py, os
sub = {r["species"]: r["subfamily"] for r in csv.DictReader(open("S/taxonomy.csv"))}
f = h5py.File("level/run.h5", "r")
classes = [c.decode() for c in f["classes"][:]]
for p, l in zip(f["split/val/paths"][:], f["split/val/labels"][:]):
    folder = os.path.basename(os.path.dirname(p.decode()))
    assert classes[l] == sub[folder], (p, classes[l])
PY
CHECKS=$((CHECKS + 2))

# --- data.manifest: its own split, without data.root.
"$MIDGE" split --data S --out m.csv >/dev/null || fail "split --out"
# Move the first validation row to train and drop the last row entirely.
/usr/bin/python3 - <<'PY'
rows = open("m.csv").read().splitlines()
header, body = rows[0], rows[1:]
i = next(k for k, r in enumerate(body) if r.endswith(",val"))
body[i] = body[i][: -len(",val")] + ",train"
open("m.csv", "w").write("\n".join([header] + body[:-1]) + "\n")
PY
run "$MIDGE" "${common[@]}" --set data.manifest=m.csv --out manifest
expect_rc 0 "training from a manifest"
/usr/bin/python3 - <<'PY' || fail "run.h5's split is not the manifest's"
import csv, h5py, os
rows = list(csv.DictReader(open("m.csv")))
want = {s: sorted(os.path.abspath(r["path"]) for r in rows if r["split"] == s) for s in ("train", "val")}
f = h5py.File("manifest/run.h5", "r")
for s in ("train", "val"):
    got = sorted(os.path.abspath(p.decode()) for p in f[f"split/{s}/paths"][:])
    assert got == want[s], (s, len(got), len(want[s]))
PY
CHECKS=$((CHECKS + 1))

# --- data.balance: what the loss sees.
for b in none oversample weighted; do
  run "$MIDGE" "${common[@]}" --set data.root=S --set data.balance=$b --out bal_$b
  expect_rc 0 "data.balance=$b"
  cp "$WORK/stderr" "bal_$b.log"
done
# 4 + 12 + 12 training images; oversampling draws 3 x 12 per epoch.
grep -q "stage 1: 28 training images per epoch (balance none)" bal_none.log || fail "none: $(cat bal_none.log)"
grep -q "stage 1: 36 training images per epoch (balance oversample)" bal_oversample.log \
  || fail "oversample: $(cat bal_oversample.log)"
grep -q "stage 1: 28 training images per epoch (balance weighted)" bal_weighted.log \
  || fail "weighted: $(cat bal_weighted.log)"
loss() { py "print(f['stage1/history/train_loss'][0])" "$1/run.h5"; }
[ "$(loss bal_none)" != "$(loss bal_weighted)" ] || fail "weighted loss equals the plain loss"
[ "$(loss bal_none)" != "$(loss bal_oversample)" ] || fail "oversampled loss equals the plain loss"
CHECKS=$((CHECKS + 5))
done_ok
