#!/usr/bin/env bash
# `midge status OUT` (issue #29) on a finished, a failed and a running
# sweep, and on single runs: what it prints comes from sweep.h5 and the
# trials' run.h5, its exit code says 0 done, 1 failed, 3 still running.
# And `midge sweep --retry failed` on the failed sweep.
# The running sweep is held at a step by fault injection (MIDGE_FAULT
# hang, core/fault.h) so that it is certainly running while status looks.
source "$(dirname "$0")/lib.sh"
cd "$WORK"
"$MIDGE" synth --out S --classes 3 --per-class 10 --size 32 --seed 3 >/dev/null || fail "synth"
# 24 training images in batches of 4: 6 steps per epoch.
tiny_config cfg.ini data.workers=0 gradcam.max_images=0
printf '[grid]\nstage2.lr = 0.0001, 0.0003\n' >two.ini
printf '[grid]\nstage2.lr = 0.0001\n' >one.ini

# Finished: exit 0, the best trial named.
run "$MIDGE" sweep --config cfg.ini --sweep one.ini --out done
expect_rc 0
mapfile -t one < <(sweep_ids one.ini --config cfg.ini)
run "$MIDGE" status done
expect_rc 0
expect_out "sweep done: complete; 1 trial(s): 1 complete, 0 running, 0 pending, 0 failed"
expect_out "best so far: ${one[0]}, validation accuracy"
run "$MIDGE" status "done/trials/${one[0]}"
expect_rc 0
expect_out "run done/trials/${one[0]}/run.h5: complete"

# Failed: the first trial's loss turns NaN; exit 1, the trial and why.
mapfile -t two < <(sweep_ids two.ini --config cfg.ini)
[ ${#two[@]} -eq 2 ] || fail "expected 2 trials: ${two[*]}"
MIDGE_FAULT=loss@rank0:step1 run "$MIDGE" sweep --config cfg.ini --sweep two.ini --out bad
run "$MIDGE" status bad
expect_rc 1
expect_out "2 trial(s): 1 complete, 0 running, 0 pending, 1 failed"
expect_out "  failed  ${two[0]} (stage2.lr=0.0001): "
expect_out "best so far: ${two[1]}"
run "$MIDGE" status "bad/trials/${two[0]}/run.h5"
expect_rc 1
expect_out ": failed"

# Retrying: only the failed trial runs again, its failed attempt kept
# beside; the complete one is left as it was.
H5="/usr/bin/python3 $SRC/tests/integration/h5tool.py"
kept=$(sha256sum <"bad/trials/${two[1]}/run.h5")
run "$MIDGE" sweep --config cfg.ini --sweep two.ini --out bad --retry failed
expect_rc 0
expect_err "--retry failed: trial(s) 1 run again"
[ "$($H5 attr "bad/trials/${two[0]}.failed-1/run.h5" status)" = failed ] || fail "attempt 1 not kept"
[ "$($H5 attr "bad/trials/${two[0]}/run.h5" status)" = complete ] || fail "attempt 2 not complete"
[ "$(sha256sum <"bad/trials/${two[1]}/run.h5")" = "$kept" ] || fail "the complete trial ran again"
[ "$($H5 get bad/sweep.h5 trials/attempt)" = "2 1" ] || fail "attempts: $($H5 get bad/sweep.h5 trials/attempt)"
$H5 get bad/sweep.h5 trials/earlier_errors | grep -q "attempt 1: loss is NaN" ||
  fail "the first attempt's error is not in the journal"
CHECKS=$((CHECKS + 5))
run "$MIDGE" status bad
expect_rc 0
expect_out "2 trial(s): 2 complete, 0 running, 0 pending, 0 failed"
run "$MIDGE" sweep --config cfg.ini --sweep two.ini --out bad --retry all
expect_rc 2
expect_err "--retry takes 'failed'"

# Running: held at step 9 (stage 2, batch 3): stage 1's epoch is in run.h5.
mapfile -t live < <(sweep_ids two.ini --config cfg.ini --set run.progress_seconds=0)
[ ${#live[@]} -eq 2 ] || fail "expected 2 trials: ${live[*]}"
MIDGE_FAULT=hang@rank0:step9 "$MIDGE" sweep --config cfg.ini --sweep two.ini --out live \
  --set run.progress_seconds=0 --log-level debug >live.log 2>&1 &
pid=$!
wait_for_line live.log "stage 2 epoch 1 batch 2/6 done" "$pid"
run "$MIDGE" status live
kill -KILL "$pid"
wait "$pid"
expect_rc 3
expect_out "2 trial(s): 0 complete, 1 running, 1 pending, 0 failed"
expect_out "  running ${live[0]} (group 0, since "
expect_out "): stage 1 epoch 1/1, val acc "
# ... and the batch it is on, from progress.txt (written after every step
# with run.progress_seconds = 0).
expect_out "; now stage 2 epoch 1 batch 2/6 at "
expect_out "time left: about unknown"

# Not a sweep or run folder: a usage error naming it.
run "$MIDGE" status S
expect_rc 2
expect_err "midge status: S holds neither sweep.h5 (a sweep) nor run.h5 (a run)"
CHECKS=$((CHECKS + 1))
done_ok
