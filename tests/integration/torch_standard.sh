#!/usr/bin/env bash
# The C++ standard follows LibTorch (cmake/MidgeTorchStandard.cmake): a
# LibTorch stating C++20 on its target (2.14) raises the project to C++20,
# one stating 17 (2.11) or 14 (Debian's 1.13) leaves it at C++17, and a
# translation unit with LibTorch 2.14's "C++20 or later" check builds.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
# TORCH_STD:EXPECT (an empty TORCH_STD: the target states no standard)
for case in 20:20 17:17 14:17 :17; do
  IFS=: read -r torch_std expect <<<"$case"
  dir=$work/std-${torch_std:-none}
  cmake -S "$root/tests/cmake/torch_standard" -B "$dir" -DMIDGE_CMAKE_DIR="$root/cmake" \
    -DTORCH_STD="$torch_std" -DEXPECT="$expect" >"$dir.log" 2>&1 ||
    { cat "$dir.log"; echo "FAIL: configure with torch at C++${torch_std:-(none)}"; exit 1; }
  cmake --build "$dir" >>"$dir.log" 2>&1 ||
    { cat "$dir.log"; echo "FAIL: build with torch at C++${torch_std:-(none)}"; exit 1; }
  echo "torch states C++${torch_std:-(nothing)}: project C++$expect, builds"
done
echo "PASS"
