// Prediction sets with a coverage guarantee: split conformal prediction
// with the LAC score (least ambiguous set-valued classifier; Sadinle, Lei
// and Wasserman, JASA 2019), as docs/science.md explains.
//
// The nonconformity score of an image with true taxon y is 1 - p_y. From n
// calibration scores (the validation images), the threshold q is the
// ceil((n+1)(1-alpha))-th smallest; the set of a new image is every taxon
// with 1 - p_k <= q, i.e. p_k >= 1 - q. For a new image exchangeable with
// the calibration images the set holds the true taxon with probability at
// least 1 - alpha, and (scores without ties) at most 1 - alpha + 1/(n+1).
// LAC gives the smallest sets on average of all such methods; its coverage
// holds over images, not taxon by taxon, which is why run.h5 reports the
// coverage per taxon too.
#pragma once

#include <cstdint>
#include <vector>

namespace midge::stats {

// The LAC scores of rows with a prediction (predicted >= 0): 1 - p_y.
// `probabilities` is N x classes.
std::vector<double> lac_scores(const std::vector<float>& probabilities,
                               const std::vector<std::int64_t>& labels,
                               const std::vector<std::int64_t>& predicted, int classes);

// The threshold q for a coverage of 1 - alpha from calibration scores:
// the ceil((n+1)(1-alpha))-th smallest, or +infinity (every taxon in every
// set) when that rank exceeds n (too few calibration images for the
// coverage asked). Throws std::invalid_argument unless 0 < alpha < 1.
double conformal_threshold(std::vector<double> scores, double alpha);

// The set of one image: taxa k with 1 - p_k <= q, most probable first.
std::vector<int> prediction_set(const float* probabilities, int classes, double threshold);

// Coverage and size of the sets on the calibration images themselves,
// each image's set from the threshold of the other n - 1 (leave one out),
// so that the figures estimate what new images get, overall and per taxon
// (the taxa of `labels`; NaN for a taxon without images).
struct ConformalSummary {
  double coverage = 0;  // share of images whose set holds their taxon
  double mean_size = 0;
  std::vector<double> coverage_per_taxon;
  std::vector<double> mean_size_per_taxon;
  std::int64_t images = 0;
};
ConformalSummary leave_one_out(const std::vector<float>& probabilities,
                               const std::vector<std::int64_t>& labels,
                               const std::vector<std::int64_t>& predicted, int classes,
                               double alpha);

}  // namespace midge::stats
