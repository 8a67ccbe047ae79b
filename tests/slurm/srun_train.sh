#!/usr/bin/env bash
# `srun midge train` on a real single-node Slurm (scripts/slurm-local.sh):
# srun -n 2 is ONE 2-rank training (run.h5 world_size = 2, ranks found via
# PMIx), bitwise equal to the same training under mpiexec -n 2;
# slurm/train.sbatch runs it as a batch job (sbatch --wait); and a rank
# killed under srun ends the whole step within seconds.
source "$(dirname "$0")/../integration/lib.sh"
cd "$WORK"
bash "$SRC/scripts/slurm-local.sh" >/dev/null || fail "could not start the local Slurm (scripts/slurm-local.sh)"
MPIEXEC=${MPIEXEC:-mpiexec}
"$MIDGE" synth --out S --classes 3 --per-class 10 --size 48 >/dev/null || fail "synth"
args=(train --set data.root="$WORK/S" --set data.image_size=32 --set model.arch=resnet18 --set stage1.epochs=1
      --set stage2.epochs=1 --set stage1.batch_size=4 --set stage2.batch_size=4 --set run.threads=1
      --set run.deterministic=true --set data.workers=1 --set gradcam.max_images=0 --log-level info)
run timeout 300 srun -n 2 --kill-on-bad-exit=1 "$MIDGE" "${args[@]}" --out "$WORK/srun"
expect_rc 0
expect_err "[r0/2]"
run timeout 120 "$MPIEXEC" -n 2 --oversubscribe "$MIDGE" "${args[@]}" --out "$WORK/mpi"
expect_rc 0
CHECKS=$((CHECKS + 2))
/usr/bin/python3 - <<'PY' || fail "srun and mpiexec trainings differ"
import h5py, numpy as np, sys
a, b = h5py.File("srun/run.h5"), h5py.File("mpi/run.h5")
if int(a.attrs["world_size"]) != 2:
    sys.exit(f"srun -n 2 ran with world_size {a.attrs['world_size']}, expected one 2-rank job")
ma, mb = h5py.File("srun/model.h5"), h5py.File("mpi/model.h5")
for name in ma["weights"]:
    if not np.array_equal(ma["weights"][name][()], mb["weights"][name][()]):
        sys.exit(f"{name} differs between srun and mpiexec")
if not np.array_equal(a["eval/confusion"][()], b["eval/confusion"][()]):
    sys.exit("confusion matrices differ")
print("srun == mpiexec: world_size 2, all weights and the confusion matrix equal")
PY

# The batch script, as users submit it.
tiny_config cfg.ini
run timeout 300 sbatch --wait --chdir="$WORK" --export=ALL,MIDGE="$MIDGE" "$SRC/slurm/train.sbatch" cfg.ini "$WORK/batch" \
  --set gradcam.max_images=0
expect_rc 0 "$(cat "$WORK"/midge-train-*.out 2>/dev/null | tail -20)"
CHECKS=$((CHECKS + 1))
[ "$(/usr/bin/python3 "$SRC/tests/integration/h5tool.py" attr batch/run.h5 status)" = complete ] \
  || fail "sbatch: run.h5 is not complete"
grep -q "\[r0/2\]" "$WORK"/midge-train-*.out || fail "sbatch: the job's log is not that of a 2-rank run"

# A rank killed under srun ends the step.
srun -n 2 --kill-on-bad-exit=1 "$MIDGE" train --set data.root="$WORK/S" --set data.image_size=32 \
  --set model.arch=resnet18 --set stage1.epochs=0 --set stage2.epochs=200 --set stage2.batch_size=4 \
  --set run.threads=1 --set data.workers=1 --out "$WORK/killed" >kill.log 2>&1 &
kill_rank $! kill.log "stage 2 epoch 1/200" "midge train --set data.root=$WORK/S" SLURM_PROCID=1
rc=$KILL_RC
elapsed=$KILL_SECONDS
CHECKS=$((CHECKS + 2))
[ "$rc" -ne 0 ] || fail "srun exited 0 after rank 1 was killed"
[ "$elapsed" -lt 30 ] || fail "srun took ${elapsed}s to end after rank 1 was killed"
echo "srun step ended ${elapsed}s after rank 1 was killed, exit code $rc"
done_ok
