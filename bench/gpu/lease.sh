#!/usr/bin/env bash
# Everything one GPU lease measures, in one call and in order of importance
# (what a timed-out call leaves under $OUT is still returned):
#   1. bench/gpu/run.sh with COMPILE=0: the GPU checks (pinned staging,
#      NCCL, multi-tensor optimizers), midge's step profile, the step
#      throughput table and the PyTorch eager peers (with their profile)
#   2. bench/gpu/e2e.sh, ONLY="synth train train_nccl train_graph" (E2E_ONLY overrides):
#      the bundle end to end and a training with dist.backend = nccl
#   3. the torch.compile peers, each bounded by COMPILE_LIMIT seconds
# Needs the bundle (scripts/bundle.sh) and bench/gpu/build/midge_gpu_check
# (bench/gpu/build.sh) carried along. Files: $OUT/{machine.txt,
# gpu_check.txt, peer.jsonl, compile.log (the last compiled peer's log)}
# and $OUT/e2e/{e2e.json, e2e.md, e2e-logs.tar.gz}.
# usage (device run): OUT=$OUT bash bench/gpu/lease.sh
set -uo pipefail
cd "$(dirname "$0")/../.."
out=${OUT:-bench/gpu/out}
mkdir -p "$out/e2e"
rc=0
AMP=bf16 COMPILE=0 STEPS=${STEPS:-10} OUT=$out bash bench/gpu/run.sh || rc=1
ONLY=${E2E_ONLY:-synth train train_nccl train_graph} OUT=$out/e2e bash bench/gpu/e2e.sh || rc=1
py=$(command -v python3)
for run in "resnet50 default" "resnet18 default" "resnet50 max-autotune-no-cudagraphs"; do
  set -- $run
  limit=${COMPILE_LIMIT:-150}
  timeout "$limit" $py bench/peers/torch_step.py --arch "$1" --amp bf16 --compile "$2" \
    --size 512 --batch 32 --steps "${STEPS:-10}" >"$out/compile.log" 2>&1
  status=$?
  grep '^{"case"' "$out/compile.log" | tee -a "$out/peer.jsonl"
  if [ "$status" -eq 124 ]; then
    echo "{\"case\": \"peer step\", \"arch\": \"$1\", \"amp\": \"bf16\", \"compile\": \"$2\", \"timed_out_s\": $limit}" |
      tee -a "$out/peer.jsonl"
  elif [ "$status" -ne 0 ]; then
    tail -20 "$out/compile.log"
    rc=1
  fi
done
exit "$rc"
