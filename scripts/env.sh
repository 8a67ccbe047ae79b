# Environment for running midge's MPI jobs on this kind of machine; sourced
# by demo.sh and test.sh. OpenMPI refuses to run as root unless told, and a
# 2-core machine needs oversubscription for the 4-rank tests.
export OMPI_ALLOW_RUN_AS_ROOT=1
export OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1
export OMPI_MCA_rmaps_base_oversubscribe=1
# Builds (scripts/build.sh, build-cuda.sh, the sanitizer tests' own builds)
# use Ninja where it is installed: unlike Make, it starts a library's
# compiles before the libraries it links are finished, which keeps both
# cores busy. CMake only reads this for a new build folder; one configured
# with another generator keeps it.
if [ -z "${CMAKE_GENERATOR:-}" ] && command -v ninja >/dev/null; then
  export CMAKE_GENERATOR=Ninja
fi
