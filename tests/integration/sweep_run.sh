#!/usr/bin/env bash
# `midge sweep` on one rank group: every trial trains exactly what `midge
# train` with the same parameters trains (bitwise, run.deterministic); a
# trial that fails at run time is recorded in the journal and the others
# complete (exit 1); a rerun redoes nothing; another spec in the same folder
# is refused; a sweep killed mid-trial resumes that trial from its state.h5.
source "$(dirname "$0")/lib.sh"
cd "$WORK"
H5="/usr/bin/python3 $SRC/tests/integration/h5tool.py"
"$MIDGE" synth --out S --classes 3 --per-class 10 --size 48 --seed 2 >/dev/null || fail "synth"
echo "not a model" > bad.h5
base=(--set data.root=S --set data.image_size=32 --set model.arch=resnet18 --set data.workers=1
      --set stage1.epochs=1 --set stage2.epochs=2 --set stage1.batch_size=8 --set stage2.batch_size=8
      --set run.deterministic=true --set run.threads=1 --set gradcam.max_images=2)
# The runs killed after an epoch's state.h5 write one every epoch.
every_epoch=(--set run.checkpoint_seconds=0)
printf '[grid]\nmodel.pretrained = none, bad.h5\nstage2.lr = 0.0001, 0.0003\n' > spec.ini
mapfile -t id < <(sweep_ids spec.ini "${base[@]}")
[ ${#id[@]} -eq 4 ] || fail "expected 4 trials: ${id[*]}"

run timeout 600 "$MIDGE" sweep "${base[@]}" --sweep spec.ini --out sw
expect_rc 1 "two trials fail"
expect_out "2 complete, 2 failed"
expect_err "trial 4/4 model.pretrained=bad.h5,stage2.lr=0.0003 on group 0: FAILED"
/usr/bin/python3 - <<'PY' || fail "journal"
import h5py
f = h5py.File("sw/sweep.h5", "r")
state = [s.decode() for s in f["trials/state"][:]]
err = [e.decode() for e in f["trials/error"][:]]
assert f.attrs["status"] in (b"complete", "complete"), f.attrs["status"]
assert state == ["complete", "complete", "failed", "failed"], state
assert "bad.h5" in err[2] and "bad.h5" in err[3] and err[0] == "", err
assert all(a >= 0 for a in f["trials/accuracy"][:2]), f["trials/accuracy"][:]  # -1: no result
PY
[ -f sw/summary.h5 ] && [ -f sw/summary.csv ] || fail "no summary"
CHECKS=$((CHECKS + 2))

# A complete trial is the run `midge train` makes with its parameters.
run timeout 300 "$MIDGE" train "${base[@]}" --set stage2.lr=0.0003 --out alone
expect_rc 0
$H5 same alone/run.h5 "sw/trials/${id[1]}/run.h5" eval/probabilities eval/confusion \
  stage2/history/train_loss gradcam/heatmaps || fail "trial 2 differs from midge train"
[ -z "$($H5 changed alone/model.h5 "sw/trials/${id[1]}/model.h5")" ] || fail "trial 2 weights differ"
CHECKS=$((CHECKS + 2))

# Rerun: nothing is redone.
cp "sw/trials/${id[0]}/run.h5" first.h5
run timeout 120 "$MIDGE" sweep "${base[@]}" --sweep spec.ini --out sw
expect_rc 1
CHECKS=$((CHECKS + 2))
! grep -q "starting" <<<"$ERR" || fail "a rerun started a trial: $ERR"
cmp -s first.h5 "sw/trials/${id[0]}/run.h5" || fail "a rerun rewrote a complete trial"

# Another spec in the same folder: refused, naming the difference.
printf '[grid]\nmodel.pretrained = none, bad.h5\nstage2.lr = 0.0001, 0.0002\n' > other.ini
run timeout 120 "$MIDGE" sweep "${base[@]}" --sweep other.ini --out sw
expect_rc 2
expect_err "sw/sweep.h5 belongs to another sweep: trials (only in the journal: model.pretrained=none,stage2.lr=0.0003"

# Killed in the middle of trial 2 (after its first stage-2 checkpoint, with
# 7 epochs of stage 2 still to go), then resumed: trial 1 untouched, trial 2
# continues from its state.h5 and ends as an uninterrupted run.
base+=(--set stage2.epochs=8)
printf '[grid]\nstage2.lr = 0.0001, 0.0003\n' > two.ini
mapfile -t id2 < <(sweep_ids two.ini "${base[@]}")
[ ${#id2[@]} -eq 2 ] || fail "expected 2 trials: ${id2[*]}"
"$MIDGE" sweep "${base[@]}" "${every_epoch[@]}" --sweep two.ini --out cut > cut.log 2>&1 &
pid=$!
wait_for_checkpoint "cut/trials/${id2[1]}/state.h5" 2 1 "$pid"
kill -9 "$pid" || fail "the sweep finished before it could be killed"
wait "$pid"
cp "cut/trials/${id2[0]}/run.h5" cut_first.h5
[ "$($H5 get cut/sweep.h5 trials/state)" = "complete running" ] || fail "journal after the kill"
run timeout 300 "$MIDGE" sweep "${base[@]}" "${every_epoch[@]}" --sweep two.ini --out cut
expect_rc 0
expect_err "resuming from cut/trials/${id2[1]}/state.h5: stage 2"
cmp -s cut_first.h5 "cut/trials/${id2[0]}/run.h5" || fail "the resumed sweep rewrote trial 1"
run timeout 300 "$MIDGE" train "${base[@]}" --set stage2.lr=0.0003 --out alone8
expect_rc 0
$H5 same alone8/run.h5 "cut/trials/${id2[1]}/run.h5" eval/probabilities stage2/history/train_loss \
  || fail "the resumed trial differs from an uninterrupted run"
CHECKS=$((CHECKS + 3))

# While a sweep runs, a second job on the same folder is refused: the same
# cut (its part lock is held) and another cut (trials of the running one are
# running) alike; exit 2, nothing taken.
"$MIDGE" sweep "${base[@]}" "${every_epoch[@]}" --sweep two.ini --out busy > busy.log 2>&1 &
pid=$!
wait_for_checkpoint "busy/trials/${id2[0]}/state.h5" 2 1 "$pid"
run timeout 60 "$MIDGE" sweep "${base[@]}" "${every_epoch[@]}" --sweep two.ini --out busy
expect_rc 2 "a second job on a running sweep"
expect_err "busy: another job is running this sweep now (sweep.part-0-of-1.lock is locked)"
run timeout 60 "$MIDGE" sweep "${base[@]}" "${every_epoch[@]}" --sweep two.ini --part 1/2 --out busy
expect_rc 2 "a job cutting a running sweep into parts"
expect_err "trial(s) 1 are running in jobs that split this sweep into 1 part(s)"
kill -9 "$pid" || fail "the first sweep ended before the checks"
wait "$pid"
done_ok
