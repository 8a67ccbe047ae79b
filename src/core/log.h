// Logging for translation units that include LibTorch.
//
// LibTorch 2.x (PyPI wheels) ships its own, newer {fmt} headers in its
// include directory; spdlog built against the system {fmt} (Debian's) does
// not compile against them. So code that includes torch headers logs
// through these functions, which take a finished message and are
// implemented next to spdlog in core/logging.cpp. Same sinks, rank tags and
// levels as spdlog's default logger (core/logging.h).
#pragma once

#include <string>

namespace midge::log {

void debug(const std::string& message);
void info(const std::string& message);
void warn(const std::string& message);
void error(const std::string& message);

}  // namespace midge::log
