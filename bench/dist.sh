#!/usr/bin/env bash
# Data-parallel training on CPU ranks (issue: data-parallel MPI training):
# the same global batch as 1 rank x 2 threads and as 2 ranks x 1 thread,
# with gradient overlap on and off (and the 2-rank step without any sync,
# the compute-only reference), for ResNet-18 and ResNet-50; plus MPI
# allreduce bandwidth between 2 ranks. Every configuration is run REPEAT
# times, interleaved, and the median is reported. Prints a Markdown table
# and writes the raw JSON lines to $OUT (default bench/dist-results.jsonl).
# usage: bench/dist.sh   (build first: scripts/build.sh)
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/env.sh
build=${BUILD_DIR:-build}
bin=$build/bench/midge_bench_dist
size=${SIZE:-224}
batch=${BATCH:-8}
steps=${STEPS:-8}
repeat=${REPEAT:-3}
out=${OUT:-bench/dist-results.jsonl}
: >"$out"
for r in $(seq 1 "$repeat"); do
  for arch in resnet18 resnet50; do
    common=(--arch $arch --size "$size" --batch "$batch" --steps "$steps")
    echo "{\"case\": \"1x2\", $("$bin" "${common[@]}" --threads 2 | cut -c2-)" >>"$out"
    echo "{\"case\": \"2x1 no sync\", $(mpiexec -n 2 "$bin" "${common[@]}" --threads 1 --sync off | cut -c2-)" >>"$out"
    echo "{\"case\": \"2x1 overlap on\", $(mpiexec -n 2 "$bin" "${common[@]}" --threads 1 | cut -c2-)" >>"$out"
    echo "{\"case\": \"2x1 overlap off\", $(mpiexec -n 2 "$bin" "${common[@]}" --threads 1 --overlap off | cut -c2-)" >>"$out"
    echo "{\"case\": \"2x1 overlap on, 5 MiB buckets\", $(mpiexec -n 2 "$bin" "${common[@]}" --threads 1 --bucket-mb 5 | cut -c2-)" >>"$out"
  done
done
for mb in 1 25 100; do
  echo "{\"case\": \"allreduce\", $(mpiexec -n 2 "$bin" --allreduce-mb $mb --repeat 20 | cut -c2-)" >>"$out"
done
/usr/bin/python3 bench/dist_table.py "$out"
