#!/usr/bin/env bash
# Data-path benchmark (issue: data pipeline): decode + augment + batch at
# 512 px from 1024x768 JPEGs, midge's Loader against a PyTorch DataLoader +
# torchvision transforms pipeline, same files, same run, 1 and 2 workers.
# usage: bench/data.sh [IMAGES_PER_TAXON]   (build first: scripts/build.sh)
set -euo pipefail
cd "$(dirname "$0")/.."
per_taxon=${1:-64}
build=${BUILD_DIR:-build}
data=bench/data/jpeg1024x768
if [ ! -f "$data/regions.csv" ] || [ "$(find "$data" -name '*.jpg' | wc -l)" -ne $((5 * per_taxon)) ]; then
  rm -rf "$data"
  "$build/midge" synth --out "$data" --classes 5 --per-class "$per_taxon" --size 1024x768 --format jpg >/dev/null
fi
echo "# $(nproc) cores, $(find "$data" -name '*.jpg' | wc -l) JPEGs 1024x768, output 512x512, batch 32"
results=()
for w in 1 2; do
  results+=("$("$build/bench/midge_bench_data" --data "$data" --workers $w)")
  results+=("$(/usr/bin/python3 bench/peers/torchvision_data.py --data "$data" --workers $w)")
  results+=("$(/usr/bin/python3 bench/peers/torchvision_data.py --data "$data" --workers $w --draft)")
done
results+=("$("$build/bench/midge_bench_data" --data "$data" --workers 2 --augment elastic)")
printf '%s\n' "${results[@]}"
/usr/bin/python3 - "${results[@]}" <<'PY'
import json, sys
rows = [json.loads(r) for r in sys.argv[1:]]
def get(impl, w, aug="paper"):
    return next(r for r in rows if r["impl"] == impl and r["workers"] == w and r["augment"] == aug)
print("| workers | midge img/s | torchvision img/s | ratio | torchvision+draft img/s | ratio | midge img/s per worker |")
print("| --- | --- | --- | --- | --- | --- | --- |")
for w in (1, 2):
    m, t, d = get("midge", w), get("torchvision", w), get("torchvision+draft", w)
    mi = m["images_per_second"]
    print(f"| {w} | {mi:.1f} | {t['images_per_second']:.1f} | {mi / t['images_per_second']:.2f}x | "
          f"{d['images_per_second']:.1f} | {mi / d['images_per_second']:.2f}x | {mi / w:.1f} |")
e = get("midge", 2, "elastic")
print(f"| 2, + elastic | {e['images_per_second']:.1f} | | | | | {e['images_per_second'] / 2:.1f} |")
PY
