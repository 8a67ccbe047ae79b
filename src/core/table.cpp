#include "core/table.h"

#include <algorithm>
#include <sstream>
#include <stdexcept>

namespace midge {

TextTable::TextTable(std::vector<Column> columns) : columns_(std::move(columns)) {}

void TextTable::add_row(std::vector<std::string> cells) {
  if (cells.size() > columns_.size()) {
    throw std::invalid_argument("TextTable: a row has more cells than the table has columns");
  }
  cells.resize(columns_.size());
  rows_.push_back(std::move(cells));
}

std::string TextTable::str() const {
  std::vector<std::size_t> width(columns_.size());
  for (std::size_t c = 0; c < columns_.size(); ++c) {
    width[c] = std::max(columns_[c].min_width, columns_[c].header.size());
    for (const auto& row : rows_) width[c] = std::max(width[c], row[c].size());
  }
  std::ostringstream os;
  auto line = [&](const std::vector<std::string>& cells) {
    for (std::size_t c = 0; c < cells.size(); ++c) {
      const std::string pad(width[c] - cells[c].size(), ' ');
      if (c > 0) os << "  ";
      if (c == 0 || columns_[c].left) {
        // No trailing blanks after the last column.
        os << cells[c] << (c + 1 < cells.size() ? pad : "");
      } else {
        os << pad << cells[c];
      }
    }
    os << "\n";
  };
  std::vector<std::string> header;
  for (const auto& col : columns_) header.push_back(col.header);
  line(header);
  for (const auto& row : rows_) line(row);
  return os.str();
}

}  // namespace midge
