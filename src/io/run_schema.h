// Whether a run.h5 read back is the shape its schema says
// (docs/results-schema.md): every dataset has the number of dimensions it is
// written with, columns that describe the same images or taxa have the same
// length, and label and prediction indices lie within the taxa (-1 for a
// validation image that could not be read). Runs after the seal check
// (io/integrity.h), which a file edited and sealed again passes: this is
// what stands between such a file and a reader indexing past what it read.
#pragma once

#include <string>

#include "io/hdf5.h"
#include "io/run_file.h"

namespace midge::io {

// Throws CorruptFileError naming `path` and the dataset at the first breach.
void check_run_schema(const H5Reader& f, const std::string& path, const RunRecord& r);

}  // namespace midge::io
