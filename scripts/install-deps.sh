#!/usr/bin/env bash
# Installs every build, test and run dependency of midge from Debian 12's
# packages. Idempotent: when every package is already installed it touches
# nothing (no apt-get update, no network), so demo.sh and test.sh can call it
# on every run.
set -euo pipefail

PACKAGES=(
  # toolchain and style tools (scripts/lint.sh)
  build-essential cmake ninja-build pkg-config git clang-format clang-tidy
  # LibTorch (CPU, 1.13.1) and an optimized BLAS: Debian's torch links the
  # reference BLAS by default, which makes 1x1 convolutions ~8x slower.
  libtorch-dev libopenblas0-pthread
  # MPI
  libopenmpi-dev openmpi-bin
  # HDF5 (C and C++ bindings) and its command-line tools (h5dump, h5ls)
  libhdf5-dev hdf5-tools
  # options, images, logging, tests
  libboost-program-options-dev
  libopencv-core-dev libopencv-imgproc-dev libopencv-imgcodecs-dev
  libspdlog-dev libfmt-dev
  libgtest-dev
  # a real single-node Slurm for tests/slurm (scripts/slurm-local.sh)
  slurmctld slurmd slurm-client munge
  # network namespaces for the two-node tests (tests/multinode)
  iproute2
  # Python used by tests and analysis/ (torchvision parity, reading HDF5)
  python3 python3-numpy python3-h5py python3-torch python3-torchvision
)

missing=()
for p in "${PACKAGES[@]}"; do
  if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed"; then
    missing+=("$p")
  fi
done

if [ ${#missing[@]} -eq 0 ]; then
  echo "install-deps: all ${#PACKAGES[@]} packages already installed"
  exit 0
fi

SUDO=""
if [ "$(id -u)" -ne 0 ]; then SUDO="sudo"; fi
echo "install-deps: installing ${missing[*]}"
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -q
$SUDO apt-get install -y -q --no-install-recommends "${missing[@]}"
