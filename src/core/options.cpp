#include "core/options.h"

#include <algorithm>
#include <sstream>

#include "core/errors.h"
#include "core/text.h"

namespace midge {

std::string OptionSpec::section() const { return key.substr(0, key.find('.')); }

std::string OptionSpec::name() const { return key.substr(key.find('.') + 1); }

namespace {

std::string format_bound(const OptionSpec& spec, double v) {
  if (spec.kind == OptionKind::kInt) return std::to_string(static_cast<long long>(v));
  return text::format_double(v);
}

std::string range_text(const OptionSpec& spec) {
  return "[" + format_bound(spec, spec.min) + ", " + format_bound(spec, spec.max) + "]";
}

[[noreturn]] void reject(const OptionSpec& spec, const std::string& value,
                         const std::string& why = "") {
  std::string msg =
      "invalid value '" + value + "' for " + spec.key + ": expected " + spec.allowed();
  if (!why.empty()) msg += " (" + why + ")";
  throw ConfigError(msg);
}

std::string canonical_float(const OptionSpec& spec, const std::string& item,
                            const std::string& whole) {
  double v = 0;
  if (!text::parse_double(item, &v)) reject(spec, whole);
  if (v < spec.min || v > spec.max) reject(spec, whole, "out of range");
  return text::format_double(v);
}

}  // namespace

std::string OptionSpec::allowed() const {
  if (!allowed_override.empty()) return allowed_override;
  switch (kind) {
    case OptionKind::kInt:
      return "integer in " + range_text(*this);
    case OptionKind::kFloat:
      return "number in " + range_text(*this);
    case OptionKind::kBool:
      return "true|false";
    case OptionKind::kChoice:
      return text::join(choices, "|");
    case OptionKind::kText:
      return "text";
    case OptionKind::kPath:
      return "path (empty = unset)";
    case OptionKind::kFloatList:
      return std::to_string(list_size) + " comma-separated numbers in " + range_text(*this);
  }
  return "";
}

std::string canonicalize(const OptionSpec& spec, const std::string& raw) {
  std::string value = text::trim(raw);
  std::string out;
  switch (spec.kind) {
    case OptionKind::kInt: {
      long long v = 0;
      if (!text::parse_int64(value, &v)) reject(spec, value);
      if (static_cast<double>(v) < spec.min || static_cast<double>(v) > spec.max) {
        reject(spec, value, "out of range");
      }
      out = std::to_string(v);
      break;
    }
    case OptionKind::kFloat:
      out = canonical_float(spec, value, value);
      break;
    case OptionKind::kBool: {
      std::string v = text::to_lower(value);
      if (v == "true" || v == "1" || v == "yes" || v == "on") {
        out = "true";
      } else if (v == "false" || v == "0" || v == "no" || v == "off") {
        out = "false";
      } else {
        reject(spec, value);
      }
      break;
    }
    case OptionKind::kChoice: {
      std::string v = text::to_lower(value);
      if (std::find(spec.choices.begin(), spec.choices.end(), v) == spec.choices.end()) {
        reject(spec, value);
      }
      out = v;
      break;
    }
    case OptionKind::kText:
    case OptionKind::kPath:
      out = value;
      break;
    case OptionKind::kFloatList: {
      std::vector<std::string> items = text::split(value, ',');
      if (items.size() != spec.list_size) {
        reject(spec, value, "got " + std::to_string(items.size()) + " values");
      }
      std::vector<std::string> canon;
      for (const auto& item : items) canon.push_back(canonical_float(spec, item, value));
      out = text::join(canon, ",");
      break;
    }
  }
  if (spec.extra_check) {
    if (auto why = spec.extra_check(out)) reject(spec, value, *why);
  }
  return out;
}

void OptionTable::add(OptionSpec spec) {
  if (spec.key.find('.') == std::string::npos) {
    throw std::logic_error("option key without section: " + spec.key);
  }
  if (find(spec.key) != nullptr) throw std::logic_error("option declared twice: " + spec.key);
  // The default must itself be valid: a declaration bug shows up at startup.
  spec.default_value = canonicalize(spec, spec.default_value);
  specs_.push_back(std::move(spec));
}

const OptionSpec* OptionTable::find(std::string_view key) const {
  for (const auto& s : specs_) {
    if (s.key == key) return &s;
  }
  return nullptr;
}

std::vector<std::string> OptionTable::sections() const {
  std::vector<std::string> out;
  for (const auto& s : specs_) {
    if (std::find(out.begin(), out.end(), s.section()) == out.end()) out.push_back(s.section());
  }
  return out;
}

std::string OptionTable::suggest(std::string_view unknown) const {
  std::string u = text::to_lower(unknown);
  std::vector<std::string> close;
  // A bare name ("lr") or a misplaced section ("train.lr"): same name elsewhere.
  std::string bare = u.substr(u.find('.') == std::string::npos ? 0 : u.find('.') + 1);
  for (const auto& s : specs_) {
    if (s.name() == bare) close.push_back(s.key);
  }
  if (close.empty()) {
    std::size_t best = 3;  // more than 3 edits away is not a typo
    for (const auto& s : specs_) {
      std::size_t d = text::edit_distance(u, s.key);
      if (d < best) {
        best = d;
        close = {s.key};
      } else if (d == best && d <= 3) {
        close.push_back(s.key);
      }
    }
  }
  if (close.empty()) return "";
  std::string out = " (did you mean ";
  for (std::size_t i = 0; i < close.size(); ++i) {
    if (i > 0) out += (i + 1 == close.size()) ? " or " : ", ";
    out += "'" + close[i] + "'";
  }
  return out + "?)";
}

std::string OptionTable::help_text() const {
  std::ostringstream os;
  os << "Configuration keys (INI [section] name = value, or --set section.name=value):\n";
  for (const auto& section : sections()) {
    os << "\n  [" << section << "]\n";
    for (const auto& s : specs_) {
      if (s.section() != section) continue;
      os << "    " << s.name() << " = " << (s.default_value.empty() ? "\"\"" : s.default_value)
         << "\n        " << s.help << "\n        allowed: " << s.allowed() << "\n";
    }
  }
  return os.str();
}

std::string OptionTable::markdown() const {
  std::ostringstream os;
  os << "# Configuration reference\n\n"
     << "<!-- Generated by `midge options --markdown` from the declarations in\n"
     << "     src/core/config.cpp. Do not edit by hand: tests fail when it is stale. -->\n\n"
     << "A run is configured by an INI file (`--config FILE`) and `--set section.key=value`\n"
     << "overrides. Precedence: `--set` > config file > the defaults below. An unknown\n"
     << "key, a malformed value or a value out of range is an error (exit code 2) that\n"
     << "names the key and what is allowed, before any work starts. Relative paths are\n"
     << "relative to the working directory of the `midge` process.\n";
  for (const auto& section : sections()) {
    os << "\n## [" << section << "]\n\n"
       << "| key | default | allowed | meaning |\n"
       << "| --- | --- | --- | --- |\n";
    for (const auto& s : specs_) {
      if (s.section() != section) continue;
      std::string def = s.default_value.empty() ? "(empty)" : "`" + s.default_value + "`";
      std::string allowed = s.allowed();
      // '|' separates table cells in Markdown.
      std::string escaped;
      for (char c : allowed) {
        if (c == '|') escaped += "\\";
        escaped += c;
      }
      os << "| `" << s.key << "` | " << def << " | " << escaped << " | " << s.help << " |\n";
    }
  }
  return os.str();
}

}  // namespace midge
