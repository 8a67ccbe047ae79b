// The train/validation split of the paper: within each taxon, in file-name
// order, every `every`-th image goes to validation.
//
// Index i (0-based, within its taxon) is validation when i % every == offset;
// the defaults every = 5, offset = 4 send the fifth, tenth, ... image to
// validation, an 80:20 split that is stratified by taxon and needs no random
// numbers, so it is identical for every seed, rank and machine. When the
// images' specimens are known (data/specimens.h) the rule counts each
// taxon's specimens in sorted order instead, and a specimen's images all go
// where it goes. A manifest CSV (path,taxon,split[,specimen][,group])
// records a split so that `train` can reuse it or a user can hand-edit one.
#pragma once

#include <string>
#include <vector>

#include "data/image_set.h"
#include "data/specimens.h"

namespace midge::data {

struct Sample {
  std::string path;
  int label = 0;         // index into Split::classes
  std::string specimen;  // "" = unknown: the image is its own specimen
  std::string group;     // site, date, ... (manifest column); "" = none
};

struct Split {
  std::vector<std::string> classes;  // sorted taxon names
  std::vector<Sample> train;         // taxon by taxon, file-name order
  std::vector<Sample> val;
  // Taxa held out of training and validation (data.holdout_taxa) and all
  // their images, labels indexing holdout_classes: the "unknown" images of
  // the open-set evaluation.
  std::vector<std::string> holdout_classes;
  std::vector<Sample> holdout;
};

bool is_validation_index(std::size_t index, int every, int offset);

// Throws UsageError unless 2 <= every and 0 <= offset < every.
void check_split_params(int every, int offset);

// Checks the parameters as above, then splits: by specimen when the set's
// specimens are known and `unit` is kSpecimen, else image by image
// (kGroup is a ConfigError: a folder scan has no groups).
Split split_image_set(const ImageSet& set, int every, int offset,
                      SplitUnit unit = SplitUnit::kSpecimen);

// Moves every image (train and val) of the taxa named in `taxa` (a
// comma-separated list, names as in split.classes) to holdout and
// renumbers the remaining classes. Throws ConfigError naming a taxon that
// is not among the classes, and when fewer than two taxa would be left to
// train on.
Split hold_out_taxa(const Split& split, const std::string& taxa);

// A split as one string and back, exactly (any bytes in paths and names):
// rank 0 reads the data set and every other rank receives its split
// (train/session), so the ranks never disagree about the image list.
std::string encode_split(const Split& split);
// Throws DataError for a string that encode_split did not make.
Split decode_split(const std::string& text);

// Writes path,taxon,split rows (train then val, paths absolute) atomically,
// with a specimen (group) column when any image has one.
void write_manifest(const Split& split, const std::string& path);

// Reads a manifest: a header naming path, taxon and split, and optionally
// specimen and group, in any order; relative paths are taken relative to
// the manifest's folder. Classes are the sorted distinct taxa. Throws
// DataError naming the file and row on a bad split value or an empty
// subset, and the column for a missing or unknown one. (The split unit is
// checked by check_split_unit.)
Split read_manifest(const std::string& path);

// Per-taxon table: taxon, train, val, total (and non-image files when any;
// and specimens per side when known), with a total line; for `midge split`
// and logs.
std::string format_split_table(const Split& split, const ImageSet* set = nullptr);

}  // namespace midge::data
