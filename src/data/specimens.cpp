#include "data/specimens.h"

#include <algorithm>
#include <filesystem>
#include <map>
#include <regex>
#include <set>

#include "core/errors.h"
#include "data/image_set.h"
#include "data/split.h"
#include "io/csv.h"

namespace midge::data {
namespace fs = std::filesystem;

SplitUnit split_unit_from(const std::string& name) {
  if (name == "image") return SplitUnit::kImage;
  if (name == "specimen") return SplitUnit::kSpecimen;
  if (name == "group") return SplitUnit::kGroup;
  throw UsageError("split unit must be image, specimen or group, got '" + name + "'");
}

const char* split_unit_name(SplitUnit unit) {
  switch (unit) {
    case SplitUnit::kImage:
      return "image";
    case SplitUnit::kSpecimen:
      return "specimen";
    case SplitUnit::kGroup:
      return "group";
  }
  return "?";
}

struct SpecimenPattern::Compiled {
  std::regex regex;
};

SpecimenPattern::SpecimenPattern(const std::string& pattern) : pattern_(pattern) {
  if (pattern.empty()) return;
  try {
    compiled_ = std::make_shared<const Compiled>(Compiled{std::regex(pattern)});
  } catch (const std::regex_error& e) {
    throw ConfigError("data.specimen_pattern: '" + pattern +
                      "' is not a regular expression (ECMAScript): " + e.what());
  }
}

std::string SpecimenPattern::specimen_of(const std::string& path) const {
  if (compiled_ == nullptr) return "";
  const fs::path p(path);
  const std::string name = p.filename().string();
  std::smatch m;
  if (!std::regex_search(name, m, compiled_->regex)) {
    throw DataError(path + ": the file name does not match data.specimen_pattern '" + pattern_ +
                    "', so its specimen is unknown");
  }
  const std::string match = m.size() > 1 ? m[1].str() : m[0].str();
  if (match.empty()) {
    throw DataError(path + ": data.specimen_pattern '" + pattern_ +
                    "' matches an empty specimen name in the file name");
  }
  return p.parent_path().filename().string() + "/" + match;
}

void name_specimens(ImageSet* set, const SpecimenPattern& pattern) {
  if (pattern.empty()) return;
  for (auto& taxon : set->taxa) {
    taxon.specimens.clear();
    for (const auto& path : taxon.images) taxon.specimens.push_back(pattern.specimen_of(path));
  }
}

void name_specimens(Split* split, const SpecimenPattern& pattern) {
  if (pattern.empty()) return;
  for (auto* samples : {&split->train, &split->val, &split->holdout}) {
    for (auto& s : *samples) {
      if (s.specimen.empty()) s.specimen = pattern.specimen_of(s.path);
    }
  }
}

namespace {

template <typename Field>
bool any_set(const Split& split, Field field) {
  for (const auto* samples : {&split.train, &split.val, &split.holdout}) {
    for (const auto& s : *samples) {
      if (!(s.*field).empty()) return true;
    }
  }
  return false;
}

// The first value of `field` with images on both sides, as a message.
template <typename Field>
std::string first_on_both_sides(const Split& split, Field field, const char* what) {
  std::map<std::string, std::size_t> train;
  for (const auto& s : split.train) {
    if (!(s.*field).empty()) ++train[s.*field];
  }
  std::map<std::string, std::size_t> val;
  for (const auto& s : split.val) {
    if (!(s.*field).empty()) ++val[s.*field];
  }
  for (const auto& [name, n] : val) {
    auto it = train.find(name);
    if (it != train.end()) {
      return std::string(what) + " '" + name + "' has " + std::to_string(it->second) +
             " image(s) in train and " + std::to_string(n) + " in val";
    }
  }
  return "";
}

}  // namespace

bool has_specimens(const Split& split) { return any_set(split, &Sample::specimen); }

bool has_groups(const Split& split) { return any_set(split, &Sample::group); }

void check_split_unit(const Split& split, SplitUnit unit, const std::string& origin) {
  // One individual is one taxon: labels of a specimen's images must agree.
  // Checked on the taxa as given (before data.level and held-out taxa), in
  // train and val.
  std::map<std::string, int> taxon_of;
  for (const auto* samples : {&split.train, &split.val}) {
    for (const auto& s : *samples) {
      if (s.specimen.empty()) continue;
      auto [it, inserted] = taxon_of.emplace(s.specimen, s.label);
      if (!inserted && it->second != s.label) {
        throw DataError(origin + ": specimen '" + s.specimen + "' has images of two taxa (" +
                        split.classes[static_cast<std::size_t>(it->second)] + " and " +
                        split.classes[static_cast<std::size_t>(s.label)] + ")");
      }
    }
  }
  if (unit == SplitUnit::kImage) return;
  if (unit == SplitUnit::kGroup && !has_groups(split)) {
    throw ConfigError("data.split_unit = group: " + origin +
                      " has no group column (a manifest with path,taxon,split,group)");
  }
  const std::string both = unit == SplitUnit::kGroup
                               ? first_on_both_sides(split, &Sample::group, "group")
                               : first_on_both_sides(split, &Sample::specimen, "specimen");
  if (!both.empty()) {
    throw DataError(origin + ": " + both + "; all images of a " + split_unit_name(unit) +
                    " belong on one side (validation would see what training saw). Set "
                    "data.split_unit = image to split image by image on purpose");
  }
}

namespace {

std::string resolved(const std::string& path) {
  std::error_code ec;
  const fs::path p = fs::weakly_canonical(fs::absolute(path), ec);
  return ec ? fs::absolute(path).lexically_normal().string() : p.string();
}

}  // namespace

SpecimenTable::SpecimenTable(const std::string& csv) : csv_(csv) {
  auto rows = io::read_csv(csv, {});
  if (rows.empty()) throw DataError(csv + ": empty (expected a header with path and specimen)");
  const io::CsvRow header = rows.front();
  const auto column = [&](const char* name) {
    const auto it = std::find(header.begin(), header.end(), name);
    if (it == header.end()) {
      throw DataError(csv + ": the header has no '" + name +
                      "' column (a specimen table needs path and specimen)");
    }
    return static_cast<std::size_t>(it - header.begin());
  };
  const std::size_t path_column = column("path");
  const std::size_t specimen_column = column("specimen");
  const fs::path base = fs::path(csv).parent_path();
  for (std::size_t i = 1; i < rows.size(); ++i) {
    if (rows[i].size() != header.size()) {
      throw DataError(csv + ": row " + std::to_string(i + 1) + " has " +
                      std::to_string(rows[i].size()) + " fields, expected " +
                      std::to_string(header.size()));
    }
    fs::path p(rows[i][path_column]);
    if (p.is_relative()) p = base / p;
    const std::string key = resolved(p.string());
    const std::string& specimen = rows[i][specimen_column];
    // A blank cell: the image is its own specimen, as in training.
    if (!specimen_.emplace(key, specimen.empty() ? p.string() : specimen).second)
      throw DataError(csv + ": row " + std::to_string(i + 1) + ": " + p.string() +
                      " is listed twice");
  }
}

std::string SpecimenTable::specimen_of(const std::string& image) const {
  const auto it = specimen_.find(resolved(image));
  if (it == specimen_.end()) throw DataError(image + ": not listed in the specimen table " + csv_);
  return it->second;
}

}  // namespace midge::data
