#!/usr/bin/env bash
# midge against what users would pick instead, end to end on CPU: the
# paper's system (Keras 3 on TensorFlow, bench/peers/keras_train.py) and a
# current PyTorch 2.x + torchvision script (bench/peers/torch2_train.py), on
# the same generated JPEGs and the same split (`midge split --out`
# manifest), threads, batch, image size and steps, runs alternating. For
# each: training images/s of the last epoch's training loop (data loading
# included; the last epoch, so Keras' graph tracing in the first epoch
# after each compile is left out), peak RSS and validation accuracy after
# the last epoch, as mean ± sd over SEEDS, and midge's ratios (of the
# means). At SIZES (default "224 512") and AMPS (default "off bf16": fp32,
# and bf16 as Keras mixed_bfloat16, PyTorch CPU autocast, midge run.amp =
# bf16). Records the machine: CPU model, cores, native bf16, measured fp32
# SGEMM peak.
#
# usage: bench/peers.sh   (build first: scripts/build.sh)
#   DATA=/path/to/imagefolder  use these images (taxon-per-folder) instead
#                              of generated ones
#   PER_CLASS=20      generated JPEGs (640x480) per taxon, 5 taxa
#   THREADS=2 BATCH=8 EPOCHS="1 2" (stage 1, stage 2) WORKERS=1 SEEDS="1"
#   AUGMENT=paper     or none: no augmentation in any of the three
#   OPT2=sgd LR2=0.0001  stage 2's optimizer (sgd|adam) and rate (configs/
#                     paper.ini's; the rate may exceed stage 1's: midge gets
#                     stage2.allow_higher_lr)
#   MIDGE_BUILDS="build build-torch2"  midge from several build folders
#                     (say, one against another LibTorch: scripts/build-cuda.sh
#                     with TORCH_DIR and BUILD_CUDA_DIR), one row each
# Recipe: configs/paper.ini's, with what the peers lack turned off in
# midge (elastic deformation, the cosine schedule, early stopping); all
# train whole epochs of the same training images, so the same steps.
# The like-for-like accuracy runs (longer, smaller images, stage 2 with
# Adam, which learns from random weights in a few epochs where SGD at
# paper.ini's rate does not), with and without augmentation:
#   PER_CLASS=60 SIZES=128 AMPS=bf16 EPOCHS="1 8" OPT2=adam LR2=0.001 SEEDS="1 2 3" bench/peers.sh
#   AUGMENT=none PER_CLASS=60 SIZES=128 ... (the same)
# The peers come from PyPI into venvs under ~/.cache/midge-peers (outside
# the repository), versions pinned in bench/peers/venvs.sh and printed.
set -euo pipefail
cd "$(dirname "$0")/.."
builds=(${MIDGE_BUILDS:-${BUILD_DIR:-build}})
threads=${THREADS:-2}
batch=${BATCH:-8}
read -r e1 e2 <<<"${EPOCHS:-1 2}"
workers=${WORKERS:-1}
lr2=${LR2:-0.0001}
opt2=${OPT2:-sgd}
augment=${AUGMENT:-paper}
no_augment=()
if [ "$augment" = none ]; then
  no_augment=(--set augment.rotate_deg=0 --set augment.shift=0 --set augment.scale=0 --set augment.shear=0
              --set augment.hflip=false --set augment.vflip=false --set augment.brightness=0
              --set augment.contrast=0)
fi
source bench/peers/venvs.sh
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
data=${DATA:-}
if [ -z "$data" ]; then
  data=$work/data
  "${builds[0]}/midge" synth --out "$data" --classes 5 --per-class "${PER_CLASS:-20}" --size 640x480 \
    --format jpg >/dev/null
