#!/usr/bin/env bash
# Runs on the lent GPU machine (PyTorch/LibTorch with CUDA, no MPI/HDF5/
# OpenCV/Boost): midge_gpu_check, built beforehand by bench/gpu/build.sh
# against the same LibTorch version, then the PyTorch peer of the same step
# (bench/peers/torch_step.py: eager, with a profile, and under
# torch.compile) in the same run. Results go to $OUT (or bench/gpu/out):
# gpu_check.txt, peer.jsonl, machine.txt. AMP=fp16 (or bf16, off) runs only
# the step measurements of that precision; COMPILE=0 skips torch.compile,
# COMPILE_LIMIT (default 240 s) bounds each compiled peer. MODE=graph runs
# the GPU check's CUDA graph part instead of its other checks and steps
# (issue #16; bench/gpu/graph.sh), MODE=graph-checks only its checks.
set -uo pipefail
cd "$(dirname "$0")/../.."
out=${OUT:-bench/gpu/out}
mkdir -p "$out"
steps=${STEPS:-10}
py=$(command -v python3)
torchdir=$($py -c "import os, torch; print(os.path.dirname(torch.__file__))")
{
  nvidia-smi --query-gpu=name,driver_version,memory.total --format=csv,noheader
  $py -c "import torch; print('torch', torch.__version__, 'cuda', torch.version.cuda, 'cudnn', torch.backends.cudnn.version())"
  nproc
} >"$out/machine.txt" 2>&1
cat "$out/machine.txt"
bin=bench/gpu/build/midge_gpu_check
export LD_LIBRARY_PATH=$torchdir/lib:${LD_LIBRARY_PATH:-}
if [ ! -x "$bin" ] || grep -q "not found" <<<"$(ldd "$bin")"; then
  echo "prebuilt binary does not load here:"; ldd "$bin" 2>&1 | grep "not found"
  echo "building with the local LibTorch"
  cmake -S bench/gpu -B /tmp/gpu-build -DCMAKE_PREFIX_PATH="$torchdir;$torchdir/share/cmake" \
    -DMIDGE_SPDLOG_INCLUDE="$PWD/bench/gpu/build/include" >/tmp/gpu-build.log 2>&1 &&
    cmake --build /tmp/gpu-build -j 16 >>/tmp/gpu-build.log 2>&1 || { tail -30 /tmp/gpu-build.log; exit 1; }
  bin=/tmp/gpu-build/midge_gpu_check
fi
timeout 300 "$bin" "$steps" ${MODE:-${AMP:-}} 2>&1 | tee "$out/gpu_check.txt"
rc=${PIPESTATUS[0]}
: >"$out/peer.jsonl"
# arch, amp, torch.compile mode, extra flags. COMPILE=0 skips the compiled
# peers (each compiles for one to several minutes); PEERS=0 skips them all.
[ "${PEERS:-1}" = 1 ] || exit "$rc"
for run in "resnet50 bf16 none --profile" "resnet50 fp16 none" "resnet50 off none" \
           "resnet18 bf16 none" "resnet50 bf16 default" "resnet18 bf16 default" \
           "resnet50 bf16 max-autotune-no-cudagraphs"; do
  set -- $run
  [ -z "${AMP:-}" ] || [ "$2" = "$AMP" ] || continue
  [ "$3" = none ] || [ "${COMPILE:-1}" = 1 ] || continue
  limit=120
  [ "$3" = none ] || limit=${COMPILE_LIMIT:-240}
  timeout "$limit" $py bench/peers/torch_step.py --arch "$1" --amp "$2" --compile "$3" ${4:-} \
    --size 512 --batch 32 --steps "$steps" 2>&1 | grep -v Warning | tee -a "$out/peer.jsonl"
  [ "${PIPESTATUS[0]}" -ne 124 ] || echo "{\"case\": \"peer step\", \"arch\": \"$1\", \"amp\": \"$2\", \"compile\": \"$3\", \"timed_out_s\": $limit}" | tee -a "$out/peer.jsonl"
done
exit "$rc"
