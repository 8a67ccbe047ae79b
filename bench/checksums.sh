#!/usr/bin/env bash
# What the checksums of result files cost (bench/RESULTS.md, "Checksums"):
# 1. saving and loading a ResNet-50 model.h5 and state.h5, with the part the
#    checks add measured on the same files in the same process
#    (bench/checksum_bench.cpp);
# 2. `midge verify` over a sweep folder (2 trials of ResNet-18, each with
#    model.h5, state.h5, state.prev.h5, run.h5), against coreutils'
#    sha256sum over the same files and against only reading them (cat).
# The page cache holds every file in every timing. usage: bench/checksums.sh
set -euo pipefail
cd "$(dirname "$0")/.."
build=${BUILD_DIR:-build}
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
files=$("$build/bench/midge_bench_checksums" --dir "$work/files" --arch resnet50 --classes 10)
"$build/midge" synth --out "$work/S" --classes 3 --per-class 6 --size 32 --seed 1 >/dev/null
printf '[grid]\nstage2.lr = 0.0001, 0.0003\n' >"$work/spec.ini"
"$build/midge" sweep --set data.root="$work/S" --set data.image_size=32 --set model.arch=resnet18 \
  --set stage1.epochs=1 --set stage2.epochs=1 --set stage1.batch_size=6 --set stage2.batch_size=6 \
  --set run.threads=2 --set gradcam.max_images=2 --sweep "$work/spec.ini" --out "$work/sw" \
  >/dev/null 2>&1
find "$work/sw" -name '*.h5' | sort >"$work/list"
best() {  # best of 3 wall seconds of "$@"
  local b="" s t0 t1
  for _ in 1 2 3; do
    t0=$(date +%s.%N)
    "$@" >/dev/null
    t1=$(date +%s.%N)
    s=$(/usr/bin/python3 -c "print($t1 - $t0)")
    if [ -z "$b" ] || /usr/bin/python3 -c "import sys; sys.exit(0 if $s < $b else 1)"; then b=$s; fi
  done
  echo "$b"
}
xargs cat <"$work/list" >/dev/null
verify=$(best "$build/midge" verify "$work/sw")
sums=$(best xargs -a "$work/list" sha256sum)
reads=$(best xargs -a "$work/list" cat)
bytes=$(xargs du -cb <"$work/list" | tail -1 | cut -f1)
count=$(wc -l <"$work/list")
/usr/bin/python3 - "$files" "$verify" "$sums" "$reads" "$bytes" "$count" <<'PY'
import json, sys
rows = [json.loads(l) for l in sys.argv[1].splitlines()]
verify, sums, reads, nbytes, count = map(float, sys.argv[2:])
print("| file | MB | save | of it: CRC-32 | of it: seal | load, checked | load, unchecked | checks' share of save / load |")
print("| --- | --- | --- | --- | --- | --- | --- | --- |")
for r in rows:
    print(f"| {r['file']} | {r['mb']:.1f} | {r['save']:.3f} s | {r['crc']:.3f} s | {r['seal']:.3f} s "
          f"| {r['load_checked']:.3f} s | {r['load_unchecked']:.3f} s "
          f"| {(r['crc'] + r['seal']) / r['save']:.0%} / {(r['load_checked'] - r['load_unchecked']) / r['load_checked']:.0%} |")
mb = nbytes / 1e6
print()
print(f"`midge verify` over a sweep folder: {int(count)} files, {mb:.0f} MB")
print("| | seconds | MB/s | against sha256sum |")
print("| --- | --- | --- | --- |")
print(f"| cat (reading only) | {reads:.3f} | {mb / reads:.0f} | {sums / reads:.2f}x |")
print(f"| coreutils sha256sum | {sums:.3f} | {mb / sums:.0f} | 1.00x |")
print(f"| midge verify | {verify:.3f} | {mb / verify:.0f} | {sums / verify:.2f}x |")
PY
