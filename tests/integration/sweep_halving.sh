#!/usr/bin/env bash
# Successive halving (sweep.halving, rate 3) on 9 trials in one process:
# the trials stopped at each rung are those an independent simulation of the
# rule in docs/sweeps.md stops, given the rung scores in the journal; the
# same sweep SIGKILLed between rungs and rerun makes exactly the same
# decisions (states, promotions and rung scores equal to the uninterrupted
# sweep's), also when killed the moment a trial pauses at a rung.
source "$(dirname "$0")/lib.sh"
cd "$WORK"
H5="/usr/bin/python3 $SRC/tests/integration/h5tool.py"
"$MIDGE" synth --out S --classes 3 --per-class 8 --size 48 --seed 5 >/dev/null || fail "synth"
base=(--set data.root="$WORK/S" --set data.image_size=32 --set model.arch=resnet18
      --set data.workers=1 --set stage1.epochs=6 --set stage2.epochs=2 --set stage1.batch_size=8
      --set stage2.batch_size=8 --set stage1.early_stop_patience=0
      --set stage2.early_stop_patience=0 --set run.deterministic=true --set run.threads=1
      --set gradcam.max_images=0 --set sweep.halving=true --set sweep.halving_rate=3
      --set sweep.rung_epochs=1)
printf '[grid]\nstage2.lr = 0.0001, 0.0003, 0.001\nmodel.dropout = 0.1, 0.3, 0.5\n' > nine.ini
mapfile -t id < <(sweep_ids nine.ini "${base[@]}")
[ ${#id[@]} -eq 9 ] || fail "expected 9 trials: ${id[*]}"

run timeout 600 "$MIDGE" sweep "${base[@]}" --sweep nine.ini --out h1
expect_rc 0 "halving sweep"
expect_out "stopped by halving"
expect_err "at rung 0: val acc"
/usr/bin/python3 - <<'PY' || fail "halving decisions"
import h5py

with h5py.File("h1/sweep.h5", "r") as f:
    acc = f["trials/rung_accuracy"][:]
    loss = f["trials/rung_loss"][:]
    rate = int(f.attrs["halving_rate"])
    got_state = [s.decode() for s in f["trials/state"][:]]
    got_promoted = [int(p) for p in f["trials/promoted"][:]]
    got_rung = [int(r) for r in f["trials/rung"][:]]
n, rungs = acc.shape
assert (n, rungs, rate) == (9, 2, 3), (n, rungs, rate)

# The rule, simulated for one group taking trials in order.
state = ["pending"] * n
promoted = [0] * n
known = [[False] * rungs for _ in range(n)]

def ranked(k):
    reached = [i for i in range(n) if known[i][k]]
    return sorted(reached, key=lambda i: (-acc[i][k], loss[i][k], i))

def next_trial():
    for k in reversed(range(rungs)):
        r = ranked(k)
        for i in r[: len(r) // rate]:
            if state[i] == "paused" and promoted[i] == k:
                return i
    return next((i for i in range(n) if state[i] == "pending"), None)

while (i := next_trial()) is not None:
    if state[i] == "paused":
        promoted[i] += 1
    state[i] = "running"
    while promoted[i] < rungs:
        k = promoted[i]
        assert acc[i][k] >= 0, f"trial {i} has no score at rung {k}"
        known[i][k] = True
        state[i] = "paused"
        if next_trial() != i:
            break
        promoted[i] += 1
        state[i] = "running"
    if state[i] == "running":
        state[i] = "complete"
state = ["stopped" if s == "paused" else s for s in state]
rung = [max([k for k in range(rungs) if known[i][k]], default=-1) for i in range(n)]
assert got_state == state, (got_state, state)
assert got_promoted == promoted, (got_promoted, promoted)
assert got_rung == rung, (got_rung, rung)
# Never reached rungs carry no score; every trial was ranked at rung 0.
for i in range(n):
    for k in range(rungs):
        assert (acc[i][k] >= 0) == known[i][k], (i, k)
assert state.count("stopped") >= 3 and state.count("complete") >= 1, state
print("stopped at rung 0:", sum(1 for i in range(n) if state[i] == "stopped" and rung[i] == 0),
      "at rung 1:", sum(1 for i in range(n) if state[i] == "stopped" and rung[i] == 1),
      "complete:", state.count("complete"))
PY
CHECKS=$((CHECKS + 4))
for i in 0 1 2 3 4 5 6 7 8; do
  s=$($H5 get h1/sweep.h5 trials/state | cut -d' ' -f$((i + 1)))
  [ "$s" != stopped ] || [ "$($H5 attr "h1/trials/${id[$i]}/run.h5" status)" = stopped ] ||
    fail "run.h5 of stopped trial ${id[$i]} does not say stopped"
done
CHECKS=$((CHECKS + 1))

# Killed while trial 5 trains stage 1 (trials 1-3 have met rung 0, one of
# them rung 1), then rerun. Every epoch writes state.h5 here
# (run.checkpoint_seconds=0): the kill waits for trial 5's first.
"$MIDGE" sweep "${base[@]}" --set run.checkpoint_seconds=0 --sweep nine.ini --out h2 > h2.log 2>&1 &
pid=$!
wait_for_checkpoint "h2/trials/${id[4]}/state.h5" 1 1 "$pid"
kill -9 "$pid" || fail "the sweep ended before it could be killed"
wait "$pid"
grep -q "at rung 1" h2.log || fail "no trial reached rung 1 before the kill"
run timeout 600 "$MIDGE" sweep "${base[@]}" --set run.checkpoint_seconds=0 --sweep nine.ini --out h2
expect_rc 0 "resumed halving sweep"
expect_err "resuming from h2/trials/${id[4]}/state.h5: stage 1"
for d in trials/state trials/promoted trials/rung trials/rung_accuracy trials/rung_loss; do
  $H5 same h1/sweep.h5 h2/sweep.h5 "$d" || fail "$d differs between the resumed and the uninterrupted sweep"
done
CHECKS=$((CHECKS + 2))

# Killed the moment the fourth pause at a rung is logged (the journal says
# paused; the trial's state.h5 may or may not be written yet), then rerun:
# the same decisions again.
"$MIDGE" sweep "${base[@]}" --sweep nine.ini --out h3 > h3.log 2>&1 &
pid=$!
deadline=$(( $(date +%s) + 120 ))
until [ "$(grep -c "at rung [0-9]*: .*; paused" h3.log)" -ge 4 ]; do
  kill -0 "$pid" || fail "the sweep ended before its fourth pause"
  [ "$(date +%s)" -lt "$deadline" ] || fail "no fourth pause within 120 s"
  sleep 0.02
done
kill -9 "$pid" || fail "the sweep ended before it could be killed"
wait "$pid"
run timeout 600 "$MIDGE" sweep "${base[@]}" --sweep nine.ini --out h3
expect_rc 0 "resumed after a kill at a rung"
for d in trials/state trials/promoted trials/rung trials/rung_accuracy trials/rung_loss; do
  $H5 same h1/sweep.h5 h3/sweep.h5 "$d" || fail "$d differs after a kill at a rung"
done
CHECKS=$((CHECKS + 1))
done_ok
