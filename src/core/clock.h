// Wall-clock intervals for progress lines and communication timings. The
// steady clock: an NTP adjustment during a run never makes time run
// backwards.
#pragma once

#include <chrono>

namespace midge {

using Clock = std::chrono::steady_clock;

inline double seconds_since(Clock::time_point start) {
  return std::chrono::duration<double>(Clock::now() - start).count();
}

}  // namespace midge
