#!/usr/bin/env bash
# A sweep stopped on request (SIGUSR2) without Slurm: the running trial
# stops at a step boundary inside its epoch and is recorded as interrupted
# (not failed), its run.h5 says interrupted, no other trial starts, the
# journal says interrupted and the command exits 75. Rerunning the same
# command resumes that trial from its next batch, then runs the other, and
# each completes once.
source "$(dirname "$0")/lib.sh"
cd "$WORK"
H5="/usr/bin/python3 $SRC/tests/integration/h5tool.py"
"$MIDGE" synth --out S --classes 3 --per-class 30 --size 48 >/dev/null || fail "synth"
tiny_config cfg.ini data.workers=1 stage2.epochs=2 gradcam.max_images=0
printf '[grid]\nstage2.lr = 0.0001, 0.0003\n' >grid.ini
mapfile -t id < <(sweep_ids grid.ini --config cfg.ini)
[ ${#id[@]} -eq 2 ] || fail "expected 2 trials: ${id[*]}"

"$MIDGE" sweep --config cfg.ini --sweep grid.ini --out sw --log-level debug >first.log 2>&1 &
pid=$!
wait_for_line first.log "stage 2 epoch 1 batch 2/18 done" "$pid"
kill -USR2 "$pid"
wait "$pid"
rc=$?
[ "$rc" -eq 75 ] || fail "exit code $rc, expected 75: $(tail -5 first.log)"
grep -q "trial 1/2 .*: interrupted by SIGUSR2, resumes when the sweep is rerun" first.log ||
  fail "trial 1 not reported interrupted: $(tail -5 first.log)"
grep -q "stopped on request with 2 trial(s) left" first.log || fail "no stop line: $(tail -5 first.log)"
[ "$($H5 get sw/sweep.h5 trials/state)" = "interrupted pending" ] ||
  fail "journal after the stop: $($H5 get sw/sweep.h5 trials/state)"
[ "$($H5 attr sw/sweep.h5 status)" = interrupted ] || fail "journal status $($H5 attr sw/sweep.h5 status)"
[ "$($H5 attr "sw/trials/${id[0]}/run.h5" status)" = interrupted ] || fail "trial 1's run.h5 is not interrupted"
batch=$($H5 get "sw/trials/${id[0]}/state.h5" batch)
[ "$batch" -gt 0 ] && [ "$batch" -lt 18 ] || fail "trial 1's state.h5 is not inside an epoch (batch $batch)"
! grep -q "${id[1]} (.*): starting" first.log || fail "trial 2 started after the stop"
CHECKS=$((CHECKS + 8))

run timeout 240 "$MIDGE" sweep --config cfg.ini --sweep grid.ini --out sw
expect_rc 0 "rerun of the stopped sweep"
expect_err "trial 1/2 ${id[0]} ($($H5 get sw/sweep.h5 trials/parameters | cut -d' ' -f1)) on group 0: resuming"
expect_err "then $batch batch(es) of epoch 1"
expect_err "trial 2/2 ${id[1]} ("
[ "$($H5 get sw/sweep.h5 trials/state)" = "complete complete" ] ||
  fail "after the rerun: $($H5 get sw/sweep.h5 trials/state)"
[ "$($H5 attr sw/sweep.h5 status)" = complete ] || fail "the journal is not complete"
[ "$(grep -c ": val acc" <<<"$ERR")" -eq 2 ] || fail "not exactly 2 trials completed in the rerun"
CHECKS=$((CHECKS + 3))
done_ok
