#include "data/taxonomy.h"

#include <algorithm>

#include "core/errors.h"
#include "data/pack.h"
#include "io/atomic_file.h"
#include "io/csv.h"

namespace midge::data {

Taxonomy read_taxonomy(const std::string& path) {
  auto rows = io::parse_csv(io::read_file(path), path);
  if (rows.size() < 2 || rows[0].size() < 2) {
    throw DataError(path +
                    ": a taxonomy needs a header with at least two levels and one row per "
                    "taxon");
  }
  Taxonomy t;
  t.levels = rows[0];
  for (std::size_t i = 1; i < rows.size(); ++i) {
    if (rows[i].size() != t.levels.size()) {
      throw DataError(path + ": row " + std::to_string(i + 1) + " has " +
                      std::to_string(rows[i].size()) + " fields, expected " +
                      std::to_string(t.levels.size()));
    }
    t.rows[rows[i][0]] = rows[i];
  }
  return t;
}

Split relabel_at_level(const Split& split, const Taxonomy& taxonomy, const std::string& level) {
  auto it = std::find(taxonomy.levels.begin(), taxonomy.levels.end(), level);
  if (it == taxonomy.levels.end()) {
    std::string known;
    for (const auto& l : taxonomy.levels) known += (known.empty() ? "" : "|") + l;
    throw ConfigError("data.level = " + level + " is not a column of data.taxonomy (" + known +
                      ")");
  }
  const auto column = static_cast<std::size_t>(it - taxonomy.levels.begin());
  std::vector<std::string> value_of;
  for (const auto& name : split.classes) {
    auto row = taxonomy.rows.find(name);
    if (row == taxonomy.rows.end()) {
      throw DataError("taxon '" + name + "' has no row in data.taxonomy");
    }
    value_of.push_back(row->second[column]);
  }
  Split out;
  out.classes = value_of;
  std::sort(out.classes.begin(), out.classes.end());
  out.classes.erase(std::unique(out.classes.begin(), out.classes.end()), out.classes.end());
  auto relabel = [&](const std::vector<Sample>& in, std::vector<Sample>* dst) {
    for (const auto& s : in) {
      const std::string& v = value_of[static_cast<std::size_t>(s.label)];
      const auto idx =
          std::lower_bound(out.classes.begin(), out.classes.end(), v) - out.classes.begin();
      dst->push_back({s.path, static_cast<int>(idx), s.specimen, s.group});
    }
  };
  relabel(split.train, &out.train);
  relabel(split.val, &out.val);
  return out;
}

Split split_for_run(const DataConfig& data) {
  const SpecimenPattern pattern(data.specimen_pattern);
  const SplitUnit unit = split_unit_from(data.split_unit);
  Split split;
  if (data.manifest.empty()) {
    ImageSet set = scan_image_set(data.root);
    name_specimens(&set, pattern);
    split = split_image_set(set, static_cast<int>(data.split_every),
                            static_cast<int>(data.split_offset), unit);
  } else {
    split = read_manifest(data.manifest);
    // A manifest may list images inside a pack: opened here, on the
    // thread that scans, before the loader's workers read them.
    std::vector<std::string> paths;
    for (const auto* samples : {&split.train, &split.val, &split.holdout}) {
      for (const auto& s : *samples) paths.push_back(s.path);
    }
    open_packs_of(paths);
    name_specimens(&split, pattern);
    check_split_unit(split, unit, data.manifest);
  }
  if (split.train.empty()) throw DataError("no training images in " + data.root);
  if (split.val.empty()) {
    throw DataError("no validation images in " + data.root +
                    (unit == SplitUnit::kSpecimen && has_specimens(split)
                         ? " (each taxon needs at least data.split_every specimens)"
                         : " (each taxon needs at least data.split_every images)"));
  }
  if (!data.level.empty())
    split = relabel_at_level(split, read_taxonomy(data.taxonomy), data.level);
  if (!data.holdout_taxa.empty()) split = hold_out_taxa(split, data.holdout_taxa);
  return split;
}

}  // namespace midge::data
