#!/usr/bin/env bash
# What recording every image's SHA-256 costs a run (run.h5 /split/*/sha256,
# checked by `midge replay`), in the same run: midge's hashing
# (data::content_hashes, as the trainer calls it with data.workers threads,
# up to 8) on 1 and 2 threads against coreutils' sha256sum over the same
# files, and against one epoch of the data path it precedes (decode +
# paper augmentation to 512 px, 2 workers, bench/midge_bench_data). 80
# synthetic 2000x1500 JPEGs, as in bench/cache.sh; files are read once
# before timing, so the page cache holds them for every contender.
# usage: bench/hash.sh   (build first: scripts/build.sh)
set -euo pipefail
cd "$(dirname "$0")/.."
build=${BUILD_DIR:-build}
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
"$build/midge" synth --out "$work/data" --classes 5 --per-class 16 --size 2000x1500 --format jpg >/dev/null
find "$work/data" -name '*.jpg' | sort >"$work/files"
xargs cat <"$work/files" >/dev/null
one=$("$build/bench/midge_bench_hash" --data "$work/data" --threads 1)
two=$("$build/bench/midge_bench_hash" --data "$work/data" --threads 2)
best=""
for _ in 1 2 3; do
  t0=$(date +%s.%N)
  xargs sha256sum <"$work/files" >"$work/sums"
  t1=$(date +%s.%N)
  s=$(/usr/bin/python3 -c "print($t1 - $t0)")
  if [ -z "$best" ] || /usr/bin/python3 -c "import sys; sys.exit(0 if $s < $best else 1)"; then best=$s; fi
done
[ "$(wc -l <"$work/sums")" -eq "$(wc -l <"$work/files")" ] || { echo "sha256sum missed files" >&2; exit 1; }
epoch=$("$build/bench/midge_bench_data" --data "$work/data" --workers 2 --epochs 1)
/usr/bin/python3 - "$one" "$two" "$best" "$epoch" <<'PY'
import json, sys
one, two, coreutils, epoch = json.loads(sys.argv[1]), json.loads(sys.argv[2]), float(sys.argv[3]), json.loads(sys.argv[4])
mb = one["bytes"] / 1e6
epoch_s = epoch["seconds"] / epoch["images"] * one["files"]
print(f"{one['files']} files, {mb:.1f} MB")
print("| | seconds | MB/s | against sha256sum | share of one data epoch |")
print("| --- | --- | --- | --- | --- |")
print(f"| coreutils sha256sum | {coreutils:.3f} | {mb / coreutils:.0f} | 1.00x | {coreutils / epoch_s:.1%} |")
for r in (one, two):
    print(f"| midge, {r['threads']} thread(s) | {r['seconds']:.3f} | {r['mb_per_second']:.0f} | "
          f"{coreutils / r['seconds']:.2f}x | {r['seconds'] / epoch_s:.1%} |")
print(f"| one epoch of the data path (2 workers, 512 px, paper augmentation) | {epoch_s:.2f} | | | 100% |")
PY
