#include "core/errors.h"

#include <cerrno>
#include <cstring>

namespace midge {

int exit_code_of(const std::exception& e) noexcept {
  if (const auto* err = dynamic_cast<const Error*>(&e)) {
    return err->exit_code();
  }
  return kExitRunFailed;
}

std::string errno_text() { return std::strerror(errno); }

}  // namespace midge
