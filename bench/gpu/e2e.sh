#!/usr/bin/env bash
# midge end to end on one GPU, run on the lent GPU machine (or any GPU node)
# from a relocatable bundle (scripts/bundle.sh, carried as dist/midge-*):
#   1. midge synth: 10 taxa x PER_CLASS (120) JPEG images at SYNTH_SIZE
#      (640) px; IMAGES=N then removes the last images of the first taxa
#      until N are left (the paper's 1,846: bench/gpu/paper.sh)
#   2. midge train: configs/paper.ini at 512 px, bf16 (channels-last input),
#      data.workers from the node's cores, stage epochs S1/S2 (default 3/6:
#      enough epochs for a steady-state figure; the recipe's 10/30 only
#      repeat them)
#   2b. train_graph: step 2 again with run.cuda_graph = true (the step
#      captured as a CUDA graph); its log must say how many steps were
#      replayed from the graph
#   3. midge sweep: jobs/tiny.ini (4 trials) on 2 groups of 1 rank, i.e. two
#      processes sharing the GPU, 1 + 2 epochs each
#   4. midge predict and midge gradcam with the trained model.h5
#   5. the same recipe in PyTorch (bench/peers/torch_e2e.py) on the same
#      images, GPU, batch, precision and worker count, for PEER_S1 + PEER_S2
#      epochs (default S1 + S2; fewer: its time for S1 + S2 is projected)
#   6. train_nccl: a short training with dist.backend = nccl (one rank: NCCL
#      starts on the GPU through the bundle; nothing to reduce)
# while bench/gpu/gpu_sampler.py samples GPU utilisation and memory. The
# summary (e2e_report.py: e2e.json with every epoch's figures, e2e.md) goes
# to $OUT (default bench/gpu/out) with e2e-logs.tar.gz (each step's log,
# the GPU samples, the step times); the summary table is printed last.
# Each step runs even if one before it failed; the exit status is the
# number of failed steps. ONLY="synth train_nccl" runs only the named steps.
# usage: [BUNDLE=dist/midge-0.1.0-x86_64] [S1=3 S2=6] bash bench/gpu/e2e.sh
# A CPU smoke test of the script itself (no GPU figures):
#   DEVICE=cpu AMP=off IMAGE_SIZE=64 SYNTH_SIZE=96 PER_CLASS=10 S1=1 S2=2 \
#   PY=/usr/bin/python3 bash bench/gpu/e2e.sh
set -uo pipefail
cd "$(dirname "$0")/../.."
result=${OUT:-bench/gpu/out}
work=${WORK:-/tmp/midge-e2e}
out=$work/logs # few files may come back from a lent machine: packed at the end
rm -rf "$work" && mkdir -p "$work" "$out" "$result"
bundle=${BUNDLE:-$(ls -d dist/midge-*-"$(uname -m)" | head -1)}
py=${PY:-$(command -v python3)}
device=${DEVICE:-cuda}
amp=${AMP:-bf16}
size=${IMAGE_SIZE:-512}
synth_size=${SYNTH_SIZE:-640}
per_class=${PER_CLASS:-120}
s1=${S1:-3}
s2=${S2:-6}
peer_s1=${PEER_S1:-$s1}
peer_s2=${PEER_S2:-$s2}
cores=$(nproc)
# The training thread and the main process keep two cores; the rest decode.
workers=$((cores > 4 ? cores - 2 : 2))
failed=0
phases=$out/phases.tsv
: >"$phases"

step() { # step NAME COMMAND...: runs, logs to $out/NAME.log, records its time span
  local name=$1 t0 rc
  shift
  if [ -n "${ONLY:-}" ] && [[ " $ONLY " != *" $name "* ]]; then return 0; fi
  echo "== $name: $*"
  t0=$(date +%s.%N)
  "$@" >"$out/$name.log" 2>&1
  rc=$?
  printf '%s\t%s\t%s\t%s\n' "$name" "$t0" "$(date +%s.%N)" "$rc" >>"$phases"
  tail -4 "$out/$name.log"
  if [ "$rc" -ne 0 ]; then
    echo "== $name FAILED (exit $rc)"
    failed=$((failed + 1))
  fi
  return "$rc"
}

{
  if [ "$device" = cuda ]; then nvidia-smi --query-gpu=name,driver_version,memory.total --format=csv,noheader; fi
  $py -c "import torch; print('torch', torch.__version__, 'cuda', torch.version.cuda, 'cudnn', torch.backends.cudnn.version())"
  echo "cores $cores, data.workers $workers, bundle $bundle"
} >"$out/machine.txt" 2>&1
cat "$out/machine.txt"

