#!/usr/bin/env bash
# One command from a fresh Debian 12 machine to a tested build:
# installs dependencies, builds, runs every test (unit, MPI under mpiexec,
# integration, style) through CTest, then builds the CUDA variant (a
# compile-and-link check, scripts/build-cuda.sh; skipped, saying why,
# without nvcc, nccl.h, pip or the wheel, or with MIDGE_SKIP_CUDA_BUILD=1).
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/install-deps.sh
source scripts/env.sh
scripts/build.sh
(cd "${BUILD_DIR:-build}" && ctest --output-on-failure -j "${MIDGE_TEST_JOBS:-2}" "$@")
scripts/build-cuda.sh
