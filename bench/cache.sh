#!/usr/bin/env bash
# The decoded-image cache (issue: sweeps, "decode once per sweep"): 80
# synthetic 2000x1500 JPEGs shaped to 512 px with the paper recipe's
# augmentation, in the same run:
#   loader: images/s of midge's Loader (2 workers) over two epochs without a
#           cache and, after one epoch that fills it, with data.cache = memory;
#   trial:  `midge train` (resnet18, 512 px, batch 8, 2 threads, stage 2 of
#           two epochs) with data.cache none and memory: training images/s of
#           each epoch from run.h5 (the second epoch of the cached run decodes
#           nothing).
# usage: bench/cache.sh   (build first: scripts/build.sh)
set -euo pipefail
cd "$(dirname "$0")/.."
build=${BUILD_DIR:-build}
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
"$build/midge" synth --out "$work/data" --classes 5 --per-class 16 --size 2000x1500 --format jpg >/dev/null
none=$("$build/bench/midge_bench_data" --data "$work/data" --workers 2 --cache none)
memory=$("$build/bench/midge_bench_data" --data "$work/data" --workers 2 --cache memory)
for cache in none memory; do
  "$build/midge" train --set data.root="$work/data" --set data.image_size=512 --set model.arch=resnet18 \
    --set model.pretrained=none --set stage1.epochs=0 --set stage2.epochs=2 --set stage2.batch_size=8 \
    --set stage2.early_stop_patience=0 --set run.threads=2 --set data.workers=2 \
    --set gradcam.max_images=0 --set run.checkpoint_every=0 --set data.cache=$cache \
    --out "$work/train-$cache" --log-level warn >/dev/null
done
/usr/bin/python3 - "$work" "$none" "$memory" <<'PY'
import json, sys
import h5py
work, none, memory = sys.argv[1], json.loads(sys.argv[2]), json.loads(sys.argv[3])
n, m = none["images_per_second"], memory["images_per_second"]
print("| | no cache | data.cache = memory | ratio |")
print("| --- | --- | --- | --- |")
print(f"| loader img/s (2 workers, 512 px, paper augmentation) | {n:.1f} | {m:.1f} | {m / n:.2f}x |")
ips = {c: h5py.File(f"{work}/train-{c}/run.h5")["stage2/history/images_per_second"][:] for c in ("none", "memory")}
for e in (0, 1):
    a, b = ips["none"][e], ips["memory"][e]
    print(f"| trial, epoch {e + 1}: training img/s | {a:.2f} | {b:.2f} | {b / a:.2f}x |")
PY
