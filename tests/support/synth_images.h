// Real synthetic JPEGs on disk for data tests: `midge synth` into `folder`,
// split every fifth image, train and validation samples together.
#pragma once

#include <string>
#include <vector>

#include "data/split.h"

namespace midge::testing {

std::vector<data::Sample> synth_jpeg_samples(const std::string& folder, int taxa, int per_taxon,
                                             int width, int height);

}  // namespace midge::testing
