#!/usr/bin/env bash
# One command from a fresh Debian 12 machine to a tested build:
# installs dependencies, builds, runs every test (unit, MPI under mpiexec,
# integration, style) through CTest.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/install-deps.sh
source scripts/env.sh
scripts/build.sh
cd "${BUILD_DIR:-build}"
ctest --output-on-failure -j "${MIDGE_TEST_JOBS:-2}" "$@"
