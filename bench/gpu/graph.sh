#!/usr/bin/env bash
# Issue #16 on a lent GPU in one call of under 8 minutes: midge's step
# captured as a CUDA graph (run.cuda_graph) against the ordinary step and
# against PyTorch eager and torch.compile, same GPU, same call.
#   1. midge_gpu_check STEPS graph: the cuda_graph_sgd/adam checks (captured
#      step = ordinary step to rounding, through a partial batch and a
#      learning-rate change), the profile of both steps (GPU span, kernel
#      time, idle time, kernels per step), and ResNet-50/18 bf16 512 px
#      batch 32 steps/s without and with the graph (~2 min)
#   2. the PyTorch peers (bench/peers/torch_step.py) in bf16: eager with its
#      profile, torch.compile default and max-autotune-no-cudagraphs, compile
#      time reported apart; each compiled peer bounded by COMPILE_LIMIT
#      (default 110 s) (~5 min)
# Needs bench/gpu/build/midge_gpu_check (bench/gpu/build.sh) carried along;
# rebuilt there against the machine's LibTorch if it does not load.
# Files: $OUT/{machine.txt, gpu_check.txt, peer.jsonl}.
# usage (device run): OUT=$OUT bash bench/gpu/graph.sh
set -euo pipefail
cd "$(dirname "$0")/../.."
MODE=graph AMP=bf16 COMPILE_LIMIT=${COMPILE_LIMIT:-110} STEPS=${STEPS:-10} bash bench/gpu/run.sh
