// Taxonomic levels: training at genus or subfamily level from species
// folders, and reporting accuracy at higher levels.
//
// data.taxonomy is a CSV with a header and one row per taxon folder; its
// first column holds the folder names, every other column a level (e.g.
// species,genus,subfamily). Training at data.level relabels every image by
// its folder's value in that column; the classes are the distinct values,
// sorted.
#pragma once

#include <map>
#include <string>
#include <vector>

#include "core/config.h"
#include "data/split.h"

namespace midge::data {

struct Taxonomy {
  std::vector<std::string> levels;  // header: first = folder level
  // folder name -> value per level (same order as levels)
  std::map<std::string, std::vector<std::string>> rows;
};

// Throws DataError naming the file for a missing header or short rows.
Taxonomy read_taxonomy(const std::string& path);

// Relabels `split` at `level`; every class of `split` needs a row (error
// names the first taxon without one, and an unknown level lists the known).
Split relabel_at_level(const Split& split, const Taxonomy& taxonomy, const std::string& level);

// The split a run uses: data.manifest if set, else a scan of data.root split
// every data.split_every-th image; then relabelled at data.level if set.
Split split_for_run(const DataConfig& data);

}  // namespace midge::data
