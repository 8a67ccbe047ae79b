#!/usr/bin/env bash
# Threads per rank (run.threads = 0) come from the CPUs the process may run
# on, not from the node's CPU count: pinned with `taskset -c 0` a run uses
# 1 thread (log and run.h5's device); two ranks sharing every CPU
# (`--bind-to none`) divide them; a run alone uses them all.
# OpenMP's idle threads wait passively in a run (core/cpus.h): with
# OMP_WAIT_POLICY unset, `midge train` sets PASSIVE before midge-torch (and
# its OpenMP runtime) is loaded, so the runtime loads once and reports a
# spin count of 0 (OMP_DISPLAY_ENV prints the runtime's settings each time
# it loads); midge-torch started directly starts itself again with
# PASSIVE; a value the user set is kept. CTest's environment sets PASSIVE itself (tests/CMakeLists.txt),
# so this is the one test of the start without it.
source "$(dirname "$0")/lib.sh"
cd "$WORK"
MPIEXEC=${MPIEXEC:-mpiexec}
H5="/usr/bin/python3 $SRC/tests/integration/h5tool.py"
"$MIDGE" synth --out S --classes 2 --per-class 5 --size 32 >/dev/null || fail "synth"
args=(train --set data.root="$WORK/S" --set data.image_size=32 --set model.arch=resnet18
      --set stage1.epochs=1 --set stage2.epochs=0 --set stage1.batch_size=4 --set data.workers=1
      --set gradcam.max_images=0 --set run.threads=0)
cpus=$(nproc)
# The spin counts the OpenMP runtime reported at each load, in order.
spin_counts() { grep -o "GOMP_SPINCOUNT = '[0-9]*'" <<<"$OUT$ERR" | tr -dc '0-9\n' | tr '\n' ' '; }

run timeout 120 env -u OMP_WAIT_POLICY OMP_DISPLAY_ENV=verbose "$MIDGE" "${args[@]}" --out policy_unset
expect_rc 0 "OMP_WAIT_POLICY unset"
spins=$(spin_counts)
[ "$spins" = "0 " ] || fail "OMP_WAIT_POLICY unset: expected one start, with spin count 0; got: $spins"
CHECKS=$((CHECKS + 1))
run timeout 120 env -u OMP_WAIT_POLICY OMP_DISPLAY_ENV=verbose "$(dirname "$MIDGE")/midge-torch" \
  "${args[@]}" --out torch_unset
expect_rc 0 "midge-torch, OMP_WAIT_POLICY unset"
spins=$(spin_counts)
[[ $spins =~ ^[1-9][0-9]*\ 0\ $ ]] ||
  fail "midge-torch, OMP_WAIT_POLICY unset: expected the default (spinning) start, then one with spin count 0; got: $spins"
CHECKS=$((CHECKS + 1))
run timeout 120 env OMP_WAIT_POLICY=ACTIVE OMP_DISPLAY_ENV=verbose "$MIDGE" "${args[@]}" --out policy_active
expect_rc 0 "OMP_WAIT_POLICY=ACTIVE"
spins=$(spin_counts)
[[ $spins =~ ^[1-9][0-9]*\ $ ]] || fail "OMP_WAIT_POLICY=ACTIVE: expected one start, spinning; got: $spins"
CHECKS=$((CHECKS + 1))

run timeout 120 taskset -c 0 "$MIDGE" "${args[@]}" --out pinned
expect_rc 0 "taskset -c 0"
expect_err "on cpu (1 threads)"
grep -q "(1 threads)" <<<"$($H5 attr pinned/run.h5 device)" || fail "run.h5 device: $($H5 attr pinned/run.h5 device)"
CHECKS=$((CHECKS + 1))

run timeout 120 "$MIDGE" "${args[@]}" --out alone
expect_rc 0 "alone"
expect_err "on cpu ($cpus threads)"

half=$(( cpus / 2 > 0 ? cpus / 2 : 1 ))
run timeout 120 "$MPIEXEC" -n 2 --oversubscribe --bind-to none "$MIDGE" "${args[@]}" --out shared
expect_rc 0 "two ranks, no binding"
expect_err "on cpu ($half threads)"
done_ok
