// midge's own version (from CMake's project version). Library versions are
// reported by the module that owns each library (distributed: MPI, io: HDF5,
// data: OpenCV) and assembled by `midge --version`.
#pragma once

#include <string>

namespace midge {

std::string midge_version();

}  // namespace midge
