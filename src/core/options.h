// Declared options: the one place where a configuration key gets its type,
// default, allowed values and help text.
//
// Everything user-facing about options derives from these declarations: INI
// and --set parsing, the error for an unknown key (with the closest known key
// suggested), range and choice checks, `midge <cmd> --help`, and
// docs/config.md (a test fails when that file is stale). Values are stored as
// canonical text so a resolved configuration prints, re-reads and compares
// exactly (0.10 and 1e-1 both become "0.1").
#pragma once

#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace midge {

struct Config;

enum class OptionKind {
  kInt,        // 64-bit integer within [min, max]
  kFloat,      // finite double within [min, max]
  kBool,       // true|false (also accepts 1/0, yes/no, on/off)
  kChoice,     // one of `choices` (case-insensitive, stored lower case)
  kText,       // free text (may be empty)
  kPath,       // file or folder path (may be empty = unset)
  kFloatList,  // exactly `list_size` comma-separated floats within [min, max]
};

struct OptionSpec {
  std::string key;  // "section.name", as in the INI file under [section]
  OptionKind kind = OptionKind::kText;
  std::string default_value;  // canonical text
  double min = 0;
  double max = 0;
  std::vector<std::string> choices;
  std::size_t list_size = 0;
  std::string help;
  // Extra per-value rule (returns an error description, or nothing) and the
  // text that then describes what is allowed; for values like
  // model.pretrained = none|*.pt|*.h5 that no plain kind covers.
  std::function<std::optional<std::string>(const std::string&)> extra_check;
  std::string allowed_override;
  // Stores a canonical value into the typed Config.
  std::function<void(Config&, const std::string&)> apply;

  std::string section() const;
  std::string name() const;
  // Human description of the allowed values, e.g. "integer in [0, 100000]".
  std::string allowed() const;
};

// Parses `value` for `spec`; returns the canonical text or throws ConfigError
// naming the key, the value and what is allowed.
std::string canonicalize(const OptionSpec& spec, const std::string& value);

class OptionTable {
 public:
  void add(OptionSpec spec);
  const OptionSpec* find(std::string_view key) const;
  const std::vector<OptionSpec>& all() const { return specs_; }
  // Sections in declaration order.
  std::vector<std::string> sections() const;
  // " (did you mean 'stage1.lr' or 'stage2.lr'?)" or "" when nothing is close.
  std::string suggest(std::string_view unknown) const;
  // Plain-text listing for --help, grouped by section.
  std::string help_text() const;
  // Markdown reference (docs/config.md).
  std::string markdown() const;

 private:
  std::vector<OptionSpec> specs_;
};

}  // namespace midge
