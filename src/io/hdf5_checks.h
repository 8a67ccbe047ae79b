// The checks of HDF5 return codes that io's HDF5 code shares (hdf5.cpp,
// byte_stream.cpp): a negative id or status becomes IoError "HDF5: <what>".
#pragma once

#include <hdf5.h>

#include <string>

namespace midge::io::detail {

hid_t check_id(hid_t id, const std::string& what);
void check(herr_t rc, const std::string& what);

}  // namespace midge::io::detail