# shellcheck disable=SC1091
source "$bundle/env.sh" || exit 1
echo "bundle libraries:"
ldd "$bundle/bin/midge-torch" | grep -E "not found|torch|mpi|cuda" | sed 's/^/  /'
export OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1

sampler=
if [ "$device" = cuda ]; then
  $py bench/gpu/gpu_sampler.py --out "$out/gpu_samples.csv" &
  sampler=$!
  trap 'kill $sampler' EXIT
fi

common=(--config configs/paper.ini --set data.root="$work/data" --set run.amp="$amp"
        --set data.image_size="$size" --set run.device="$device" --set data.workers="$workers" --set stage1.epochs="$s1"
        --set stage2.epochs="$s2" --set stage2.early_stop_patience=0)
step synth midge synth --out "$work/data" --classes 10 --per-class "$per_class" --size "$synth_size" --format jpg --seed 1
if [ -n "${IMAGES:-}" ] && [ -d "$work/data" ]; then
  # The last image of one taxon after another, until IMAGES are left.
  mapfile -t taxa_dirs < <(find "$work/data" -mindepth 1 -maxdepth 1 -type d | sort)
  have=$(find "$work/data" -type f ! -name '*.csv' | wc -l)
  i=0
  while [ "$have" -gt "$IMAGES" ] && [ "${#taxa_dirs[@]}" -gt 0 ]; do
    last=$(find "${taxa_dirs[$((i % ${#taxa_dirs[@]}))]}" -type f | sort | tail -1)
    rm -f "$last"
    have=$((have - 1))
    i=$((i + 1))
  done
  echo "== data: $have images in ${#taxa_dirs[@]} taxa"
fi
step train midge train "${common[@]}" --out "$work/train"
[ "$device" = cpu ] || step train_graph midge train "${common[@]}" --set run.cuda_graph=true \
  --out "$work/train_graph"
if [ -f "$out/train_graph.log" ] && ! grep "steps replayed from the CUDA graph" "$out/train_graph.log"; then
  echo "== train_graph: no line of steps replayed from the CUDA graph in its log"
  failed=$((failed + 1))
fi
step sweep mpiexec -n 2 --oversubscribe midge sweep "${common[@]}" --set stage1.epochs=1 \
  --set stage2.epochs=2 --set data.workers=$((workers / 2)) --sweep jobs/tiny.ini \
  --ranks-per-trial 1 --out "$work/sweep"
taxa=$(ls "$work/data" | grep -v '\.csv$' | head -2)
inputs=()
for t in $taxa; do inputs+=("$work/data/$t"); done
step predict midge predict --model "$work/train/model.h5" --input "${inputs[@]}" --out "$work/predict.csv" --device "$device"
step gradcam midge gradcam --model "$work/train/model.h5" --input "${inputs[@]}" --out "$work/gradcam.h5" --device "$device"
step peer $py bench/peers/torch_e2e.py --data "$work/data" --size "$size" --batch 32 --workers "$workers" \
  --stage1-epochs "$peer_s1" --stage2-epochs "$peer_s2" --amp "$amp" --device "$device"
# dist.backend = nccl is refused without a GPU: not a step of the CPU smoke test.
[ "$device" = cpu ] || step train_nccl midge train "${common[@]}" --set dist.backend=nccl --set stage1.epochs=1 \
  --set stage2.epochs=1 --out "$work/train_nccl"
if [ -f "$out/train_nccl.log" ] && ! grep "gradients between GPUs through NCCL" "$out/train_nccl.log" &&
  [ "$(tail -1 "$phases" | cut -f4)" = 0 ]; then
  echo "== train_nccl: exit 0 but no NCCL line in its log"
  failed=$((failed + 1))
fi
if [ -n "$sampler" ]; then
  kill "$sampler"
  trap - EXIT
  wait "$sampler"
fi

$py bench/gpu/e2e_report.py --out "$out" --run "$work/train/run.h5" --sweep "$work/sweep" \
  --run-graph "$work/train_graph/run.h5" --project "$s1,$s2" \
  | tee "$out/e2e.md" || failed=$((failed + 1))
cp "$out/e2e.json" "$out/e2e.md" "$result/"
tar czf "$result/e2e-logs.tar.gz" -C "$out" .
echo "failed steps: $failed"
exit "$failed"
