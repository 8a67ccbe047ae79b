#include "io/hdf5_library.h"

#include <H5public.h>

namespace midge::io {

std::string hdf5_library_version() {
  unsigned maj = 0;
  unsigned min = 0;
  unsigned rel = 0;
  H5get_libversion(&maj, &min, &rel);
  return std::to_string(maj) + "." + std::to_string(min) + "." + std::to_string(rel);
}

}  // namespace midge::io
