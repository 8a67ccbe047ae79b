// Rank-aware logging on top of spdlog.
//
// Every line goes to stderr tagged with the rank ("[r0/2]"), so interleaved
// output of many ranks in one Slurm log can be told apart; stdout stays free
// for results (tables, resolved configs) that users pipe or parse. Call
// init_logging() once per process after the rank is known; before that, lines
// are tagged "[r?]".
#pragma once

#include <spdlog/spdlog.h>

#include <string>

namespace midge {

// Sets the default logger: stderr, pattern with time, rank and level.
// `level` is one of trace|debug|info|warn|error|off; throws UsageError else.
void init_logging(int rank, int size, const std::string& level);

// Levels accepted by --log-level, for help texts.
inline constexpr const char* kLogLevels = "trace|debug|info|warn|error|off";

}  // namespace midge
