#!/usr/bin/env bash
# Prints the folder of a CUDA LibTorch: the torch package of PyPI's torch
# wheel (include/, lib/, share/cmake/), downloaded and unpacked once into
# the cache. Used by bundle.sh and build-cuda.sh.
# usage: torch=$(scripts/fetch-torch.sh [VERSION])   (default 2.11.0, the
# GPU machine's; TORCH_VERSION also sets it; cache: MIDGE_BUNDLE_CACHE,
# default ~/.cache/midge-bundle). Needs python3 with pip. Exit status 3:
# the wheel could not be downloaded; other failures exit 1.
set -euo pipefail
version=${1:-${TORCH_VERSION:-2.11.0}}
cache=${MIDGE_BUNDLE_CACHE:-$HOME/.cache/midge-bundle}
dir=$cache/torch-$version/torch
if [ ! -f "$dir/share/cmake/Torch/TorchConfig.cmake" ]; then
  echo "fetch-torch: downloading torch $version (a CUDA LibTorch, ~0.5 GB)" >&2
  mkdir -p "$cache/downloads"
  python3 -m pip download -q --no-deps --only-binary=:all: -d "$cache/downloads" \
    "torch==$version" >&2 || exit 3
  wheel=$(ls "$cache"/downloads/torch-"$version"-*.whl | head -1)
  # Unpacked beside, then moved into place: an interrupted run leaves no
  # half folder that a later run would take for complete.
  rm -rf "$cache/torch-$version" "$cache/torch-$version.partial"
  # Python's zipfile, so that no unzip is needed; only LibTorch's parts.
  python3 - "$wheel" "$cache/torch-$version.partial" <<'PY'
import sys, zipfile
with zipfile.ZipFile(sys.argv[1]) as z:
    z.extractall(sys.argv[2], [n for n in z.namelist()
                               if n.startswith(("torch/include/", "torch/lib/", "torch/share/"))
                               or n == "torch/version.py"])
PY
  chmod -R u+rwX "$cache/torch-$version.partial"
  mv "$cache/torch-$version.partial" "$cache/torch-$version"
fi
echo "$dir"
