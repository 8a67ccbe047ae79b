#!/usr/bin/env bash
# Builds bench/gpu/build/midge_gpu_check here (no GPU needed) against the
# CUDA LibTorch of the PyPI torch wheel, the version the GPU machine runs;
# also copies spdlog/fmt headers to bench/gpu/build/include so that
# bench/gpu/run.sh can rebuild there if the binary does not load.
# usage: TORCH_DIR=<site-packages>/torch bench/gpu/build.sh
set -euo pipefail
cd "$(dirname "$0")"
torch=${TORCH_DIR:?set TORCH_DIR to the torch package folder of a CUDA wheel}
# "$torch" first: its lib/ must win over a system LibTorch (Debian libc10).
cmake -S . -B build -DCMAKE_PREFIX_PATH="$torch;$torch/share/cmake" >build.log 2>&1 || { tail -30 build.log; exit 1; }
cmake --build build -j 2 >>build.log 2>&1 || { grep -E "error" -A3 build.log | head -40; exit 1; }
mkdir -p build/include
cp -r /usr/include/spdlog /usr/include/fmt build/include/
ls -la build/midge_gpu_check
