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
  // Conformal prediction set of the specimen (stats/conformal.h), from
  // model.h5 specimen_set_threshold: every taxon whose fused probability
  // reaches it, most probable first. has_set is false when the model has
  // no specimen sets (or probabilities are uncalibrated); a set may be
  // empty when no taxon reaches the threshold.
  bool has_set = false;
  std::vector<std::string> set;
};

// The specimens of `predictions` (specimens[i] names prediction i's; one
// row per specimen in order of first appearance), top k each, and with a
// `set_threshold` that is not NaN their prediction sets. A specimen none
// of whose images was read has no taxa and no set.
std::vector<SpecimenPrediction> fuse_predictions(const std::vector<Prediction>& predictions,
                                                 const std::vector<std::string>& specimens,
                                                 const std::vector<std::string>& classes, int top_k,
                                                 double set_threshold);
// Whether PATH is a specimens CSV midge wrote (its header, with or
// without the set column of older versions), so that predict may
// overwrite it; refuses (UsageError) anything else that exists there.
void check_specimens_output(const std::string& path);
// specimen,images,rank,taxon,probability,set: k rows per specimen (set:
// the prediction set's taxa joined by ';', on each of its rows; empty both
// for no set and for an empty one: the HDF5 /specimens/set_sizes tells).
void write_specimens_csv(const std::vector<SpecimenPrediction>& specimens, const std::string& path);

}  // namespace midge::explain
