// `midge predict --specimen-pattern`: the images of one specimen fused into
// one identification, beside the per-image rows (explain/identify.h). The
// fusion is stats/fusion.h's (mean log-probability of the images); here it
// is applied to the calibrated probabilities predict reports, and written
// as <out>.specimens.csv.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "explain/identify.h"

namespace midge::explain {

// One specimen's images fused (stats/fusion.h): the taxa by the
// normalised geometric mean of their images' probabilities (the mean
// log-probability), top k.
struct SpecimenPrediction {
  std::string name;
  std::int64_t images = 0;  // images read
  std::vector<std::string> taxa;
  std::vector<double> probabilities;
};

// The specimens of `predictions` (specimens[i] names prediction i's; one
// row per specimen in order of first appearance), top k each. A specimen
// none of whose images was read has no taxa.
std::vector<SpecimenPrediction> fuse_predictions(const std::vector<Prediction>& predictions,
                                                 const std::vector<std::string>& specimens,
                                                 const std::vector<std::string>& classes,
                                                 int top_k);
// specimen,images,rank,taxon,probability: k rows per specimen.
void write_specimens_csv(const std::vector<SpecimenPrediction>& specimens, const std::string& path);

}  // namespace midge::explain
