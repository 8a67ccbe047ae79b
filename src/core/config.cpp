// Resolving a configuration: defaults < INI file < --set, each value
// canonicalized against the key catalogue (core/config_keys.cpp), every
// error gathered into one ConfigError; the resolved INI text and the
// differences between two configurations.
#include "core/config.h"

#include <boost/program_options.hpp>
#include <filesystem>
#include <fstream>
#include <limits>
#include <sstream>

#include "core/errors.h"
#include "core/text.h"

namespace midge {
namespace {

namespace fs = std::filesystem;
namespace po = boost::program_options;

struct Resolver {
  const OptionTable& table = option_table();
  std::map<std::string, std::string> values;  // key -> canonical text
  std::vector<std::string> errors;

  Resolver() {
    for (const auto& s : table.all()) values[s.key] = s.default_value;
  }

  void set(const std::string& key, const std::string& raw, const std::string& origin) {
    const OptionSpec* spec = table.find(key);
    if (spec == nullptr) {
      errors.push_back(origin + ": unknown key '" + key + "'" + table.suggest(key));
      return;
    }
    try {
      values[key] = canonicalize(*spec, raw);
    } catch (const ConfigError& e) {
      errors.push_back(origin + ": " + e.what());
    }
  }

  void read_ini(std::istream& in, const std::string& origin) {
    po::options_description desc;
    for (const auto& s : table.all()) desc.add_options()(s.key.c_str(), po::value<std::string>());
    po::parsed_options parsed(nullptr);
    try {
      parsed = po::parse_config_file(in, desc, /*allow_unregistered=*/true);
    } catch (const po::error& e) {
      throw ConfigError(origin + ": " + e.what());
    }
    std::map<std::string, int> seen;
    for (const auto& opt : parsed.options) {
      std::string key = opt.string_key;
      if (++seen[key] == 2) {
        errors.push_back(origin + ": key '" + key + "' is given more than once");
        continue;
      }
      set(key, opt.value.empty() ? std::string() : opt.value.front(), origin);
    }
  }

  void apply_overrides(const std::vector<std::string>& overrides) {
    for (const auto& o : overrides) {
      auto eq = o.find('=');
      if (eq == std::string::npos) {
        errors.push_back("--set '" + o + "': expected section.key=value");
        continue;
      }
      set(text::trim(o.substr(0, eq)), o.substr(eq + 1), "--set");
    }
  }

  Config finish() {
    if (!errors.empty()) throw ConfigError(text::join(errors, "\n"));
    Config c;
    for (const auto& s : table.all()) {
      s.apply(c, values[s.key]);
      c.values.emplace_back(s.key, values[s.key]);
    }
    return c;
  }
};

}  // namespace

std::vector<std::string> config_differences(const Config& from, const Config& to,
                                            const std::function<bool(const std::string&)>& ignore) {
  std::vector<std::string> out;
  for (std::size_t i = 0; i < from.values.size(); ++i) {
    const auto& [key, value] = from.values[i];
    if (value != to.values[i].second && !(ignore && ignore(key))) {
      out.push_back(key + " (" + value + " -> " + to.values[i].second + ")");
    }
  }
  return out;
}

Preprocessing preprocessing_of(const DataConfig& data) {
  Preprocessing p;
  p.image_size = data.image_size;
  p.resize = data.resize;
  p.mean = data.mean;
  p.std = data.std;
  return p;
}

const std::string& Config::value(const std::string& key) const {
  for (const auto& kv : values) {
    if (kv.first == key) return kv.second;
  }
  throw std::out_of_range("no configuration key " + key);
}

std::string Config::resolved_ini() const {
  std::ostringstream os;
  std::string section;
  for (const auto& [key, v] : values) {
    std::string sec = key.substr(0, key.find('.'));
    if (sec != section) {
      if (!section.empty()) os << "\n";
      os << "[" << sec << "]\n";
      section = sec;
    }
    os << key.substr(key.find('.') + 1) << " = " << v << "\n";
  }
  return os.str();
}

Config resolve_config(const std::optional<std::string>& ini_path,
                      const std::vector<std::string>& overrides) {
  Resolver r;
  if (ini_path) {
    if (!fs::is_regular_file(*ini_path)) {
      throw ConfigError("config file not found: " + *ini_path);
    }
    std::ifstream in(*ini_path);
    if (!in) throw ConfigError("cannot read config file: " + *ini_path);
    r.read_ini(in, *ini_path);
  }
  r.apply_overrides(overrides);
  return r.finish();
}

Config resolve_config_text(const std::string& ini_text, const std::string& origin,
                           const std::vector<std::string>& overrides) {
  Resolver r;
  std::istringstream in(ini_text);
  r.read_ini(in, origin);
  r.apply_overrides(overrides);
  return r.finish();
}
}  // namespace midge
