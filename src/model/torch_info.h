// The LibTorch version midge was built with, for `midge --version`, without
// torch headers (model owns LibTorch; see core/log.h for why callers keep
// torch headers out).
#pragma once

#include <string>

namespace midge::model {

// "1.13.0", "2.11.0", ...
std::string torch_library_version();

}  // namespace midge::model
