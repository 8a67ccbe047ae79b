#include "core/logging.h"

#include <spdlog/sinks/stdout_sinks.h>
#include <spdlog/spdlog.h>

#include <memory>

#include "core/errors.h"
#include "core/log.h"

namespace midge {

void init_logging(int rank, int size, const std::string& level) {
  spdlog::level::level_enum lv = spdlog::level::from_str(level);
  // from_str maps unknown names to "off"; only accept "off" when asked for.
  // The logger is installed first so that this very error reaches stderr.
  const bool valid = lv != spdlog::level::off || level == "off";
  if (!valid) lv = spdlog::level::info;
  // Synchronized sink: loader workers warn about bad images while the main
  // thread logs progress. The non-colour sink keeps Slurm logs free of
  // escape codes. Built directly (not through the registry's factory, which
  // refuses a name twice), so a second call replaces the default logger in
  // one step and no thread ever sees none.
  auto logger =
      std::make_shared<spdlog::logger>("midge", std::make_shared<spdlog::sinks::stderr_sink_mt>());
  logger->set_pattern("[%Y-%m-%d %H:%M:%S] [r" + std::to_string(rank) + "/" + std::to_string(size) +
                      "] [%l] %v");
  logger->set_level(lv);
  logger->flush_on(spdlog::level::warn);
  spdlog::set_default_logger(logger);
  if (!valid) throw UsageError("invalid --log-level '" + level + "': expected " + kLogLevels);
}

}  // namespace midge

namespace midge::log {

void debug(const std::string& message) { spdlog::debug("{}", message); }
void info(const std::string& message) { spdlog::info("{}", message); }
void warn(const std::string& message) { spdlog::warn("{}", message); }
void error(const std::string& message) { spdlog::error("{}", message); }

}  // namespace midge::log
