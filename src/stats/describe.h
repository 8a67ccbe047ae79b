// Descriptive statistics used across midge's reports, written once: the
// Wilson score interval of a proportion (per-taxon accuracy in collect and
// the sweep ranking), the mean and the sample standard deviation over
// repeats.
#pragma once

#include <cstdint>
#include <vector>

namespace midge::stats {

struct Interval {
  double low = 0;
  double high = 0;
};

// 95% (z = 1.96) Wilson score interval for k successes in n trials; [0, 1]
// for n = 0.
Interval wilson(std::int64_t k, std::int64_t n, double z = 1.96);

// 0 for no values.
double mean(const std::vector<double>& v);
// Sample standard deviation (n - 1); 0 for fewer than two values.
double sample_sd(const std::vector<double>& v);

}  // namespace midge::stats