fi
"${builds[0]}/midge" split --data "$data" --out "$work/split.csv" >/dev/null
echo "# $(grep -c ',train$' "$work/split.csv") training, $(grep -c ',val$' "$work/split.csv") validation images from $data"
peak=$(/usr/bin/python3 bench/peers/peak_flops.py "$threads")
bf16=$(grep -o -m1 -w -E 'amx_bf16|avx512_bf16' /proc/cpuinfo || echo none)
echo "# $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ //'); $(nproc) cores; native bf16: $bf16; fp32 peak $peak"
echo "# $peer_versions"
summary() {  # summary PYTHON: the img/s, val acc and peak RSS of a peer's last JSON line
  tail -1 | "$1" -c 'import json,sys; d=json.load(sys.stdin); print(d["images_per_second"], d["val_acc"], d["peak_rss_bytes"])'
}
rows=()
for size in ${SIZES:-224 512}; do
  for amp in ${AMPS:-off bf16}; do
    for seed in ${SEEDS:-1}; do
      for b in "${builds[@]}"; do
        out=$work/midge-$size-$amp-$seed
        rm -rf "$out"
        /usr/bin/time -f %M -o "$work/rss" "$b/midge" train --config configs/paper.ini \
          --set data.manifest="$work/split.csv" --set data.image_size="$size" --set data.workers="$workers" \
          --set stage1.epochs="$e1" --set stage2.epochs="$e2" --set stage1.batch_size="$batch" \
          --set stage2.batch_size="$batch" --set stage2.optimizer="$opt2" --set stage2.lr="$lr2" \
          --set stage2.allow_higher_lr=true --set stage2.schedule=none \
          --set stage2.early_stop_patience=0 --set run.threads="$threads" --set run.amp="$amp" \
          --set run.seed="$seed" --set augment.elastic_alpha=0 --set gradcam.max_images=0 \
          --set run.checkpoint_every=0 "${no_augment[@]}" --out "$out" --log-level warn >/dev/null
        name="midge(LibTorch-$("$b/midge" --version | sed -n 's/^LibTorch //p'))"
        m=$(/usr/bin/python3 -c "
import h5py; f = h5py.File('$out/run.h5'); h = f['stage2/history' if $e2 > 0 else 'stage1/history']
print(h['images_per_second'][-1], h['val_acc'][-1])")
        rows+=("$size $amp $seed $name $m $(($(cat "$work/rss") * 1024))")
      done
      common=(--manifest "$work/split.csv" --size "$size" --batch "$batch" --threads "$threads"
              --stage1-epochs "$e1" --stage2-epochs "$e2" --opt2 "$opt2" --lr2 "$lr2" --augment "$augment"
              --amp "$amp" --seed "$seed")
      rows+=("$size $amp $seed Keras/TF $("$tf_py" bench/peers/keras_train.py "${common[@]}" | summary "$tf_py")")
      rows+=("$size $amp $seed PyTorch-2.x $("$torch_py" bench/peers/torch2_train.py "${common[@]}" \
               --workers "$workers" | summary "$torch_py")")
    done
  done
done
printf '# %s\n' "${rows[@]}"
/usr/bin/python3 - "${rows[@]}" <<'PY'
import statistics as st, sys
runs = {}
for row in sys.argv[1:]:
    size, amp, seed, name, ips, acc, rss = row.split()
    runs.setdefault((int(size), amp), {}).setdefault(name, []).append((float(ips), float(acc), int(rss)))
def ms(xs, f):
    return f"{f(st.mean(xs))} ± {f(st.stdev(xs))}" if len(xs) > 1 else f(xs[0])
print("| px | precision | runner | runs | train img/s | / Keras | / PyTorch | peak RSS (GB) | val acc |")
print("| --- | --- | --- | --- | --- | --- | --- | --- | --- |")
for (size, amp), by in runs.items():
    mean = {n: st.mean(r[0] for r in rs) for n, rs in by.items()}
    for n, rs in by.items():
        ratio = lambda peer: f"{mean[n] / mean[peer]:.2f}x" if n != peer else ""
        print(f"| {size} | {'fp32' if amp == 'off' else amp} | {n.replace('-', ' ')} | {len(rs)} | "
              f"{ms([r[0] for r in rs], lambda x: f'{x:.2f}')} | {ratio('Keras/TF')} | {ratio('PyTorch-2.x')} | "
              f"{max(r[2] for r in rs) / 1e9:.2f} | {ms([r[1] for r in rs], lambda x: f'{x:.3f}')} |")
PY
