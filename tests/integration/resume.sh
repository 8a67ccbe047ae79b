#!/usr/bin/env bash
# Kill -9 mid-epoch, rerun the same command: the run resumes from the last
# completed epoch, and with run.deterministic=true ends with exactly the
# results of an uninterrupted run (which, with run.checkpoint_seconds an hour,
# wrote state.h5 only at the ends of its stages).
source "$(dirname "$0")/lib.sh"
cd "$WORK"
H5="/usr/bin/python3 $SRC/tests/integration/h5tool.py"
"$MIDGE" synth --out S --classes 4 --per-class 20 --size 64 >/dev/null || fail "synth"
args=(train --set data.root=S --set data.image_size=48 --set model.arch=resnet18 --set data.workers=2
      --set stage1.epochs=2 --set stage2.epochs=4 --set stage1.batch_size=8 --set stage2.batch_size=8
      --set stage2.optimizer=adam --set stage2.lr=0.0005 --set stage2.schedule=plateau
      --set stage2.early_stop_patience=3 --set run.deterministic=true --set run.threads=1
      --set run.checkpoint_seconds=0)  # state.h5 every epoch: killed after one

# The reference run spaces its epoch-end state.h5 an hour apart
# (run.checkpoint_seconds): none of its short epochs writes one, only the
# ends of its stages do (the last: stage 3, i.e. both stages done), and
# the results below are still those of the runs that write every epoch.
run "$MIDGE" "${args[@]}" --set run.checkpoint_seconds=3600 --log-level debug --out whole
expect_rc 0
expect_err "state.h5 not written after stage 1 epoch 1: the last is under run.checkpoint_seconds (3600 s) old"
expect_err "state.h5 not written after stage 2 epoch 3: the last is under run.checkpoint_seconds (3600 s) old"
[ "$($H5 get whole/state.h5 stage) $($H5 get whole/state.h5 epoch)" = "3 0" ] ||
  fail "whole/state.h5 is not the end of stage 2's: $($H5 get whole/state.h5 stage)"
[ "$($H5 get whole/state.prev.h5 stage) $($H5 get whole/state.prev.h5 epoch)" = "2 0" ] ||
  fail "whole/state.prev.h5 is not the end of stage 1's (no epoch in between)"
CHECKS=$((CHECKS + 2))

# Interrupted run: killed as soon as its first checkpoint of stage 2 is on
# disk, i.e. in the middle of stage 2's second epoch.
"$MIDGE" "${args[@]}" --out cut > cut.log 2>&1 &
pid=$!
wait_for_checkpoint cut/state.h5 2 1 "$pid"
kill -9 "$pid" || fail "the run finished before it could be killed"
wait "$pid"
rc=$?
[ $rc -eq 137 ] || fail "the killed run exited $rc, not 137 (SIGKILL)"
CHECKS=$((CHECKS + 1))
[ -f cut/state.h5 ] || fail "no state.h5 after the kill"
[ "$($H5 attr cut/run.h5 status)" = running ] || fail "run.h5 of the killed run should say running"
CHECKS=$((CHECKS + 2))

# The same interrupted run whose newest checkpoint then rots on disk (one
# flipped byte in its weights): resumed from the generation before it,
# saying so, and still bitwise the uninterrupted run.
cp -r cut rot
[ -f rot/state.prev.h5 ] || fail "no state.prev.h5 kept beside state.h5"
/usr/bin/python3 - rot/state.h5 <<'PY' || fail "flipping a byte"
import sys, h5py
with h5py.File(sys.argv[1], "r") as f:
    offset = f["model/layer4.0.conv1.weight"].id.get_offset()
with open(sys.argv[1], "r+b") as f:
    f.seek(512 + offset + 100)  # HDF5 offsets start after midge's 512-byte seal
    b = f.read(1)
    f.seek(-1, 1)
    f.write(bytes([b[0] ^ 0x10]))
PY
run "$MIDGE" "${args[@]}" --out rot
expect_rc 0 "resume with a corrupt state.h5"
expect_err "rot/state.h5 is corrupt: dataset /model/layer4.0.conv1.weight does not match its CRC-32"
expect_err "resuming from rot/state.prev.h5"
$H5 same whole/run.h5 rot/run.h5 eval/probabilities eval/confusion eval/predicted \
  stage1/history/train_loss stage2/history/train_loss stage2/history/val_loss stage2/history/lr \
  || fail "results resumed from state.prev.h5 differ from the uninterrupted run"
[ -z "$($H5 changed whole/model.h5 rot/model.h5)" ] || fail "weights resumed from state.prev.h5 differ"
CHECKS=$((CHECKS + 3))

run "$MIDGE" "${args[@]}" --out cut
expect_rc 0
expect_err "resuming from cut/state.h5: stage 2"
[ "$($H5 attr cut/run.h5 status)" = complete ] || fail "resumed run not complete"
ls cut | grep -q tmp && fail "a temporary file of the killed run was left behind: $(ls cut)"
$H5 same whole/run.h5 cut/run.h5 eval/probabilities eval/confusion eval/predicted \
  stage1/history/train_loss stage2/history/train_loss stage2/history/val_loss stage2/history/lr \
  || fail "resumed results differ from the uninterrupted run"
[ -z "$($H5 changed whole/model.h5 cut/model.h5)" ] || fail "resumed weights differ"
CHECKS=$((CHECKS + 3))

# Another configuration in the same folder is refused, naming the key.
rm cut/run.h5
run "$MIDGE" "${args[@]}" --set stage2.lr=0.001 --out cut
expect_rc 1
expect_err "belongs to a run with another configuration: stage2.lr (0.0005 -> 0.001)"

# Same number of taxa under other names: refused, listing the differences.
first=$(find S -mindepth 1 -maxdepth 1 -type d | sort | head -1)
mv "$first" S/Zzz_renamed
run "$MIDGE" "${args[@]}" --out cut
expect_rc 1
expect_err "was written for other taxa (only in the checkpoint: $(basename "$first"); only in this run: Zzz_renamed)"
done_ok
