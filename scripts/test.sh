#!/usr/bin/env bash
# One command from a fresh Debian 12 machine to a tested build:
# installs dependencies, builds, runs every test (unit, MPI under mpiexec,
# integration, style, and the Slurm tests on a local single-node Slurm)
# through CTest, then builds the CUDA variant (a
# compile-and-link check, scripts/build-cuda.sh; skipped, saying why,
# without nvcc, nccl.h, pip or the wheel, or with MIDGE_SKIP_CUDA_BUILD=1).
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/install-deps.sh
source scripts/env.sh
scripts/build.sh
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
(cd "${BUILD_DIR:-build}" && ctest --output-on-failure -j "${MIDGE_TEST_JOBS:-2}" ${skip[@]+"${skip[@]}"} "$@")
scripts/build-cuda.sh
