// Wall-clock intervals for progress lines and communication timings, and
// how durations are written in them. The
// steady clock: an NTP adjustment during a run never makes time run
// backwards.
#pragma once

#include <chrono>
#include <cstdio>
#include <string>

namespace midge {

using Clock = std::chrono::steady_clock;

inline double seconds_since(Clock::time_point start) {
  return std::chrono::duration<double>(Clock::now() - start).count();
}

// "4m05s" below an hour, "2h03m" above (progress lines and ETAs).
inline std::string duration_text(double seconds) {
  const auto total = static_cast<long long>(seconds + 0.5);
  char buf[32];
  if (total >= 3600) {
    std::snprintf(buf, sizeof(buf), "%lldh%02lldm", total / 3600, (total / 60) % 60);
  } else {
    std::snprintf(buf, sizeof(buf), "%lldm%02llds", total / 60, total % 60);
  }
  return buf;
}

}  // namespace midge
