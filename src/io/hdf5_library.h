// Facts about the HDF5 library midge is linked with. io owns HDF5: no other
// module includes its headers.
#pragma once

#include <string>

namespace midge::io {

// "1.10.8"
std::string hdf5_library_version();

}  // namespace midge::io
