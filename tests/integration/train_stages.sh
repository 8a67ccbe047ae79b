#!/usr/bin/env bash
# Two-stage semantics through the real binary: the final evaluation's
# calibration (temperature, reliability table) agrees with its stored
# probabilities; stage 1 changes only the head
# (every backbone parameter and BatchNorm buffer bitwise unchanged), stage 2
# changes the backbone; a NaN loss fails the run with a readable run.h5; a
# checkpoint for another set of taxa is refused.
source "$(dirname "$0")/lib.sh"
cd "$WORK"
H5="/usr/bin/python3 $SRC/tests/integration/h5tool.py"
"$MIDGE" synth --out S --classes 3 --per-class 10 --size 48 >/dev/null || fail "synth"
common=(--set data.root=S --set data.image_size=32 --set model.arch=resnet18 --set data.workers=1
        --set stage1.batch_size=8 --set stage2.batch_size=8 --set run.threads=1)

# A starting model to compare against: stage 2 for one epoch from scratch.
run "$MIDGE" train "${common[@]}" --set stage1.epochs=0 --set stage2.epochs=1 --out base
expect_rc 0
expect_out "validation, per taxon:"
[ -f base/model.h5 ] || fail "no model.h5"
[ "$($H5 attr base/run.h5 status)" = complete ] || fail "status not complete"
CHECKS=$((CHECKS + 2))

# Calibration of the final evaluation: a fitted temperature (also in
# model.h5), and the 15-bin
# table and expected calibration error, which must match what the stored
# per-image probabilities give when recomputed here.
expect_err "calibration: temperature "
/usr/bin/python3 - base/run.h5 <<'PY' || fail "eval/calibration does not match eval/probabilities"
import math, sys
import h5py
f = h5py.File(sys.argv[1], "r")
c = f["eval/calibration"]
t = float(c["temperature"][()])
assert 0.01 <= t <= 100, t
assert h5py.File(sys.argv[1].replace("run.h5", "model.h5"), "r").attrs["temperature"] == t
p, y = f["eval/probabilities"][()], f["eval/labels"][()]
bins = 15
count, conf, hit = [0] * bins, [0.0] * bins, [0] * bins
for row, label in zip(p, y):
    top = int(row.argmax())
    k = min(bins - 1, max(0, math.ceil(float(row[top]) * bins) - 1))
    count[k] += 1
    conf[k] += float(row[top])
    hit[k] += top == label
ece = sum(abs(hit[k] / count[k] - conf[k] / count[k]) * count[k] / len(y) for k in range(bins) if count[k])
assert list(c["bins/count_before"][()]) == count, (list(c["bins/count_before"][()]), count)
assert abs(float(c["ece_before"][()]) - ece) < 1e-4, (float(c["ece_before"][()]), ece)
assert sum(c["bins/count_after"][()]) == len(y)
assert 0 <= float(c["ece_after"][()]) <= 1
print(f"temperature {t:.3f}, ECE {ece:.4f} -> {float(c['ece_after'][()]):.4f}")
PY
CHECKS=$((CHECKS + 2))

# Stage 1 only, from base/model.h5: only fc.* may change.
run "$MIDGE" train "${common[@]}" --set model.pretrained=base/model.h5 --set stage1.epochs=2 \
  --set stage2.epochs=0 --out s1
expect_rc 0
changed=$($H5 changed base/model.h5 s1/model.h5)
[ "$changed" = "$(printf 'fc.bias\nfc.weight')" ] || fail "stage 1 changed more than the head: $changed"
CHECKS=$((CHECKS + 1))

# Stage 2 only: the backbone changes too.
run "$MIDGE" train "${common[@]}" --set model.pretrained=base/model.h5 --set stage1.epochs=0 \
  --set stage2.epochs=1 --out s2
expect_rc 0
changed=$($H5 changed base/model.h5 s2/model.h5)
grep -q '^conv1.weight$' <<<"$changed" || fail "stage 2 left conv1.weight unchanged"
grep -q '^layer4.1.bn2.running_mean$' <<<"$changed" || fail "stage 2 left BN statistics unchanged"
CHECKS=$((CHECKS + 2))

# A second run into a complete folder does nothing.
run "$MIDGE" train "${common[@]}" --set model.pretrained=base/model.h5 --set stage1.epochs=0 \
  --set stage2.epochs=1 --out s2
expect_rc 0
expect_out "already holds a complete run"

# NaN loss: a damaged pretrained checkpoint (a negative BatchNorm variance,
# finite but invalid) makes the frozen backbone produce NaN.
cp base/model.h5 damaged.h5
/usr/bin/python3 -c "
import h5py
with h5py.File('damaged.h5', 'r+') as f:
    f['weights/layer1.0.bn1.running_var'][0] = -5.0
"
# As edited, the file no longer matches its seal: refused by name, exit 2,
# nothing trained.
run "$MIDGE" train "${common[@]}" --set model.pretrained=damaged.h5 --set stage1.epochs=2 \
  --set stage2.epochs=0 --out edited
expect_rc 2 "an edited model.pretrained"
expect_err "damaged.h5 is corrupt: dataset /weights/layer1.0.bn1.running_var does not match its CRC-32"
[ ! -e edited/model.h5 ] || fail "a model was trained from a corrupt checkpoint"
CHECKS=$((CHECKS + 1))
# Sealed again, as if midge had written these values: the NaN path.
$H5 reseal damaged.h5
run "$MIDGE" train "${common[@]}" --set model.pretrained=damaged.h5 --set stage1.epochs=2 \
  --set stage2.epochs=0 --out nan
expect_rc 1
expect_err "in stage 1, epoch"
grep -qE "loss is NaN in stage 1, epoch 1, batch 1 on rank 0" <<<"$ERR" || fail "NaN message"
[ "$($H5 attr nan/run.h5 status)" = failed ] || fail "NaN run not marked failed"
$H5 attr nan/run.h5 error | grep -q "loss is" || fail "error not recorded in run.h5"
CHECKS=$((CHECKS + 3))

# A checkpoint written for 3 taxa is refused when the data now has 4.
run "$MIDGE" train "${common[@]}" --set stage1.epochs=1 --set stage2.epochs=2 --out grow
expect_rc 0
rm grow/run.h5  # pretend the run was interrupted after its last checkpoint
"$MIDGE" synth --out S4 --classes 4 --per-class 10 --size 48 >/dev/null
mv S S3 && mv S4 S
run "$MIDGE" train "${common[@]}" --set stage1.epochs=1 --set stage2.epochs=2 --out grow
expect_rc 1
expect_err "grow/state.h5 was written for other taxa (only in the checkpoint: (none); only in this run: "
done_ok
