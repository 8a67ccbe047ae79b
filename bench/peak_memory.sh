#!/usr/bin/env bash
# Peak memory of a run (issue #10): ResNet-50 at 512 px on CPU, training
# batch 8, 15 validation images, with Grad-CAM off (gradcam.max_images = 0)
# and at its default (64, i.e. all 15). The peak RSS of each `midge train`
# process is measured by the operating system (getrusage of the child);
# for a binary that records it, run.h5's peak_rss_bytes is shown too.
# usage: bench/peak_memory.sh [MIDGE_BINARY...]   (default build/midge;
# give an older binary as well to compare before/after in the same run)
set -euo pipefail
cd "$(dirname "$0")/.."
binaries=("$@")
[ ${#binaries[@]} -gt 0 ] || binaries=("${BUILD_DIR:-build}/midge")
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
# 3 taxa x 10 images, every second one to validation: 15 train, 15 val.
"${binaries[0]}" synth --out "$work/data" --classes 3 --per-class 10 --size 640x480 --format jpg >/dev/null
echo "| binary | gradcam.max_images | peak RSS (OS) | run.h5 peak_rss_bytes |"
echo "| --- | --- | --- | --- |"
for bin in "${binaries[@]}"; do
  for n in 0 64; do
    out="$work/run_$(basename "$bin")_$n"
    rss=$(/usr/bin/python3 - "$bin" train --set data.root="$work/data" --set data.split_every=2 \
      --set data.split_offset=1 --set data.image_size=512 --set model.arch=resnet50 \
      --set stage1.epochs=0 --set stage2.epochs=1 --set stage2.batch_size=8 --set run.threads=2 \
      --set data.workers=1 --set gradcam.max_images=$n --out "$out" --log-level warn <<'PY'
import resource, subprocess, sys
subprocess.run(sys.argv[1:], check=True, stdout=subprocess.DEVNULL)
print(resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss * 1024)
PY
)
    rec=$(/usr/bin/python3 -c "import h5py; print(h5py.File('$out/run.h5', 'r').attrs.get('peak_rss_bytes', 'not recorded'))")
    /usr/bin/python3 -c "import sys; print(f\"| {sys.argv[1]} | {sys.argv[2]} | {int(sys.argv[3]) / 1e9:.2f} GB | {sys.argv[4]} |\")" "$bin" "$n" "$rss" "$rec"
  done
done
