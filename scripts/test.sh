#!/usr/bin/env bash
# One command from a fresh Debian 12 machine to a tested build:
# installs dependencies, builds midge and the test binaries, runs every test
# (unit, MPI under mpiexec, integration, style, and the Slurm tests on a
# local single-node Slurm) through CTest, and checks that the builds no test
# runs still compile and link: the bench/ binaries and the CUDA variant
# (scripts/build-cuda.sh, unoptimised: MIDGE_CUDA_BUILD_TYPE=Check unless
# set; skipped, saying why, without nvcc, nccl.h, pip or the wheel, or with
# MIDGE_SKIP_CUDA_BUILD=1).
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/install-deps.sh
source scripts/env.sh
build=${BUILD_DIR:-build}
MIDGE_BUILD_TARGETS=midge_test_binaries scripts/build.sh
# The compile checks run beside CTest at idle CPU priority (SCHED_IDLE):
# they take only the CPU time the tests leave unused (a requeued Slurm
# job's start delay, ranks waiting for a hanging peer), and whatever is
# left of them runs once the tests are done. Not in a session of their own
# (setsid): with the kernel's autogroup scheduling a new session is a CPU
# group of its own, which gets a fair share next to the tests' group
# whatever the priority inside it (measured: half the machine). `set -m`
# gives the job a process group of its own in this session instead, for
# the EXIT trap to stop it with when test.sh fails.
checks_log=$build/compile-checks.log
set -m
chrt --idle 0 bash -c 'cmake --build "$1" -j "${MIDGE_BUILD_JOBS:-2}" &&
    MIDGE_CUDA_BUILD_TYPE=${MIDGE_CUDA_BUILD_TYPE:-Check} scripts/build-cuda.sh' \
  compile-checks "$build" >"$checks_log" 2>&1 &
checks=$!
set +m
trap 'if [ -n "$(jobs -rp)" ]; then kill -- -"$checks"; fi' EXIT
# The Slurm tests (tests/slurm) need a local Slurm, which only root can
# start (scripts/slurm-local.sh). Without root, or without Slurm
# installed, they are skipped, saying so; as root a Slurm that does not
# come up is a failure.
skip=()
if [ "$(id -u)" -ne 0 ]; then
  echo "test.sh: SKIPPING the Slurm tests (slurm.*): starting a local Slurm needs root" >&2
  skip=(-E '^slurm[.]')
elif ! command -v slurmctld >/dev/null || ! command -v sbatch >/dev/null; then
  echo "test.sh: SKIPPING the Slurm tests (slurm.*): slurmctld/sbatch not installed" >&2
  skip=(-E '^slurm[.]')
else
  scripts/slurm-local.sh
fi
(cd "$build" && ctest --output-on-failure -j "${MIDGE_TEST_JOBS:-2}" ${skip[@]+"${skip[@]}"} "$@")
echo "test.sh: waiting for the compile checks (bench/, the CUDA variant; log: $checks_log)"
status=0
wait "$checks" || status=$?
trap - EXIT
sed -n '/^build-cuda: /p' "$checks_log"
[ "$status" -eq 0 ] || { tail -40 "$checks_log"; echo "test.sh: FAIL: a compile check failed (exit $status)"; exit 1; }
