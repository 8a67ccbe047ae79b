#!/usr/bin/env bash
# Folder vs pack (midge pack, docs/data.md): wall time and files opened to
# read every image of a set of small images, from a folder of one file per
# image and from its pack, each on a cold cache (the kernel's page, inode
# and directory caches dropped before every pass: needs root). Reading is
# what the loader does (bench/read_bench.cpp: scan, then the bytes of
# every image; no decoding). Files opened and metadata calls (stat family,
# directory listings) on the data are counted with strace in a pass of
# their own, so that tracing does not slow the timed passes.
# usage: bench/pack.sh [IMAGES_PER_TAXON (default 1000, 10 taxa)] [PASSES (default 3)]
set -euo pipefail
cd "$(dirname "$0")/.."
per_taxon=${1:-1000}
passes=${2:-3}
build=${BUILD_DIR:-build}
[ "$(id -u)" -eq 0 ] || { echo "bench/pack.sh: dropping the caches needs root" >&2; exit 1; }
command -v strace >/dev/null || { echo "bench/pack.sh: needs strace (apt-get install strace)" >&2; exit 1; }
data=bench/data/small64
if [ "$(find "$data" -name '*.png' 2>/dev/null | wc -l)" -ne $((10 * per_taxon)) ]; then
  rm -rf "$data" "$data.h5"
  "$build/midge" synth --out "$data" --classes 10 --per-class "$per_taxon" --size 64 >/dev/null
fi
[ -f "$data.h5" ] && [ "$data.h5" -nt "$data" ] || "$build/midge" pack "$data" --out "$data.h5"
cold() { sync; echo 3 >/proc/sys/vm/drop_caches; }
echo "# $(nproc) cores; $(find "$data" -name '*.png' | wc -l) PNGs of 64x64 ($(du -sh --apparent-size "$data" | cut -f1)), pack $(du -h --apparent-size "$data.h5" | cut -f1); cold cache each pass"
for source in "$data" "$data.h5"; do
  for threads in 1 4; do
    for pass in $(seq "$passes"); do
      cold
      "$build/bench/midge_bench_read" --data "$source" --threads "$threads"
    done
  done
  cold
  strace -f -qq -o "$build/pack-trace.txt" -e trace=open,openat,stat,lstat,newfstatat,statx,getdents64 \
    "$build/bench/midge_bench_read" --data "$source" --threads 1 >/dev/null
  # Calls on the data (its path in the arguments; getdents64 names a descriptor).
  opened=$(grep -E '(open|openat)\(' "$build/pack-trace.txt" | grep -cF "\"$source")
  stats=$(grep -E '(stat|lstat|newfstatat|statx)\(' "$build/pack-trace.txt" | grep -cF "\"$source")
  listings=$(grep -c 'getdents64(' "$build/pack-trace.txt")
  echo "{\"source\": \"$source\", \"files_opened\": $opened, \"stat_calls\": $stats, \"getdents64\": $listings}"
done
