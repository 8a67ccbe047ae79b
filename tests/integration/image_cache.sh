#!/usr/bin/env bash
# data.cache: training with the memory or file cache gives bitwise the run
# without one; the file cache's parts are read by the next run (nothing
# decoded) and a changed image is decoded again (the run equals an uncached
# run on the changed data); a sweep's trials share `<out>/cache`.
source "$(dirname "$0")/lib.sh"
cd "$WORK"
H5="/usr/bin/python3 $SRC/tests/integration/h5tool.py"
"$MIDGE" synth --out S --classes 3 --per-class 8 --size 96x64 --format jpg --seed 4 >/dev/null ||
  fail "synth"
base=(--set data.root="$WORK/S" --set data.image_size=32 --set model.arch=resnet18
      --set data.workers=2 --set stage1.epochs=1 --set stage2.epochs=2 --set stage1.batch_size=8
      --set stage2.batch_size=8 --set run.deterministic=true --set run.threads=1
      --set gradcam.max_images=2 --set augment.rotate_deg=10 --set augment.elastic_alpha=1)
# same A B: run.h5 results and model weights bitwise equal.
same() {
  $H5 same "$1/run.h5" "$2/run.h5" eval/probabilities stage1/history/train_loss \
    stage2/history/train_loss stage2/history/val_loss gradcam/heatmaps ||
    fail "$2 differs from $1"
  [ -z "$($H5 changed "$1/model.h5" "$2/model.h5")" ] || fail "$2 weights differ from $1"
  CHECKS=$((CHECKS + 2))
}
images=$(find S -name '*.jpg' | wc -l)

run timeout 300 "$MIDGE" train "${base[@]}" --out plain
expect_rc 0 "no cache"
run timeout 300 "$MIDGE" train "${base[@]}" --set data.cache=memory --out mem
expect_rc 0 "memory cache"
expect_err "image cache: $images decoded"
same plain mem

run timeout 300 "$MIDGE" train "${base[@]}" --set data.cache=file --out f1
expect_rc 0 "file cache, first run"
same plain f1
parts=$(find f1/cache -name 'part-*.h5' | wc -l)
[ "$parts" -ge 1 ] || fail "no part file in f1/cache"
CHECKS=$((CHECKS + 1))

# The next run finds every image decoded.
run timeout 300 "$MIDGE" train "${base[@]}" --set data.cache=file \
  --set data.cache_dir="$WORK/f1/cache" --out f2
expect_rc 0 "file cache, second run"
expect_err "image cache (file): $images image(s) held"
! grep -q "image cache: [1-9][0-9]* decoded" <<<"$ERR" || fail "the second run decoded images: $ERR"
same plain f2

# One image replaced by another picture: decoded again, and the run is the
# uncached run on the changed data.
first=$(find S -name '*.jpg' | sort | head -1)
second=$(find S -name '*.jpg' | sort | tail -1)
cp "$second" "$first"
run timeout 300 "$MIDGE" train "${base[@]}" --out plain2
expect_rc 0
run timeout 300 "$MIDGE" train "${base[@]}" --set data.cache=file \
  --set data.cache_dir="$WORK/f1/cache" --out f3
expect_rc 0 "file cache after a change"
expect_err "image cache: 1 decoded"
same plain2 f3

# A sweep: trials share <out>/cache; the second trial decodes nothing.
printf '[grid]\nstage2.lr = 0.0001, 0.0003\n' > two.ini
run timeout 300 "$MIDGE" sweep "${base[@]}" --set data.cache=file --sweep two.ini --out sw
expect_rc 0 "cached sweep"
[ -n "$(find sw/cache -name 'part-*.h5')" ] || fail "no part in the sweep's cache"
[ "$(grep -c "image cache: $images decoded" <<<"$ERR")" -eq 1 ] || fail "images decoded more than once: $ERR"
CHECKS=$((CHECKS + 2))
done_ok
