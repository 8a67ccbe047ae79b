# Unity builds (issue #27). Every target's sources are compiled in batches
# of up to 14, each batch one translation unit (CMake's UNITY_BUILD), so
# LibTorch's headers are parsed, and its inline functions and templates
# instantiated and optimised, once per batch instead of once per source.
# On a 2-core machine a clean build of `midge` takes ~1/3 of the time it
# takes source by source with a precompiled header (bench/RESULTS.md,
# "Build time").
#
# The price is paid when editing: a change to one source recompiles its
# whole batch (~30 s for a LibTorch batch). For edit-compile work configure
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
  set(CMAKE_UNITY_BUILD_BATCH_SIZE 14)
endif()
