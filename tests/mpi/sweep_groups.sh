#!/usr/bin/env bash
# `mpiexec -n 4 midge sweep --ranks-per-trial 2`: two rank groups take the
# trials of a 4-trial grid dynamically. Every trial runs exactly once and
# completes, bitwise equal to the same configuration trained alone under
# `mpiexec -n 2 midge train`; a trial made to fail on every rank of its group
# (a pretrained file that is not a model) is recorded and the other three
# complete (exit 1); the whole sweep SIGKILLed mid-trial and rerun leaves
# finished trials untouched and resumes the interrupted ones.
source "$(dirname "$0")/../integration/lib.sh"
cd "$WORK"
MPIEXEC=${MPIEXEC:-mpiexec}
H5="/usr/bin/python3 $SRC/tests/integration/h5tool.py"
"$MIDGE" synth --out S --classes 3 --per-class 8 --size 48 --seed 3 >/dev/null || fail "synth"
echo "not a model" > bad.h5
base=(--set data.root="$WORK/S" --set data.image_size=32 --set model.arch=resnet18
      --set data.workers=1 --set stage1.epochs=1 --set stage2.epochs=2 --set stage1.batch_size=8
      --set stage2.batch_size=8 --set run.deterministic=true --set run.threads=1
      --set gradcam.max_images=2)
# states DIR: the journal's trial states, space-separated.
states() { $H5 get "$1/sweep.h5" trials/state; }

