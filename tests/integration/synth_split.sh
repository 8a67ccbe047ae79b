#!/usr/bin/env bash
# midge synth is deterministic; midge split gives the every-fifth split and
# reports bad folders clearly.
source "$(dirname "$0")/lib.sh"
cd "$WORK"

run "$MIDGE" synth --out S --classes 5 --per-class 40 --size 128 --seed 1
expect_rc 0
expect_out "wrote 200 images of 5 taxa to S"
run "$MIDGE" synth --out S2 --classes 5 --per-class 40 --size 128 --seed 1
expect_rc 0
diff -r S S2 >/dev/null || fail "two runs with the same seed differ"
CHECKS=$((CHECKS + 1))
[ "$(find S -name '*.png' | wc -l)" -eq 200 ] || fail "expected 200 PNGs"
run "$MIDGE" synth --out S3 --classes 5 --per-class 40 --size 128 --seed 2
cmp -s S/Dentimentum_alpha/Dentimentum_alpha_0000.png S3/Dentimentum_alpha/Dentimentum_alpha_0000.png \
  && fail "another seed gave the same image"

run "$MIDGE" split --data S
expect_rc 0
CHECKS=$((CHECKS + 1))
taxa=$(grep -cE '^[A-Z][a-z]+_[a-z]+ +32 +8 +40$' <<<"$OUT")
[ "$taxa" -eq 5 ] || fail "expected 5 taxa with 32 train / 8 val:
$OUT"
expect_out "total (5 taxa)        160      40     200"

# Manifest: header, 200 rows, val rows are the 5th, 10th, ... files.
run "$MIDGE" split --data S --out S.csv
expect_rc 0
[ "$(head -1 S.csv)" = "path,taxon,split" ] || fail "manifest header"
[ "$(tail -n +2 S.csv | wc -l)" -eq 200 ] || fail "manifest rows"
grep -q "Dentimentum_alpha_0004.png,Dentimentum_alpha,val" S.csv || fail "0004 should be val"
grep -q "Dentimentum_alpha_0000.png,Dentimentum_alpha,train" S.csv || fail "0000 should be train"
CHECKS=$((CHECKS + 3))

run "$MIDGE" split --data S --every 4 --offset 0
expect_rc 0
expect_out "total (5 taxa)        150      50     200"

# Non-image files are reported, not dropped silently.
echo "notes" > S/Nodimentum_alpha/notes.txt
run "$MIDGE" split --data S
expect_rc 0
expect_err "Nodimentum_alpha: 1 non-image file(s) skipped"
expect_out "skipped"

# Bad folders: clear errors naming the path.
run "$MIDGE" split --data nowhere
expect_rc 1
expect_err "image folder not found: nowhere"
mkdir -p S/Procladius_empty
run "$MIDGE" split --data S
expect_rc 1
expect_err "taxon folder without images: S/Procladius_empty (empty)"
mkdir -p bare
run "$MIDGE" split --data bare
expect_rc 1
expect_err "no taxon folders in bare"
run "$MIDGE" split --data S --every 5 --offset 5
expect_rc 2
run "$MIDGE" synth --out X --classes 16
expect_rc 2
expect_err "--classes must be in [1, 15]"
done_ok
