#include "io/csv.h"

#include "core/errors.h"
#include "core/text.h"
#include "io/atomic_file.h"

namespace midge::io {

std::string csv_line(const CsvRow& row) {
  std::string out;
  for (std::size_t i = 0; i < row.size(); ++i) {
    if (i > 0) out += ',';
    const std::string& f = row[i];
    if (f.find_first_of(",\"\r\n") == std::string::npos) {
      out += f;
      continue;
    }
    out += '"';
    for (char c : f) {
      if (c == '"') out += '"';
      out += c;
    }
    out += '"';
  }
  out += '\n';
  return out;
}

std::vector<CsvRow> parse_csv(const std::string& text, const std::string& origin) {
  std::vector<CsvRow> rows;
  CsvRow row;
  std::string field;
  bool in_quotes = false;
  bool row_has_content = false;
  std::size_t line = 1;
  std::size_t quote_line = 0;
  auto end_row = [&]() {
    if (row_has_content || !row.empty()) {
      row.push_back(field);
      rows.push_back(row);
    }
    row.clear();
    field.clear();
    row_has_content = false;
  };
  for (std::size_t i = 0; i < text.size(); ++i) {
    const char c = text[i];
    if (in_quotes) {
      if (c == '"') {
        if (i + 1 < text.size() && text[i + 1] == '"') {
          field += '"';
          ++i;
        } else {
          in_quotes = false;
        }
      } else {
        if (c == '\n') ++line;
        field += c;
      }
      continue;
    }
    switch (c) {
      case '"':
        in_quotes = true;
        quote_line = line;
        row_has_content = true;
        break;
      case ',':
        row.push_back(field);
        field.clear();
        row_has_content = true;
        break;
      case '\r':
        break;
      case '\n':
        end_row();
        ++line;
        break;
      default:
        field += c;
        row_has_content = true;
    }
  }
  if (in_quotes) {
    throw IoError(origin + ":" + std::to_string(quote_line) + ": unterminated quoted field");
  }
  end_row();
  return rows;
}

std::vector<CsvRow> read_csv(const std::string& path, const CsvRow& expected_header) {
  std::vector<CsvRow> rows = parse_csv(read_file(path), path);
  if (!expected_header.empty()) {
    if (rows.empty() || rows[0] != expected_header) {
      throw IoError(
          path + ": expected the header '" + text::join(expected_header, ",") + "'" +
          (rows.empty() ? ", the file is empty" : ", found '" + text::join(rows[0], ",") + "'"));
    }
    rows.erase(rows.begin());
  }
  for (std::size_t i = 0; i < rows.size(); ++i) {
    if (!expected_header.empty() && rows[i].size() != expected_header.size()) {
      throw IoError(path + ": row " + std::to_string(i + 2) + " has " +
                    std::to_string(rows[i].size()) + " fields, expected " +
                    std::to_string(expected_header.size()));
    }
  }
  return rows;
}

}  // namespace midge::io
