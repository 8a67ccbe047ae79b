#!/usr/bin/env bash
# Data-path benchmark: decode + augment + batch at 512 px from 1024x768
# JPEGs, midge's Loader against the pipelines users would write instead,
# same files, same run, 1 and 2 workers:
#  - Debian's PyTorch 1.13 / torchvision 0.14 DataLoader with PIL decode and
#    torchvision transforms (bench/peers/torchvision_data.py), also with
#    PIL's reduced-resolution JPEG decode (+draft);
#  - the current PyTorch 2.x / torchvision: decode_image + transforms.v2 on
#    uint8 tensors, DataLoader workers (bench/peers/torch2_data.py);
#  - the paper's system today: a tf.data pipeline with Keras preprocessing
#    layers, W parallel calls on a pool of W threads (bench/peers/tf_data.py).
# The last two come from PyPI into venvs (bench/peers/venvs.sh).
# usage: bench/data.sh [IMAGES_PER_TAXON]   (build first: scripts/build.sh)
set -euo pipefail
cd "$(dirname "$0")/.."
per_taxon=${1:-64}
build=${BUILD_DIR:-build}
data=bench/data/jpeg1024x768
source bench/peers/venvs.sh
if [ ! -f "$data/regions.csv" ] || [ "$(find "$data" -name '*.jpg' | wc -l)" -ne $((5 * per_taxon)) ]; then
  rm -rf "$data"
  "$build/midge" synth --out "$data" --classes 5 --per-class "$per_taxon" --size 1024x768 --format jpg >/dev/null
fi
echo "# $(nproc) cores, $(find "$data" -name '*.jpg' | wc -l) JPEGs 1024x768, output 512x512, batch 32"
echo "# $(/usr/bin/python3 -c 'import torch, torchvision; print(f"Debian: PyTorch {torch.__version__}, torchvision {torchvision.__version__}")'); PyPI: $peer_versions"
results=()
for w in 1 2; do
  results+=("$("$build/bench/midge_bench_data" --data "$data" --workers $w)")
  results+=("$(/usr/bin/python3 bench/peers/torchvision_data.py --data "$data" --workers $w)")
  results+=("$(/usr/bin/python3 bench/peers/torchvision_data.py --data "$data" --workers $w --draft)")
  results+=("$("$torch_py" bench/peers/torch2_data.py --data "$data" --workers $w)")
  results+=("$("$tf_py" bench/peers/tf_data.py --data "$data" --workers $w)")
done
results+=("$("$build/bench/midge_bench_data" --data "$data" --workers 2 --augment elastic)")
printf '%s\n' "${results[@]}"
/usr/bin/python3 - "${results[@]}" <<'PY'
import json, sys
rows = [json.loads(r) for r in sys.argv[1:]]
def get(impl, w, aug="paper"):
    return next(r for r in rows if r["impl"] == impl and r["workers"] == w and r["augment"] == aug)
peers = [("torchvision PIL (Debian)", "torchvision"), ("+draft", "torchvision+draft"),
         ("torchvision v2 (PyPI)", "torchvision-v2"), ("tf.data (PyPI)", "tf.data")]
print("| workers | midge img/s | " + " | ".join(f"{name} img/s | midge / it" for name, _ in peers)
      + " | midge img/s per worker |")
print("| --- " * (3 + 2 * len(peers)) + "|")
for w in (1, 2):
    mi = get("midge", w)["images_per_second"]
    cells = []
    for _, prefix in peers:
        p = get(prefix, w)["images_per_second"]
        cells += [f"{p:.1f}", f"{mi / p:.2f}x"]
    print(f"| {w} | {mi:.1f} | " + " | ".join(cells) + f" | {mi / w:.1f} |")
e = get("midge", 2, "elastic")["images_per_second"]
print(f"| 2, + elastic | {e:.1f} | " + " | " * (2 * len(peers) - 1) + f" | {e / 2:.1f} |")
PY
