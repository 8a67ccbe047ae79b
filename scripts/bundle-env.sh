# Environment of a relocatable midge bundle (scripts/bundle.sh); shipped as
# <bundle>/env.sh. Source it (bash):   source midge-<version>-<arch>/env.sh
# It puts the bundle's bin/ (midge, mpiexec) first on PATH, tells the
# shipped OpenMPI where it now lives, and finds LibTorch: $MIDGE_TORCH_LIB
# if set (a LibTorch lib/ folder), else the lib/ of the torch package that
# python3 imports. The LibTorch must be the version the bundle was linked
# against (TORCH_VERSION in the bundle); another version fails to load.
_midge_root=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
_midge_want=$(cat "$_midge_root/TORCH_VERSION")
if [ -z "${MIDGE_TORCH_LIB:-}" ]; then
  # find_spec locates the package without importing it (no CUDA start-up).
  MIDGE_TORCH_LIB=$(python3 -c 'import importlib.util, os
s = importlib.util.find_spec("torch")
print(os.path.join(os.path.dirname(s.origin), "lib") if s else "")')
fi
if [ ! -e "${MIDGE_TORCH_LIB:-}/libtorch.so" ]; then
  echo "midge env.sh: no LibTorch found; set MIDGE_TORCH_LIB to the lib/ folder of LibTorch $_midge_want" >&2
  return 1
fi
# A PyPI torch has version.py beside lib/; other LibTorch folders may not.
_midge_have=
if [ -f "$MIDGE_TORCH_LIB/../version.py" ]; then
  _midge_have=$(sed -n "s/^__version__ = '\([^'+]*\).*/\1/p" "$MIDGE_TORCH_LIB/../version.py")
fi
if [ -n "$_midge_have" ] && [ "$_midge_have" != "$_midge_want" ]; then
  echo "midge env.sh: warning: LibTorch $_midge_have in $MIDGE_TORCH_LIB, the bundle was linked against $_midge_want" >&2
fi
export MIDGE_TORCH_LIB
export PATH="$_midge_root/bin:$PATH"
export LD_LIBRARY_PATH="$MIDGE_TORCH_LIB${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}"
# OpenMPI (PMIx, PRRTE) find their help and configuration files from these.
export OPAL_PREFIX="$_midge_root" PRTE_PREFIX="$_midge_root" PMIX_PREFIX="$_midge_root"
unset _midge_root _midge_want _midge_have
