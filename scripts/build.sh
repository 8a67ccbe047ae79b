#!/usr/bin/env bash
# Configures and builds midge (Release, tests included) into BUILD_DIR
# (default build/). Extra arguments go to CMake, e.g.
#   scripts/build.sh -DCMAKE_PREFIX_PATH=/opt/libtorch
# MIDGE_BUILD_TARGETS (space-separated) builds only those targets, e.g.
# "midge" for the demo, which needs none of the test binaries.
# Two parallel jobs: a batch of LibTorch sources (cmake/MidgeUnity.cmake)
# needs ~1.5 GB of compiler memory. Ninja where installed (scripts/env.sh).
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/env.sh  # the generator (Ninja where installed)
build=${BUILD_DIR:-build}
cmake -S . -B "$build" -DCMAKE_BUILD_TYPE=${CMAKE_BUILD_TYPE:-Release} "$@" >/dev/null
targets=()
for t in ${MIDGE_BUILD_TARGETS:-}; do targets+=(--target "$t"); done
cmake --build "$build" -j "${MIDGE_BUILD_JOBS:-2}" ${targets[@]+"${targets[@]}"}
