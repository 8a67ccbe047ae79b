#!/usr/bin/env bash
# A rank that dies in the middle of a training epoch (SIGKILL, as the
# out-of-memory killer or a failing node would) ends the whole job non-zero
# well within a minute instead of leaving the other rank in an allreduce.
source "$(dirname "$0")/../integration/lib.sh"
cd "$WORK"
MPIEXEC=${MPIEXEC:-mpiexec}
"$MIDGE" synth --out S --classes 3 --per-class 40 --size 48 >/dev/null || fail "synth"
# data.root names this test's own folder: kill_rank must find this job's
# rank 1, not one of another MPI test running at the same time.
"$MPIEXEC" -n 2 --oversubscribe "$MIDGE" train --set data.root="$WORK/S" --set data.image_size=32 \
  --set model.arch=resnet18 --set stage1.epochs=0 --set stage2.epochs=50 --set stage2.batch_size=8 \
  --set run.threads=1 --set data.workers=1 --out run > log 2>&1 &
kill_rank $! log "stage 2 epoch 1/50" "midge train --set data.root=$WORK/S " OMPI_COMM_WORLD_RANK=1
rc=$KILL_RC
elapsed=$KILL_SECONDS
cat log | tail -5
CHECKS=$((CHECKS + 3))
grep -q "rank 1" log || fail "the log does not name rank 1"
[ "$rc" -ne 0 ] || fail "the job exited 0 after rank 1 died"
[ "$elapsed" -lt 30 ] || fail "the job took ${elapsed}s to end after rank 1 died"
[ "$(/usr/bin/python3 "$SRC/tests/integration/h5tool.py" attr run/run.h5 status)" = running ] \
  || fail "run.h5 should still be the readable last epoch's file"
echo "job ended ${elapsed}s after rank 1 was killed, exit code $rc"
done_ok