printf '[grid]\nstage2.lr = 0.0001, 0.0003\nmodel.dropout = 0.2, 0.5\n' > grid.ini
mapfile -t id < <(sweep_ids grid.ini "${base[@]}")
[ ${#id[@]} -eq 4 ] || fail "expected 4 trials: ${id[*]}"
run timeout 600 "$MPIEXEC" -n 4 --oversubscribe "$MIDGE" sweep "${base[@]}" --sweep grid.ini \
  --ranks-per-trial 2 --out sw
expect_rc 0 "4 trials on 2 groups of 2"
expect_out "4 complete, 0 failed"
expect_err "sweep of 4 trials on 2 group(s) of 2 rank(s)"
[ "$(states sw)" = "complete complete complete complete" ] || fail "states: $(states sw)"
for i in 0 1 2 3; do
  n=$(grep -c "trial $((i + 1))/4 ${id[$i]} (.*) on group [01]: starting" <<<"$ERR")
  [ "$n" -eq 1 ] || fail "trial ${id[$i]} started $n times"
done
groups=$($H5 get sw/sweep.h5 trials/group)
grep -qw 0 <<<"$groups" && grep -qw 1 <<<"$groups" || fail "both groups should have run trials: $groups"
CHECKS=$((CHECKS + 6))

# Trial 4 (stage2.lr=0.0003, model.dropout=0.5) trained alone on 2 ranks.
slug=$(awk -v id="${id[3]}" '$2 == id {print $3}' table.txt)
[ "$slug" = "stage2.lr=0.0003,model.dropout=0.5" ] || fail "trial 4 is $slug"
run timeout 300 "$MPIEXEC" -n 2 --oversubscribe "$MIDGE" train "${base[@]}" \
  --set stage2.lr=0.0003 --set model.dropout=0.5 --out alone
expect_rc 0 "trial 4 alone"
$H5 same alone/run.h5 "sw/trials/${id[3]}/run.h5" eval/probabilities eval/confusion \
  stage1/history/train_loss stage2/history/train_loss stage2/history/val_loss gradcam/heatmaps ||
  fail "trial 4 differs from mpiexec -n 2 midge train"
[ -z "$($H5 changed alone/model.h5 "sw/trials/${id[3]}/model.h5")" ] || fail "trial 4 weights differ"
CHECKS=$((CHECKS + 2))

# One trial of four fails at run time on both ranks of its group.
printf '[grid]\nmodel.pretrained = none, %s, %s, bad.h5\n' \
  "$WORK/sw/trials/${id[0]}/model.h5" "$WORK/sw/trials/${id[1]}/model.h5" > fails.ini
run timeout 600 "$MPIEXEC" -n 4 --oversubscribe "$MIDGE" sweep "${base[@]}" --sweep fails.ini \
  --ranks-per-trial 2 --out fl
expect_rc 1 "one trial fails"
expect_out "3 complete, 1 failed"
[ "$(states fl)" = "complete complete complete failed" ] || fail "states: $(states fl)"
/usr/bin/python3 - <<'PY' || fail "journal of the failed trial"
import h5py
with h5py.File("fl/sweep.h5", "r") as f:
    err = [e.decode() for e in f["trials/error"][:]]
assert err[:3] == ["", "", ""], err
assert "bad.h5" in err[3] and err[3].startswith("rank 0 (and 1 other rank(s)) failed at building the model: "), err[3]
PY
CHECKS=$((CHECKS + 2))

# Killed as a whole (every process of the job) mid-trial, then rerun: the
# two short trials stay as they were, the long ones resume.
printf '[grid]\nstage2.epochs = 1, 6\nstage2.lr = 0.0001, 0.0003\n' > long.ini
mapfile -t lid < <(sweep_ids long.ini "${base[@]}")
[ ${#lid[@]} -eq 4 ] || fail "expected 4 trials: ${lid[*]}"
setsid "$MPIEXEC" -n 4 --oversubscribe "$MIDGE" sweep "${base[@]}" --set run.checkpoint_seconds=0 \
  --sweep long.ini --ranks-per-trial 2 --out cut > cut.log 2>&1 &
job=$!
wait_for_checkpoint "cut/trials/${lid[2]}/state.h5" 2 1 "$job"
kill -9 -- "-$job" || fail "the sweep ended before it could be killed"
wait "$job"
deadline=$(( $(date +%s) + 60 ))
while pgrep -f "midge sweep --set data.root=$WORK/S " >/dev/null; do
  [ "$(date +%s)" -lt "$deadline" ] || fail "ranks of the killed sweep still run after 60 s"
  sleep 0.1
done
[ "$($H5 get cut/sweep.h5 trials/state | cut -d' ' -f1-3)" = "complete complete running" ] ||
  fail "journal after the kill: $(states cut)"
cp "cut/trials/${lid[0]}/run.h5" first.h5
cp "cut/trials/${lid[1]}/run.h5" second.h5
run timeout 600 "$MPIEXEC" -n 4 --oversubscribe "$MIDGE" sweep "${base[@]}" --set run.checkpoint_seconds=0 \
  --sweep long.ini --ranks-per-trial 2 --out cut
expect_rc 0 "resumed sweep"
expect_err "resuming from cut/trials/${lid[2]}/state.h5: stage 2"
[ "$(states cut)" = "complete complete complete complete" ] || fail "states: $(states cut)"
cmp -s first.h5 "cut/trials/${lid[0]}/run.h5" && cmp -s second.h5 "cut/trials/${lid[1]}/run.h5" ||
  fail "a finished trial was redone"
! grep -q "trial [12]/4 .*: \(starting\|resuming\)" <<<"$ERR" || fail "a finished trial restarted"
CHECKS=$((CHECKS + 3))

# Successive halving on two groups of one rank (rate 2, 6 trials, rungs
# before stage-2 epochs 0 and 1). Which trials a group promotes early
# depends on timing, but at the end, at every rung, the best floor(n / 2) of
# the n trials scored there have gone on, every trial is complete or
# stopped, and a stopped trial stopped at the rung it was not promoted past.
printf '[grid]\nstage2.lr = 0.0001, 0.0003, 0.001\nmodel.dropout = 0.2, 0.5\n' > six.ini
run timeout 600 "$MPIEXEC" -n 2 --oversubscribe "$MIDGE" sweep "${base[@]}" --sweep six.ini \
  --set sweep.halving=true --set sweep.halving_rate=2 --ranks-per-trial 1 --out ha
expect_rc 0 "halving on two groups"
/usr/bin/python3 - <<'PY' || fail "halving invariants on two groups"
import h5py
with h5py.File("ha/sweep.h5", "r") as f:
    state = [s.decode() for s in f["trials/state"][:]]
    promoted = f["trials/promoted"][:]
    rung = f["trials/rung"][:]
    acc = f["trials/rung_accuracy"][:]
    loss = f["trials/rung_loss"][:]
    groups = set(int(g) for g in f["trials/group"][:])
n, rungs = acc.shape
assert (n, rungs) == (6, 2), (n, rungs)
assert groups == {0, 1}, groups
assert set(state) <= {"complete", "stopped"} and "stopped" in state, state
for k in range(rungs):
    reached = sorted((i for i in range(n) if acc[i][k] >= 0), key=lambda i: (-acc[i][k], loss[i][k], i))
    for i in reached[: len(reached) // 2]:
        assert promoted[i] > k, (k, i, promoted[i])
for i in range(n):
    if state[i] == "stopped":
        assert promoted[i] == rung[i], (i, promoted[i], rung[i])
    else:
        assert promoted[i] == rungs, (i, promoted[i])
PY
CHECKS=$((CHECKS + 1))
done_ok
