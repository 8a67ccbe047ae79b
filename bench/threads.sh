#!/usr/bin/env bash
# Threads on a shared node: two small trainings started together on this
# machine's CPUs, against one alone, with
#   - the old default: threads = every CPU, OpenMP threads spinning while
#     idle (OMP_WAIT_POLICY=ACTIVE, what GNU OpenMP does by default);
#   - the new default: threads = every CPU, idle OpenMP threads passive
#     (midge sets OMP_WAIT_POLICY=PASSIVE itself unless it is set);
#   - one thread each (run.threads = 1);
# and `taskset -c 0`, whose default must be 1 thread. Same run, same data,
# wall seconds (pairs: until the slower of the two ends), best of 3 for one
# run alone and of 2 for pairs (a run alone is short and noisy); ratios
# against the old default's pair.
# usage: bench/threads.sh   (build first: scripts/build.sh)
set -euo pipefail
cd "$(dirname "$0")/.."
build=${BUILD_DIR:-build}
midge=$(realpath "$build/midge")
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
"$midge" synth --out "$work/S" --classes 3 --per-class 16 --size 64 --seed 2 >/dev/null
args=(train --set data.root="$work/S" --set data.image_size=64 --set model.arch=resnet18
      --set stage1.epochs=1 --set stage2.epochs=2 --set stage1.batch_size=8
      --set stage2.batch_size=8 --set data.workers=1 --set gradcam.max_images=0)
# one NAME ENV... -- ARGS: wall seconds of one run
one() {
  local out=$work/$1; shift
  local t0 t1
  t0=$(date +%s.%N)
  env "$@" "$midge" "${args[@]}" --out "$out" >"$out.log" 2>&1 || { cat "$out.log" >&2; exit 1; }
  t1=$(date +%s.%N)
  awk -v a="$t0" -v b="$t1" 'BEGIN {printf "%.2f", b - a}'
}
# pair NAME ENV...: the slower of two runs started together
pair() {
  local name=$1; shift
  local t0 t1
  t0=$(date +%s.%N)
  env "$@" "$midge" "${args[@]}" --out "$work/$name-a" >"$work/$name-a.log" 2>&1 &
  local a=$!
  env "$@" "$midge" "${args[@]}" --out "$work/$name-b" >"$work/$name-b.log" 2>&1 &
  local b=$!
  wait $a && wait $b || { cat "$work/$name-a.log" "$work/$name-b.log" >&2; exit 1; }
  t1=$(date +%s.%N)
  awk -v a="$t0" -v b="$t1" 'BEGIN {printf "%.2f", b - a}'
}
# best N CMD ARGS...: the smallest of N results of CMD
best() {
  local n=$1 b="" t; shift
  for _ in $(seq "$n"); do
    t=$("$@")
    if [ -z "$b" ] || awk -v a="$t" -v b="$b" 'BEGIN {exit !(a < b)}'; then b=$t; fi
    rm -rf "$work"/alone-* "$work"/spin-* "$work"/passive-* "$work"/one-*
  done
  echo "$b"
}
cpus=$(nproc)
alone_spin=$(best 3 one alone-spin OMP_WAIT_POLICY=ACTIVE)
alone_passive=$(best 3 one alone-passive MIDGE_BENCH=1)
pair_spin=$(best 2 pair spin OMP_WAIT_POLICY=ACTIVE)
pair_passive=$(best 2 pair passive MIDGE_BENCH=1)
args+=(--set run.threads=1)
pair_one=$(best 2 pair one OMP_WAIT_POLICY=ACTIVE)
args=("${args[@]:0:${#args[@]}-2}")
t0=$(date +%s.%N)
taskset -c 0 "$midge" "${args[@]}" --out "$work/pinned" >"$work/pinned.log" 2>&1
t1=$(date +%s.%N)
pinned=$(awk -v a="$t0" -v b="$t1" 'BEGIN {printf "%.2f", b - a}')
pinned_threads=$(grep -o "cpu ([0-9]* threads)" "$work/pinned.log" | head -1)
echo "$cpus CPUs; resnet18 64 px, 38 training images, 1+2 epochs"
echo "| runs | threads each | idle OpenMP threads | wall s | against the old default's pair |"
echo "| --- | --- | --- | --- | --- |"
r() { awk -v a="$pair_spin" -v b="$1" 'BEGIN {printf "%.2fx", a / b}'; }
echo "| one alone | $cpus | spinning (ACTIVE) | $alone_spin | |"
echo "| one alone | $cpus | passive (midge's default) | $alone_passive | |"
echo "| two together | $cpus | spinning (old default) | $pair_spin | 1.00x |"
echo "| two together | $cpus | passive (midge's default) | $pair_passive | $(r "$pair_passive") |"
echo "| two together | 1 | spinning | $pair_one | $(r "$pair_one") |"
echo "| taskset -c 0, one alone | default: $pinned_threads | passive | $pinned | |"
