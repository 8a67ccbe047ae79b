#include "core/versions.h"

namespace midge {

std::string midge_version() { return MIDGE_VERSION; }

}  // namespace midge
