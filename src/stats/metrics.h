// Classification metrics from a confusion matrix (rows = true taxon,
// columns = predicted), the form in which ranks reduce their validation
// results: summing confusion matrices over ranks gives exactly the matrix of
// one rank seeing every image, so every metric below is exact, not an
// average of per-rank values.
#pragma once

#include <cstdint>
#include <vector>

namespace midge::stats {

struct Metrics {
  int classes = 0;
  std::vector<std::int64_t> confusion;  // classes x classes, row-major
  std::vector<double> recall;           // per taxon = per-class accuracy
  std::vector<double> precision;
  std::vector<double> f1;
  std::vector<std::int64_t> support;  // true images per taxon
  double accuracy = 0;
  double balanced_accuracy = 0;  // mean recall over taxa with support
  double macro_f1 = 0;           // mean F1 over taxa with support
};

// Adds one (true, predicted) pair to a classes x classes matrix.
inline void count(std::vector<std::int64_t>& confusion, int classes, std::int64_t truth,
                  std::int64_t predicted) {
  confusion[static_cast<std::size_t>(truth * classes + predicted)] += 1;
}

// Metrics of a confusion matrix. Taxa without support get recall 0 and do
// not enter the balanced accuracy; taxa never predicted get precision 0.
Metrics compute_metrics(const std::vector<std::int64_t>& confusion, int classes);

// Share of rows whose true taxon is among the k most probable (ties go to
// the lower taxon index, as the predicted taxon's do); rows with
// predicted[i] < 0 (an image that could not be read) are left out, as
// they are of the confusion matrix. `probabilities` is N x classes.
double top_k_accuracy(const std::vector<float>& probabilities,
                      const std::vector<std::int64_t>& labels,
                      const std::vector<std::int64_t>& predicted, int classes, int k);

}  // namespace midge::stats
