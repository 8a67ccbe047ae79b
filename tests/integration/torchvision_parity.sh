#!/usr/bin/env bash
# Exports torchvision ResNet-18 and -50 (fixed seed, random BatchNorm
# statistics) with Debian's python3-torchvision, then checks that midge's
# logits match torchvision's within 1e-4, from TorchScript and from model.h5.
set -euo pipefail
parity_bin=$1
dir=$(mktemp -d)
trap 'rm -rf "$dir"' EXIT
src=${MIDGE_SOURCE_DIR:?}
for arch in resnet18 resnet50; do
  /usr/bin/python3 "$src/analysis/export_torchvision.py" --arch "$arch" --classes 5 --seed 11 \
    --randomize-bn --pt "$dir/$arch.pt" --h5 "$dir/$arch.h5" --check-input "$dir/${arch}_check.h5"
done
# The suite is in midge_unit_tests; a filter that selects nothing passes
# there, so the count of tests that passed is checked too.
MIDGE_PARITY_DIR=$dir "$parity_bin" --gtest_filter="TorchvisionParity.*" | tee "$dir/out"
grep -q "^\[  PASSED  \] 2 tests\.$" "$dir/out" ||
  { echo "FAIL: expected the 2 TorchvisionParity tests to run and pass"; exit 1; }
