#!/usr/bin/env bash
# `midge verify` on a complete sweep folder: every file ok, exit 0; one
# flipped byte in one trial's model.h5 weights: that file (and the dataset)
# named corrupt, exit 1; a file of an older midge: "old", exit 1; a missing
# path: exit 2.
source "$(dirname "$0")/lib.sh"
cd "$WORK"
H5="/usr/bin/python3 $SRC/tests/integration/h5tool.py"
"$MIDGE" synth --out S --classes 3 --per-class 6 --size 32 --seed 4 >/dev/null || fail "synth"
base=(--set data.root=S --set data.image_size=32 --set model.arch=resnet18 --set data.workers=0
      --set stage1.epochs=1 --set stage2.epochs=1 --set stage1.batch_size=6 --set stage2.batch_size=6
      --set run.threads=1 --set gradcam.max_images=2)
printf '[grid]\nstage2.lr = 0.0001, 0.0003\n' > spec.ini
run "$MIDGE" sweep "${base[@]}" --sweep spec.ini --out sw
expect_rc 0 "the sweep"
total=$(find sw -name '*.h5' | wc -l)
[ "$total" -ge 7 ] || fail "expected the journal, summary and 3 files per trial, found $total"

run "$MIDGE" verify sw
expect_rc 0 "verify of a whole sweep folder"
[ "$(grep -c '^ok ' <<<"$OUT")" -eq "$total" ] || fail "not every file ok:
$OUT"
expect_out "verify: $total file(s): $total ok, 0 corrupt, 0 old format"
expect_out "sw/sweep.h5 (midge-sweep"

# One flipped byte in the middle of one weight tensor of one trial.
victim=$(find sw/trials -name model.h5 | sort | head -1)
/usr/bin/python3 - "$victim" <<'PY' || fail "flipping a byte"
import sys, h5py
with h5py.File(sys.argv[1], "r") as f:
    d = f["weights/layer3.0.conv1.weight"]
    offset, size = d.id.get_offset(), d.id.get_storage_size()
with open(sys.argv[1], "r+b") as f:
    f.seek(512 + offset + size // 2)  # HDF5 offsets start after midge's 512-byte seal
    b = f.read(1)
    f.seek(-1, 1)
    f.write(bytes([b[0] ^ 0x01]))
PY
run "$MIDGE" verify sw
expect_rc 1 "verify after one flipped byte"
expect_out "corrupt  $victim: dataset /weights/layer3.0.conv1.weight does not match its CRC-32"
[ "$(grep -c '^ok ' <<<"$OUT")" -eq $((total - 1)) ] || fail "the other files should stay ok:
$OUT"
expect_out "verify: $total file(s): $((total - 1)) ok, 1 corrupt, 0 old format"
# The same file handed to predict is refused: exit 2.
img=$(find S -name '*.png' | sort | head -1)
run "$MIDGE" predict --model "$victim" --out p.csv "$img"
expect_rc 2 "predict with the corrupt model"
expect_err "$victim is corrupt"

# A file without a seal (as midge wrote before it had one): "old".
$H5 unseal sw/sweep.h5 old.h5
run "$MIDGE" verify old.h5
expect_rc 1 "verify of an unsealed file"
expect_out "old      old.h5: old format without checksums"
run "$MIDGE" verify nowhere
expect_rc 2 "verify of a missing path"
expect_err "nowhere not found"
done_ok
