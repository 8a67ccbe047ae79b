#include "model/torch_info.h"

#include <torch/version.h>

namespace midge::model {

std::string torch_library_version() { return TORCH_VERSION; }

}  // namespace midge::model
