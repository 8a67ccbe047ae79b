// Plain-text tables for terminals and Slurm logs (the per-taxon tables of
// `midge train`, `midge split` and `midge collect`).
//
// Layout: the first column, and any column marked `left`, is left-aligned
// and padded to its widest cell; every other column is right-aligned to the
// widest of its header, its cells and its minimum width; columns are
// separated by two spaces. No colours, no
// box-drawing characters: the output stays readable in any log file. Cells
// are text, so each caller keeps its own number formatting.
#pragma once

#include <cstddef>
#include <string>
#include <vector>

namespace midge {

class TextTable {
 public:
  struct Column {
    std::string header;
    std::size_t min_width = 0;
    bool left = false;  // text columns (the first is always left-aligned)
  };
  explicit TextTable(std::vector<Column> columns);

  // One cell per column (fewer cells leave the rest empty; more is an error).
  void add_row(std::vector<std::string> cells);
  std::string str() const;

 private:
  std::vector<Column> columns_;
  std::vector<std::vector<std::string>> rows_;
};

}  // namespace midge
