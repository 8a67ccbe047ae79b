// Specimens: several images of one individual (views, focal planes, both
// sides of a head capsule), and groups above them (site, date).
//
// Split image by image, one specimen's images land in training and in
// validation, and validation then measures how well the network recognises
// individuals it has seen, not taxa: the accuracy is inflated. So when the
// specimens are known the every-n-th rule counts specimens, not images, and
// all images of a specimen go to one side (data.split_unit = specimen, the
// default); `image` splits image by image on purpose, `group` keeps a
// manifest's groups together.
//
// Specimens come from a manifest's `specimen` column, or from
// data.specimen_pattern, a regular expression (ECMAScript) searched in each
// image's file name: its first capture group (the whole match without one)
// names the specimen within the image's folder, so the specimen is
// "<folder>/<match>" (the same number in two taxon folders is two
// specimens). Without either, every image is its own specimen and nothing
// changes.
#pragma once

#include <map>
#include <memory>
#include <string>
#include <vector>

namespace midge::data {

struct ImageSet;
struct Split;

enum class SplitUnit { kImage, kSpecimen, kGroup };

// "image", "specimen", "group"; UsageError for anything else.
SplitUnit split_unit_from(const std::string& name);
const char* split_unit_name(SplitUnit unit);

class SpecimenPattern {
 public:
  SpecimenPattern() = default;
  // Throws ConfigError naming data.specimen_pattern for an invalid regular
  // expression. An empty pattern names no specimens.
  explicit SpecimenPattern(const std::string& pattern);
  bool empty() const { return compiled_ == nullptr; }
  const std::string& text() const { return pattern_; }
  // "<folder>/<match>" for an image path; throws DataError naming the file
  // and the pattern when the file name does not match (or matches empty).
  std::string specimen_of(const std::string& path) const;

 private:
  struct Compiled;
  std::string pattern_;
  std::shared_ptr<const Compiled> compiled_;
};

// The specimens of a table: a CSV whose header has the columns `path` and
// `specimen` (others, such as a training manifest's taxon and split, are
// ignored), for `midge predict --specimens`. A relative path is relative
// to the CSV's folder; paths are compared after resolving `.`, `..` and
// symbolic links. A blank specimen cell makes the image its own specimen.
class SpecimenTable {
 public:
  // Throws DataError naming the file for a missing column or a path
  // listed twice.
  explicit SpecimenTable(const std::string& csv);
  // Throws DataError naming the image and the table when it is not listed.
  std::string specimen_of(const std::string& image) const;

 private:
  std::string csv_;
  std::map<std::string, std::string> specimen_;  // resolved path -> specimen
};

// Names the specimen of every image of a scanned set (TaxonFolder::
// specimens); an empty pattern leaves them unknown.
void name_specimens(ImageSet* set, const SpecimenPattern& pattern);
// Sets the specimen of every train, val and holdout image of `split` that
// has none yet (a manifest without a specimen column).
void name_specimens(Split* split, const SpecimenPattern& pattern);

// Whether any image of the split has a specimen (or a group).
bool has_specimens(const Split& split);
bool has_groups(const Split& split);

// A split that did not come from the every-n-th rule (a manifest) checked
// against the unit: with kSpecimen, a specimen with images on both sides is
// a DataError naming it, `origin` and the counts (with kImage it is allowed,
// on purpose); with kGroup the same for groups, and a split without groups
// is a ConfigError. A specimen under two taxa is a DataError whatever the
// unit (one individual is one taxon).
void check_split_unit(const Split& split, SplitUnit unit, const std::string& origin);

}  // namespace midge::data
