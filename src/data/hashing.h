// Content hashes (SHA-256) of a run's images and of the other files it
// reads, recorded in run.h5 (/split/*/sha256, /inputs): what `midge replay`
// checks before rerunning and what `midge collect` tells validation sets
// apart by. Hashed by rank 0 alone (train/trainer.cpp); a file that cannot
// be read gets "" instead of failing the run there, as an unreadable image
// is the loader's to report.
#pragma once

#include <functional>
#include <string>
#include <vector>

#include "core/config.h"
#include "data/split.h"

namespace midge::data {

// Lower-case hex SHA-256 of each sample's file ("" when it cannot be
// read), on `threads` threads. `stop`, if given, is asked between files:
// once it says true the rest stay empty (the caller is stopping).
std::vector<std::string> content_hashes(const std::vector<Sample>& samples, int threads,
                                        const std::function<bool()>& stop = {});

struct RunHashes {
  std::vector<std::string> train, val, holdout;  // per image, split order
  // The files training reads besides the images: data.manifest,
  // data.taxonomy (only when data.level relabels by it), model.pretrained.
  std::vector<std::string> input_keys, input_paths, input_sha256;
};

// Everything above for a run of `split` under `config`, on up to
// data.workers (at most 8) threads.
RunHashes hash_run_files(const Split& split, const Config& config,
                         const std::function<bool()>& stop = {});

}  // namespace midge::data
