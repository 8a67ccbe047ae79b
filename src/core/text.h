// Small text helpers shared by option parsing, CSV and reports: trimming,
// splitting, edit distance (for "did you mean" suggestions) and number
// formatting that round-trips (so a resolved config re-reads identically).
#pragma once

#include <cstddef>
#include <string>
#include <string_view>
#include <vector>

namespace midge::text {

std::string trim(std::string_view s);
std::string to_lower(std::string_view s);
std::vector<std::string> split(std::string_view s, char sep);
std::string join(const std::vector<std::string>& parts, std::string_view sep);
bool ends_with(std::string_view s, std::string_view suffix);
bool starts_with(std::string_view s, std::string_view prefix);

// Levenshtein distance; used to suggest the closest known option key.
std::size_t edit_distance(std::string_view a, std::string_view b);

// Shortest decimal text that parses back to exactly `v` (e.g. 0.1 -> "0.1").
std::string format_double(double v);

// printf-style formatting into a std::string (for log lines in translation
// units that cannot include spdlog/fmt; see core/log.h).
std::string format(const char* fmt, ...) __attribute__((format(printf, 1, 2)));

// Strict parsers: the whole string must be consumed; false on any junk,
// overflow, NaN or infinity.
bool parse_int64(std::string_view s, long long* out);
bool parse_double(std::string_view s, double* out);

}  // namespace midge::text
