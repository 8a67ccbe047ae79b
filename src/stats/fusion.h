// Per-specimen identification: the images of one specimen (views, focal
// planes, both sides) fused into one answer.
//
// A specimen's taxon scores are the mean log-probability of its images
// (equivalently, the normalised geometric mean of their probabilities): an
// image that is confidently wrong counts against the others in proportion
// to its confidence, and an image that is uninformative (near uniform)
// barely moves the result. Images that could not be read (predicted < 0)
// are left out; a specimen none of whose images could be read has no
// answer (predicted -1). Specimens keep the order of their first image.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

namespace midge::stats {

struct SpecimenFusion {
  std::vector<std::string> names;
  std::vector<std::int64_t> labels;       // the specimen's taxon (its images agree)
  std::vector<std::int64_t> predicted;    // arg max of the mean log-probability, or -1
  std::vector<std::int64_t> images;       // images fused (readable ones)
  std::vector<double> log_probabilities;  // specimens x classes; 0 rows for -1
  std::vector<std::int64_t> confusion;    // classes x classes, specimens with an answer
};

// `specimens`, `labels` and `predicted` per image, `probabilities` images x
// classes. Throws std::invalid_argument for mismatched sizes and for a
// specimen whose images have different labels.
SpecimenFusion fuse_specimens(const std::vector<std::string>& specimens,
                              const std::vector<std::int64_t>& labels,
                              const std::vector<std::int64_t>& predicted,
                              const std::vector<float>& probabilities, int classes);

// The specimens' probabilities (specimens x classes): exp of the mean
// log-probability normalised over the taxa, the normalised geometric mean
// of their images' probabilities. A row without images (predicted -1) is
// uniform. These are what a specimen's prediction set is built from
// (stats/conformal.h).
std::vector<float> fused_probabilities(const SpecimenFusion& f, int classes);

}  // namespace midge::stats
