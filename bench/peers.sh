#!/usr/bin/env bash
# midge against what users would pick instead, end to end on CPU: the
# paper's system (Keras 3 on TensorFlow, bench/peers/keras_train.py) and a
# current PyTorch 2.x + torchvision script (bench/peers/torch2_train.py), on
# the same generated JPEGs and the same split (`midge split --out`
# manifest), threads, batch, image size and steps, runs alternating; for
# each: training images/s of the last epoch's training loop (data loading
# included; the last epoch, so Keras' graph tracing in the first epoch
# after each compile is left out), peak RSS and validation accuracy, and
# midge's ratios; at
# SIZES (default "224 512") and AMPS (default "off bf16": fp32, and bf16 as
# Keras mixed_bfloat16, PyTorch CPU autocast, midge run.amp = bf16).
# Records the machine: CPU model, cores, native bf16, measured fp32 SGEMM
# peak.
#
# usage: bench/peers.sh   (build first: scripts/build.sh)
#   DATA=/path/to/imagefolder  use these images instead of generated ones
#   THREADS=2 BATCH=8 EPOCHS="1 2" (stage 1, stage 2) WORKERS=1
# All three train whole epochs of the same training images (80 generated:
# 10 steps of 8), so they run the same number of steps.
# The peers come from PyPI into venvs under ~/.cache/midge-peers (outside
# the repository), versions pinned below and printed.
set -euo pipefail
cd "$(dirname "$0")/.."
build=${BUILD_DIR:-build}
threads=${THREADS:-2}
batch=${BATCH:-8}
read -r e1 e2 <<<"${EPOCHS:-1 2}"
workers=${WORKERS:-1}
cache=${PEERS_CACHE:-$HOME/.cache/midge-peers}
TF_PINS=(tensorflow-cpu==2.21.0 keras==3.15.1)
TORCH_PINS=(torch==2.14.1 torchvision==0.29.2)
venv() {  # venv NAME PIN...: a venv with the pinned packages, reused once made
  local dir=$cache/$1
  shift
  if [ ! -x "$dir/bin/python" ] || ! "$dir/bin/python" -m pip freeze | grep -qxF "$1"; then
    python3 -m venv "$dir"
    "$dir/bin/python" -m pip install -q --find-links "$cache/wheels" "$@" numpy pillow >&2
  fi
  echo "$dir/bin/python"
}
tf_py=$(venv tf "${TF_PINS[@]}")
torch_py=$(venv torch2 "${TORCH_PINS[@]}")
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
data=${DATA:-}
if [ -z "$data" ]; then
  data=$work/data
  # 5 taxa x 20 JPEGs of 640x480: 80 training and 20 validation images.
  "$build/midge" synth --out "$data" --classes 5 --per-class 20 --size 640x480 --format jpg >/dev/null
fi
"$build/midge" split --data "$data" --out "$work/split.csv" >/dev/null
peak=$(/usr/bin/python3 bench/peers/peak_flops.py "$threads")
bf16=$(grep -o -m1 -w -E 'amx_bf16|avx512_bf16' /proc/cpuinfo || echo none)
echo "# $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ //'); $(nproc) cores; native bf16: $bf16; fp32 peak $peak"
echo "# $("$tf_py" -c 'import keras, tensorflow as tf; print(f"Keras {keras.__version__}, TensorFlow {tf.__version__}")'); $("$torch_py" -c 'import torch, torchvision; print(f"PyTorch {torch.__version__}, torchvision {torchvision.__version__}")'); $("$build/midge" --version | tr '\n' ' ')"
rows=()
for size in ${SIZES:-224 512}; do
  for amp in ${AMPS:-off bf16}; do
    # midge with paper.ini's recipe, without the elastic deformation the
    # peers lack.
    out=$work/midge-$size-$amp
    /usr/bin/time -f %M -o "$work/rss" "$build/midge" train --config configs/paper.ini \
      --set data.manifest="$work/split.csv" --set data.image_size="$size" --set data.workers="$workers" \
      --set stage1.epochs="$e1" --set stage2.epochs="$e2" --set stage1.batch_size="$batch" \
      --set stage2.batch_size="$batch" --set run.threads="$threads" --set run.amp="$amp" \
      --set augment.elastic_alpha=0 --set gradcam.max_images=0 --set run.checkpoint_every=0 \
      --out "$out" --log-level warn >/dev/null
    m=$(/usr/bin/python3 -c "
import h5py; f = h5py.File('$out/run.h5'); h = f['stage2/history' if $e2 > 0 else 'stage1/history']
print(h['images_per_second'][-1], h['val_acc'][-1])")
    m_rss=$(( $(cat "$work/rss") * 1024 ))
    k=$("$tf_py" bench/peers/keras_train.py --manifest "$work/split.csv" --size "$size" --batch "$batch" \
        --threads "$threads" --stage1-epochs "$e1" --stage2-epochs "$e2" --amp "$amp" | tail -1)
    t=$("$torch_py" bench/peers/torch2_train.py --manifest "$work/split.csv" --size "$size" --batch "$batch" \
        --threads "$threads" --workers "$workers" --stage1-epochs "$e1" --stage2-epochs "$e2" --amp "$amp" | tail -1)
    rows+=("$size $amp $m $m_rss $(echo "$k" | /usr/bin/python3 -c 'import json,sys; d=json.load(sys.stdin); print(d["images_per_second"], d["val_acc"], d["peak_rss_bytes"])') $(echo "$t" | /usr/bin/python3 -c 'import json,sys; d=json.load(sys.stdin); print(d["images_per_second"], d["val_acc"], d["peak_rss_bytes"])')")
  done
done
/usr/bin/python3 - "${rows[@]}" <<'PY'
import sys
print("| px | precision | midge img/s | Keras/TF img/s | PyTorch 2.x img/s | midge / Keras | midge / PyTorch | peak RSS midge / Keras / PyTorch (GB) | val acc midge / Keras / PyTorch |")
print("| --- | --- | --- | --- | --- | --- | --- | --- | --- |")
for row in sys.argv[1:]:
    size, amp, m, ma, mr, k, ka, kr, t, ta, tr = row.split()
    m, k, t = float(m), float(k), float(t)
    gb = lambda x: f"{int(x) / 1e9:.2f}"
    name = "fp32" if amp == "off" else amp
    print(f"| {size} | {name} | {m:.2f} | {k:.2f} | {t:.2f} | {m / k:.2f}x | {m / t:.2f}x | {gb(mr)} / {gb(kr)} / {gb(tr)} | {float(ma):.3f} / {float(ka):.3f} / {float(ta):.3f} |")
PY
