# Provides the imported target midge::opencv (core, imgproc, imgcodecs).
#
# Why not just find_package(OpenCV): on Debian the CMake package files ship
# only in libopencv-dev, which pulls every OpenCV module and GDAL (~350 MB).
# midge needs three modules, so when no OpenCVConfig.cmake is found we locate
# those headers and libraries directly.
find_package(OpenCV QUIET COMPONENTS core imgproc imgcodecs)
if(OpenCV_FOUND)
  add_library(midge::opencv INTERFACE IMPORTED)
  target_include_directories(midge::opencv INTERFACE ${OpenCV_INCLUDE_DIRS})
  target_link_libraries(midge::opencv INTERFACE ${OpenCV_LIBS})
  message(STATUS "OpenCV ${OpenCV_VERSION} (CMake package)")
  return()
endif()

find_path(MIDGE_OPENCV_INCLUDE_DIR opencv2/core.hpp PATH_SUFFIXES opencv4)
set(_midge_cv_libs)
foreach(_m core imgproc imgcodecs)
  find_library(MIDGE_OPENCV_${_m}_LIBRARY NAMES opencv_${_m})
  if(NOT MIDGE_OPENCV_${_m}_LIBRARY)
    message(FATAL_ERROR "OpenCV module ${_m} not found: install libopencv-${_m}-dev "
                        "(scripts/install-deps.sh) or set OpenCV_DIR")
  endif()
  list(APPEND _midge_cv_libs ${MIDGE_OPENCV_${_m}_LIBRARY})
endforeach()
if(NOT MIDGE_OPENCV_INCLUDE_DIR)
  message(FATAL_ERROR "OpenCV headers (opencv2/core.hpp) not found")
endif()
add_library(midge::opencv INTERFACE IMPORTED)
target_include_directories(midge::opencv INTERFACE ${MIDGE_OPENCV_INCLUDE_DIR})
target_link_libraries(midge::opencv INTERFACE ${_midge_cv_libs})
message(STATUS "OpenCV (headers ${MIDGE_OPENCV_INCLUDE_DIR}; ${_midge_cv_libs})")
