#include "stats/fusion.h"

#include <algorithm>
#include <cmath>
#include <map>
#include <stdexcept>

namespace midge::stats {

SpecimenFusion fuse_specimens(const std::vector<std::string>& specimens,
                              const std::vector<std::int64_t>& labels,
                              const std::vector<std::int64_t>& predicted,
                              const std::vector<float>& probabilities, int classes) {
  const auto c = static_cast<std::size_t>(classes);
  const std::size_t n = specimens.size();
  if (labels.size() != n || predicted.size() != n || probabilities.size() != n * c) {
    throw std::invalid_argument("fuse_specimens: sizes");
  }
  SpecimenFusion f;
  std::map<std::string, std::size_t> index;
  for (std::size_t i = 0; i < n; ++i) {
    auto [it, inserted] = index.emplace(specimens[i], f.names.size());
    if (inserted) {
      f.names.push_back(specimens[i]);
      f.labels.push_back(labels[i]);
      f.images.push_back(0);
      f.log_probabilities.resize(f.log_probabilities.size() + c, 0.0);
    } else if (f.labels[it->second] != labels[i]) {
      throw std::invalid_argument("fuse_specimens: specimen '" + specimens[i] +
                                  "' has images of two taxa");
    }
    if (predicted[i] < 0) continue;
    const std::size_t s = it->second;
    ++f.images[s];
    // Probabilities of 0 (float underflow) would make the mean -inf: the
    // smallest positive float bounds a single image's veto.
    for (std::size_t k = 0; k < c; ++k) {
      const float p = std::max(probabilities[i * c + k], 1e-38F);
      f.log_probabilities[s * c + k] += std::log(static_cast<double>(p));
    }
  }
  f.confusion.assign(c * c, 0);
  f.predicted.assign(f.names.size(), -1);
  for (std::size_t s = 0; s < f.names.size(); ++s) {
    if (f.images[s] == 0) continue;
    double* row = f.log_probabilities.data() + s * c;
    for (std::size_t k = 0; k < c; ++k) row[k] /= static_cast<double>(f.images[s]);
    // Ties go to the lower taxon index.
    f.predicted[s] = std::max_element(row, row + c) - row;
    f.confusion[static_cast<std::size_t>(f.labels[s]) * c +
                static_cast<std::size_t>(f.predicted[s])] += 1;
  }
  return f;
}

std::vector<float> fused_probabilities(const SpecimenFusion& f, int classes) {
  const auto c = static_cast<std::size_t>(classes);
  std::vector<float> p(f.names.size() * c, 1.0F / static_cast<float>(classes));
  for (std::size_t s = 0; s < f.names.size(); ++s) {
    if (f.images[s] == 0) continue;
    const double* row = f.log_probabilities.data() + s * c;
    // Shifted by the largest so that exp cannot underflow to 0 everywhere.
    const double top = *std::max_element(row, row + c);
    double sum = 0;
    for (std::size_t k = 0; k < c; ++k) sum += std::exp(row[k] - top);
    for (std::size_t k = 0; k < c; ++k)
      p[s * c + k] = static_cast<float>(std::exp(row[k] - top) / sum);
  }
  return p;
}

}  // namespace midge::stats
