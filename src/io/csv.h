// CSV as RFC 4180 describes it: fields with a comma, quote or line break are
// quoted, quotes doubled. Used for manifests, regions.csv, taxonomy tables
// and summaries, which users open in spreadsheets and pandas.
#pragma once

#include <string>
#include <vector>

namespace midge::io {

using CsvRow = std::vector<std::string>;

// One line (with trailing "\n") for `row`.
std::string csv_line(const CsvRow& row);

// All rows of `text` (the header, if any, is row 0). Accepts \n and \r\n;
// a final line without newline is a row; empty lines are skipped. Throws
// IoError naming `origin` and the line for an unterminated quote.
std::vector<CsvRow> parse_csv(const std::string& text, const std::string& origin);

// Reads and parses a file; the header must equal `expected_header` when that
// is not empty (a clear error otherwise). Returns the rows after the header.
std::vector<CsvRow> read_csv(const std::string& path, const CsvRow& expected_header);

}  // namespace midge::io
