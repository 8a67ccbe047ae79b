// Bitwise comparison of two HDF5 files' datasets, for `midge replay`: is
// the replayed run.h5 (and model.h5) the same, value for value, as the
// original, and if not, which datasets differ and by how much.
//
// Numbers are compared by their bytes after widening to float64 (exact for
// float32, and keeping the sign of zero and a NaN's payload): -0.0 and 0.0
// differ, a NaN equals the same NaN. Strings exactly. Torch-free.
#pragma once

#include <cstddef>
#include <string>
#include <vector>

namespace midge::io {

struct DatasetDifference {
  std::string path;  // e.g. "eval/probabilities"
  std::string what;  // "only in the original", "shape [3] vs [4]", "2 of 40 values differ, ..."
};

struct FileComparison {
  std::size_t compared = 0;  // datasets present in both and compared
  std::vector<DatasetDifference> differences;
  bool equal() const { return differences.empty(); }
};

// Every dataset under each of `roots` (a group, searched recursively, or a
// dataset) of files `a` (the original) and `b`, skipping datasets whose
// last path component is in `skip` (e.g. timings).
FileComparison compare_h5(const std::string& a, const std::string& b,
                          const std::vector<std::string>& roots,
                          const std::vector<std::string>& skip = {});

}  // namespace midge::io
