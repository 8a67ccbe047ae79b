#!/usr/bin/env bash
# k-fold cross-validation (issue #28): a sweep spec's [folds] k = 5 runs
# every configuration once per fold; `midge collect` pools each
# configuration's out-of-fold predictions. Checked against an independent
# computation from the ten run.h5 files (h5py): every image predicted
# exactly once per configuration, and the pooled accuracy = correct
# out-of-fold predictions / images.
source "$(dirname "$0")/lib.sh"
cd "$WORK"
"$MIDGE" synth --out S --classes 3 --per-class 10 --size 32 --seed 6 >/dev/null || fail "synth"
base=(--set data.root=S --set data.image_size=32 --set model.arch=resnet18 --set data.workers=0
  --set stage1.epochs=1 --set stage2.epochs=1 --set stage1.batch_size=8 --set stage2.batch_size=8
  --set run.deterministic=true --set run.threads=1 --set gradcam.max_images=0)
printf '[grid]\nstage2.lr = 0.0001, 0.001\n[folds]\nk = 5\n' >spec.ini
mapfile -t id < <(sweep_ids spec.ini "${base[@]}")
[ ${#id[@]} -eq 10 ] || fail "expected 2 configurations x 5 folds = 10 trials: ${id[*]}"
CHECKS=$((CHECKS + 1))
run timeout 600 "$MIDGE" sweep "${base[@]}" --sweep spec.ini --out sw
expect_rc 0
expect_out "10 complete"

run "$MIDGE" collect sw
expect_rc 0
expect_out "cross-validation: each configuration's folds pooled"
expect_out "configurations by pooled out-of-fold accuracy (5-fold cross-validation"
# With 3 taxa top-3 accuracy is always 100%: not reported.
expect_out "macro-F1 "
grep -q "top-3" <<<"$OUT" && fail "top-3 accuracy reported for 3 taxa:
$OUT"
CHECKS=$((CHECKS + 1))
echo "$OUT" | grep "^out-of-fold accuracy" >oof.txt
[ "$(wc -l <oof.txt)" -eq 2 ] || fail "expected 2 pooled configurations:
$OUT"
CHECKS=$((CHECKS + 1))
/usr/bin/python3 - sw oof.txt <<'EOF' || fail "the pooled figures differ from the run.h5 files"
import glob, h5py, re, sys
pooled = {}
for path in sorted(glob.glob(f"{sys.argv[1]}/trials/*/run.h5")):
    f = h5py.File(path, "r")
    config = f.attrs["config"]
    config = config.decode() if isinstance(config, bytes) else config
    lr = re.search(r"^lr\s*=\s*(\S+)", config.split("[stage2]")[1], re.M).group(1)
    e = f["eval"]
    for p, y, q in zip(e["paths"][()], e["labels"][()], e["predicted"][()]):
        pooled.setdefault(lr, []).append((p.decode(), int(y), int(q)))
images = sorted(glob.glob("S/*/*.png"))
lines = open(sys.argv[2]).read().splitlines()
got = sorted(float(re.search(r"out-of-fold accuracy ([0-9.]+)%", l).group(1)) for l in lines)
want = []
for lr, rows in pooled.items():
    paths = sorted(p for p, _, _ in rows)
    assert len(paths) == len(set(paths)) == len(images), (lr, len(paths), len(set(paths)))
    assert paths == images, "not every image, or not as the folder has them"
    correct = sum(1 for _, y, q in rows if y == q)
    want.append(round(100 * correct / len(rows), 1))
    print(f"stage2.lr {lr}: {len(rows)} images, each once, {correct} right out of fold")
assert got == sorted(want), (got, want)
# The sweep's ranking (summary.h5 /sweep/folds) ranks by the same figures.
ranked = h5py.File(f"{sys.argv[1]}/summary.h5", "r")["sweep/folds/accuracy"][()]
assert [round(100 * a, 1) for a in ranked] == sorted(want, reverse=True), (ranked, want)
# Its per-taxon table (/sweep/best) is the best configuration's pooled
# out-of-fold predictions: every image once, right as counted here.
best = h5py.File(f"{sys.argv[1]}/summary.h5", "r")["sweep/best"]
assert best.attrs["folds"] == 5, best.attrs["folds"]
right_of = {k: sum(1 for _, y, q in rows if y == q) for k, rows in pooled.items()}
lr = best.attrs["parameters"].removeprefix("stage2.lr=")
assert right_of[lr] == max(right_of.values()), (lr, right_of)
assert int(best["support"][()].sum()) == len(images), best["support"][()]
for k in range(3):
    right = sum(1 for _, y, q in pooled[lr] if y == k and q == k)
    assert abs(best["accuracy"][k] - right / 10) < 1e-9, (k, best["accuracy"][k], right)
print("pooled accuracies", got, "; best per taxon", list(best["accuracy"][()]))
EOF
CHECKS=$((CHECKS + 1))

# Copies of one run are not folds: no cross-validation section.
mkdir -p dup/a dup/b
cp "sw/trials/${id[0]}/run.h5" dup/a/ && cp "sw/trials/${id[0]}/run.h5" dup/b/
run "$MIDGE" collect dup
expect_rc 0
grep -q "cross-validation" <<<"$OUT" && fail "two copies of one fold were pooled:
$OUT"
CHECKS=$((CHECKS + 1))

# A manifest fixes the split: [folds] with one is refused before training.
"$MIDGE" split --data S --out m.csv >/dev/null || fail "split"
run "$MIDGE" sweep "${base[@]}" --set data.manifest=m.csv --sweep spec.ini --out refused --dry-run
expect_rc 2
expect_err "[folds] needs data.root: data.manifest (m.csv) fixes the split"

# A configuration with a fold missing is reported, not pooled.
rm -r "sw/trials/${id[2]}"
run "$MIDGE" collect sw
expect_rc 0
expect_out "not pooled: 4 of 5 folds present (missing: 2)"
done_ok
