#!/usr/bin/env bash
# Issue #30's first GPU call, sized to leave a lease's 15 minutes room for
# one rerun (~7 min on an H200), in order of importance (each part runs even
# if one before it failed; the exit status counts the failed parts):
#   1. bench/gpu/run.sh MODE=graph: midge_gpu_check's CUDA graph checks
#      (captured step = ordinary step; SGD and Adam), the profile of the
#      ordinary and the captured ResNet-50 bf16 step, step rates with and
#      without the graph (ResNet-50/18, 512 px, batch 32, bf16) and the
#      PyTorch eager peers of the same step (no torch.compile: its figures
#      are in bench/RESULTS.md from 2026-11-28, and compiling costs minutes)
#   2. the paper's recipe end to end at the paper's scale: `midge synth`
#      10 taxa x 185 JPEGs at 512 px, trimmed to 1,846 images (the paper's
#      count), then `midge train --config configs/paper.ini` (10 + 30
#      epochs, bf16, early stopping off so that every side runs every epoch)
#      from the bundle, timed from start to run.h5 - as it is, then again
#      with run.cuda_graph = true
#   3. the PyTorch peer of the recipe (bench/peers/torch_e2e.py) for
#      PEER_S1 + PEER_S2 epochs (default 2 + 4): the peer is bound by its
#      DataLoader (~340 img/s on 16 cores), so its 40 epochs would take
#      ~6.5 minutes, more than a lease can spare; its time to result is
#      projected from the measured run plus the missing epochs at the
#      stage's steady epoch time (e2e_report.py --project)
#   4. midge_gpu_check's other checks (pinned staging, NCCL, stream order,
#      multi-tensor optimizers; bounded by 120 s): last run on a GPU before
#      the commits that reorganised them (bench/RESULTS.md, 2026-11-28)
#   5. bench/gpu/bn_fusion.py --compile (bounded by 100 s): what fusing
#      BatchNorm(+add)+ReLU could save per ResNet-50 step, eager against
#      Inductor's fused kernels and the memory-traffic floor, shape by shape
# GRAPH_MODE=graph-checks PEERS=0 shortens part 1 to the CUDA graph checks.
# Needs the bundle (scripts/bundle.sh, dist/) and bench/gpu/build
# (bench/gpu/build.sh) carried along. Files in $OUT: machine.txt,
# gpu_check.txt, peer.jsonl (from run.sh), e2e.md and e2e.json (the
# summary: steady images/s per stage, graph/eager ratio, wall times,
# projected peer time), e2e-logs.tar.gz (every step's log),
# checks.txt and bn_fusion.jsonl.
# usage (device run): OUT=$OUT bash bench/gpu/paper.sh
# A CPU smoke test of the script (no GPU figures; the graph part is skipped):
#   DEVICE=cpu AMP=off IMAGE_SIZE=64 PER_CLASS=8 IMAGES=76 S1=1 S2=1 \
#   PEER_S1=1 PEER_S2=1 PY=/usr/bin/python3 BUNDLE=<folder with bin/midge> \
#   BN_ARGS="--batch 2 --size 64 --iters 1" bash bench/gpu/paper.sh
set -uo pipefail
cd "$(dirname "$0")/../.."
result=${OUT:-bench/gpu/out}
mkdir -p "$result"
failed=0
if [ "${DEVICE:-cuda}" = cuda ]; then
  MODE=${GRAPH_MODE:-graph} AMP=bf16 COMPILE=0 STEPS=${STEPS:-10} OUT=$result bash bench/gpu/run.sh ||
    failed=$((failed + 1))
fi
ONLY="synth train_graph train peer" PER_CLASS=${PER_CLASS:-185} IMAGES=${IMAGES:-1846} \
  SYNTH_SIZE=${IMAGE_SIZE:-512} S1=${S1:-10} S2=${S2:-30} PEER_S1=${PEER_S1:-2} \
  PEER_S2=${PEER_S2:-4} OUT=$result bash bench/gpu/e2e.sh || failed=$((failed + $?))
py=${PY:-$(command -v python3)}
if [ "${DEVICE:-cuda}" = cuda ]; then
  bin=bench/gpu/build/midge_gpu_check
  [ ! -x /tmp/gpu-build/midge_gpu_check ] || bin=/tmp/gpu-build/midge_gpu_check # rebuilt by run.sh
  torchdir=$("$py" -c "import os, torch; print(os.path.dirname(torch.__file__))")
  LD_LIBRARY_PATH=$torchdir/lib:${LD_LIBRARY_PATH:-} timeout 120 "$bin" 10 checks >"$result/checks.txt" 2>&1 ||
    failed=$((failed + 1))
  grep -E "^CHECK|check\(s\) failed" "$result/checks.txt"
fi
timeout 100 "$py" bench/gpu/bn_fusion.py --device "${DEVICE:-cuda}" --compile \
  ${BN_ARGS:-} | tee "$result/bn_fusion.jsonl"
[ "${PIPESTATUS[0]}" -eq 0 ] || failed=$((failed + 1))
echo "paper.sh: $failed failed part(s)"
exit "$failed"
