#!/usr/bin/env bash
# Training throughput (issue: two-stage fine-tuning): `midge train` against a
# same-recipe PyTorch + torchvision script (bench/peers/torchvision_train.py)
# on the same images, threads and batch, in the same run, at 224 and 512 px;
# plus the share of the machine's measured fp32 peak. Both in fp32
# (run.amp = off; the peer script has no autocast); a last column gives
# midge with bf16 autocast (run.amp = bf16, what run.amp = auto picks on a
# CPU with native bf16) against midge in fp32.
# usage: bench/train.sh   (build first: scripts/build.sh)
set -euo pipefail
cd "$(dirname "$0")/.."
build=${BUILD_DIR:-build}
threads=${THREADS:-2}
batch=${BATCH:-8}
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
# 5 taxa x 15 images: 60 training images = 7-8 steps of batch 8 per epoch.
"$build/midge" synth --out "$work/data" --classes 5 --per-class 15 --size 640x480 --format jpg >/dev/null
peak=$(/usr/bin/python3 bench/peers/peak_flops.py "$threads")
echo "# $(nproc) cores; peak $peak"
rows=()
midge_ips() {  # midge_ips SIZE AMP: images/s of the second epoch
  "$build/midge" train --set data.root="$work/data" --set data.image_size="$1" --set model.arch=resnet50 \
    --set stage1.epochs=0 --set stage2.epochs=2 --set stage2.batch_size=$batch --set stage2.optimizer=sgd \
    --set stage2.lr=0.0001 --set stage2.schedule=none --set stage2.early_stop_patience=0 \
    --set run.threads=$threads --set data.workers=1 --set run.checkpoint_every=0 \
    --set run.amp="$2" --out "$work/run$1$2" --log-level warn >/dev/null
  /usr/bin/python3 -c "import h5py; print(h5py.File('$work/run$1$2/run.h5')['stage2/history/images_per_second'][-1])"
}
for size in 224 512; do
  "$build/midge" train --set data.root="$work/data" --set data.image_size=$size --set model.arch=resnet50 \
    --set stage1.epochs=0 --set stage2.epochs=2 --set stage2.batch_size=$batch --set stage2.optimizer=sgd \
    --set stage2.lr=0.0001 --set stage2.schedule=none --set stage2.early_stop_patience=0 \
    --set run.threads=$threads --set data.workers=1 --set run.checkpoint_every=0 \
    --set run.amp=off --out "$work/run$size" --log-level warn >/dev/null
  m=$(/usr/bin/python3 -c "import h5py; print(h5py.File('$work/run$size/run.h5')['stage2/history/images_per_second'][-1])")
  p=$(/usr/bin/python3 bench/peers/torchvision_train.py --data "$work/data" --size $size --batch $batch \
      --threads "$threads" --workers 1 | /usr/bin/python3 -c "import json,sys; print(json.load(sys.stdin)['images_per_second'])")
  # The same script with glibc tuned as midge tunes it (no mmap for large
  # buffers): what a PyTorch user gets from MALLOC_* variables.
  q=$(MALLOC_MMAP_MAX_=0 MALLOC_TRIM_THRESHOLD_=2147483647 /usr/bin/python3 bench/peers/torchvision_train.py \
      --data "$work/data" --size $size --batch $batch --threads "$threads" --workers 1 \
      | /usr/bin/python3 -c "import json,sys; print(json.load(sys.stdin)['images_per_second'])")
  b=$(midge_ips $size bf16)
  rows+=("$size $m $p $q $b")
done
/usr/bin/python3 - "$peak" "${rows[@]}" <<'PY'
import json, sys
peak = json.loads(sys.argv[1])["sgemm_gflops"]
print("| px | midge img/s | PyTorch img/s | ratio | PyTorch + malloc tuning img/s | ratio | midge GFLOP/s | share of peak | midge bf16 img/s | bf16 / fp32 |")
print("| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |")
for row in sys.argv[2:]:
    size, m, p, q, b = row.split()
    size, m, p, q, b = int(size), float(m), float(p), float(q), float(b)
    gflop = 24.5 * (size / 224) ** 2  # ResNet-50 training, per image
    print(f"| {size} | {m:.2f} | {p:.2f} | {m / p:.2f}x | {q:.2f} | {m / q:.2f}x | {m * gflop:.1f} | {100 * m * gflop / peak:.0f}% | {b:.2f} | {b / m:.2f}x |")
print(f"peak: {peak} GFLOP/s fp32 SGEMM")
PY
