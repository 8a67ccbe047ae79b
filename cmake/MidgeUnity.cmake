# Unity builds (issue #27). Every target's sources are compiled as one
# translation unit (CMake's UNITY_BUILD; MIDGE_UNITY_BATCH_SIZE splits a
# target into batches of that many sources), so LibTorch's headers are
# parsed, and its inline functions and templates instantiated and
# optimised, once per target instead of once per source. On a 2-core
# machine a clean build of `midge` takes ~1/3 of the time it takes source
# by source with a precompiled header (bench/RESULTS.md, "Build time"), and
# one batch per target took 75 s and 144 core-seconds for the test build
# against 99 s and 186 with batches of 14: the libraries' batches compile
# side by side, and midge_core's (34 s, 1.6 GB of compiler memory) is
# shorter than the rest of the build.
#
# The price is paid when editing: a change to one source recompiles its
# whole target (~35 s for midge_core). For edit-compile work configure
# with -DMIDGE_UNITY=OFF; the precompiled header (cmake/MidgePch.cmake)
# then makes each LibTorch source ~10 s instead of ~20 s.
#
# A batch is one translation unit, so names in anonymous namespaces (and
# `static` ones) must be unique across a target's sources; the compiler
# says which when two meet. scripts/lint.sh checks the same names source by
# source, whatever this option is.
option(MIDGE_UNITY "Compile each target's sources in batches (unity build)" ON)
if(MIDGE_UNITY)
  set(CMAKE_UNITY_BUILD ON)
  set(MIDGE_UNITY_BATCH_SIZE 0 CACHE STRING "Sources per unity batch (0: all of a target's)")
  set(CMAKE_UNITY_BUILD_BATCH_SIZE ${MIDGE_UNITY_BATCH_SIZE})
endif()
