#!/usr/bin/env bash
# Builds the CUDA variant of midge (into BUILD_CUDA_DIR, default
# build-cuda/) against the CUDA LibTorch of PyPI's torch wheel, as a
# compile-and-link check of the code only a GPU build has (the NCCL
# gradient backend, CUDA memory statistics): scripts/test.sh runs it. No
# GPU is needed; nothing here runs on one. Skipped, saying why, where no
# CUDA toolkit (nvcc) or no NCCL header is installed, where the torch wheel
# cannot be downloaded, or with MIDGE_SKIP_CUDA_BUILD=1.
# Checks: CMake turned the NCCL backend on, and the binary links LibTorch's
# CUDA library and carries the NCCL code path and the CUDA graph capture of
# the training step (run.cuda_graph).
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/env.sh  # the generator (Ninja where installed)
if [ -z "${CUDACXX:-}" ] && ! command -v nvcc >/dev/null; then
  for d in /usr/local/cuda/bin /usr/local/cuda-*/bin; do
    if [ -x "$d/nvcc" ]; then export PATH="$d:$PATH"; break; fi
  done
fi
skip() {
  echo "build-cuda: SKIPPED: $*"
  exit 0
}
[ "${MIDGE_SKIP_CUDA_BUILD:-0}" = 1 ] && skip "MIDGE_SKIP_CUDA_BUILD=1"
command -v nvcc >/dev/null || skip "no CUDA toolkit (nvcc) on this machine"
cuda_include=$(dirname "$(dirname "$(command -v nvcc)")")/include
[ -f "${NCCL_HOME:-/nonexistent}/include/nccl.h" ] || [ -f "$cuda_include/nccl.h" ] ||
  [ -f /usr/include/nccl.h ] ||
  skip "no nccl.h in $cuda_include, /usr/include or \$NCCL_HOME/include (the NCCL backend could not be built)"
python3 -m pip --version >/dev/null || skip "python3 has no pip (needed to fetch the torch wheel)"
if [ -n "${TORCH_DIR:-}" ]; then
  torch=$TORCH_DIR
else
  status=0
  torch=$(scripts/fetch-torch.sh) || status=$?
  [ "$status" -ne 3 ] || skip "the torch wheel could not be downloaded from PyPI (messages above)"
  [ "$status" -eq 0 ] || { echo "build-cuda: FAIL: scripts/fetch-torch.sh failed"; exit 1; }
fi
build=${BUILD_CUDA_DIR:-build-cuda}
# MIDGE_CUDA_BUILD_TYPE=Check compiles without optimisation (no flags of a
# build type: -O0, no -g): scripts/test.sh's compile-and-link check, about
# a third less CPU time than Release, for a binary that nothing runs.
build_type=${MIDGE_CUDA_BUILD_TYPE:-Release}
echo "build-cuda: LibTorch $torch -> $build ($build_type)"
cmake -S . -B "$build" -DCMAKE_BUILD_TYPE="$build_type" -DMIDGE_BUILD_TESTS=OFF -DMIDGE_BUILD_BENCH=OFF \
  -DCMAKE_PREFIX_PATH="$torch;$torch/share/cmake" >"$build.configure.log" 2>&1 ||
  { tail -30 "$build.configure.log"; exit 1; }
grep -q "NCCL gradient backend: on" "$build.configure.log" ||
  { grep "NCCL" "$build.configure.log"; echo "build-cuda: FAIL: the NCCL backend is off"; exit 1; }
# midge-torch: the program with LibTorch in it (midge and midge-base have none).
cmake --build "$build" -j "${MIDGE_BUILD_JOBS:-2}" --target midge-torch
# grep reads all its input (no -q): under pipefail, a grep that stops at the
# first match can fail the pipeline through the writer's SIGPIPE.
readelf -d "$build/midge-torch" | grep "libtorch_cuda.so" >/dev/null ||
  { echo "build-cuda: FAIL: midge-torch does not link libtorch_cuda.so"; exit 1; }
grep -q "ncclAllReduce" "$build/midge-torch" ||
  { echo "build-cuda: FAIL: the NCCL code path is not in the binary"; exit 1; }
nm -D --undefined-only "$build/midge-torch" | grep "_ZN2at4cuda9CUDAGraph13capture_begin" >/dev/null ||
  { echo "build-cuda: FAIL: the CUDA graph capture (run.cuda_graph) is not in the binary"; exit 1; }
echo "build-cuda: OK: $build/midge-torch (CUDA LibTorch, NCCL backend on, CUDA graph capture in)"
