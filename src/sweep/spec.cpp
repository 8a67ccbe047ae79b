#include "sweep/spec.h"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <fstream>
#include <set>
#include <sstream>

#include "core/config.h"
#include "core/errors.h"
#include "core/random.h"
#include "core/table.h"
#include "core/text.h"

namespace midge::sweep {
namespace {

std::string where(const std::string& origin, int line) {
  return origin + ":" + std::to_string(line);
}

// The option spec of `key`, or ConfigError with a suggestion.
const OptionSpec& option_of(const std::string& key, const std::string& at) {
  const OptionSpec* s = option_table().find(key);
  if (s == nullptr) {
    throw ConfigError(at + ": unknown key '" + key + "'" + option_table().suggest(key));
  }
  // One sweep has one seed and one halving policy: they belong in the base
  // configuration, not to a trial.
  if (key.rfind("sweep.", 0) == 0) {
    throw ConfigError(at + ": '" + key +
                      "' describes the whole sweep and cannot vary between trials; set it in "
                      "the base configuration");
  }
  return *s;
}

std::string canonical(const OptionSpec& spec, const std::string& value, const std::string& at) {
  try {
    return canonicalize(spec, value);
  } catch (const ConfigError& e) {
    throw ConfigError(at + ": " + e.what());
  }
}

// "uniform(1e-4, 1e-2)" -> {"uniform", {"1e-4", "1e-2"}}.
std::pair<std::string, std::vector<std::string>> call_of(const std::string& text,
                                                         const std::string& at) {
  const auto open = text.find('(');
  if (open == std::string::npos || text.back() != ')') {
    throw ConfigError(at +
                      ": expected uniform(a, b), loguniform(a, b), int(a, b) or "
                      "choice(a, b, ...), got '" +
                      text + "'");
  }
  std::vector<std::string> args;
  for (const auto& a : text::split(text.substr(open + 1, text.size() - open - 2), ','))
    args.push_back(text::trim(a));
  return {text::trim(text.substr(0, open)), args};
}

double number(const std::string& s, const std::string& at) {
  double v = 0;
  if (!text::parse_double(s, &v)) throw ConfigError(at + ": '" + s + "' is not a number");
  return v;
}

// One value of `key` drawn from `dist` (checked by check_distribution).
std::string draw(const std::string& dist, Rng& rng) {
  const auto [fn, args] = call_of(dist, "");
  double a = 0;
  double b = 0;
  if (fn != "choice") {
    text::parse_double(args[0], &a);
    text::parse_double(args[1], &b);
  }
  // Six significant digits: readable, and the same text on every machine
  // even where std::exp/std::log differ in the last bit.
  if (fn == "uniform") return text::format("%.6g", rng.uniform(a, b));
  if (fn == "loguniform")
    return text::format("%.6g", std::exp(rng.uniform(std::log(a), std::log(b))));
  if (fn == "int") {
    const auto lo = static_cast<long long>(a);
    const auto span = static_cast<std::uint64_t>(static_cast<long long>(b) - lo + 1);
    return std::to_string(lo + static_cast<long long>(rng.next() % span));
  }
  return args[rng.next() % args.size()];  // choice
}

void check_distribution(const OptionSpec& spec, const std::string& dist, const std::string& at) {
  const auto [fn, args] = call_of(dist, at);
  if (fn == "choice") {
    if (args.empty()) throw ConfigError(at + ": choice() needs at least one value");
    for (const auto& v : args) canonical(spec, v, at);
    return;
  }
  if (fn != "uniform" && fn != "loguniform" && fn != "int") {
    throw ConfigError(at + ": unknown distribution '" + fn +
                      "' (expected uniform, loguniform, int or choice)");
  }
  if (args.size() != 2) throw ConfigError(at + ": " + fn + "(a, b) takes two bounds");
  const double a = number(args[0], at);
  const double b = number(args[1], at);
  if (!(a < b)) throw ConfigError(at + ": " + fn + "(a, b) needs a < b");
  if (fn == "loguniform" && a <= 0) throw ConfigError(at + ": loguniform(a, b) needs a > 0");
  if (fn == "int" && (a != std::floor(a) || b != std::floor(b))) {
    throw ConfigError(at + ": int(a, b) needs whole bounds");
  }
  // Both ends must be allowed values of the key.
  canonical(spec, fn == "int" ? std::to_string(static_cast<long long>(a)) : args[0], at);
  canonical(spec, fn == "int" ? std::to_string(static_cast<long long>(b)) : args[1], at);
}

}  // namespace

std::vector<std::string> Trial::overrides() const {
  std::vector<std::string> out;
  for (const auto& [k, v] : params) out.push_back(k + "=" + v);
  return out;
}

SweepSpec parse_sweep_spec(const std::string& text_in, const std::string& origin) {
  SweepSpec spec;
  spec.path = origin;
  spec.text = text_in;
  std::istringstream in(text_in);
  std::string raw;
  std::string section;
  std::set<std::string> seen;
  int line = 0;
  while (std::getline(in, raw)) {
    ++line;
    const std::string l = text::trim(raw);
    if (l.empty() || l[0] == '#' || l[0] == ';') continue;
    const std::string at = where(origin, line);
    if (l.front() == '[') {
      if (l.back() != ']') throw ConfigError(at + ": malformed section header '" + l + "'");
      section = text::trim(l.substr(1, l.size() - 2));
      if (section != "grid" && section != "random" && section != "repeat" && section != "folds") {
        throw ConfigError(at + ": unknown section [" + section +
                          "] (a sweep spec has [grid], [random], [repeat] and [folds])");
      }
      continue;
    }
    const auto eq = l.find('=');
    if (eq == std::string::npos) throw ConfigError(at + ": expected key = value, got '" + l + "'");
    const std::string key = text::trim(l.substr(0, eq));
    const std::string value = text::trim(l.substr(eq + 1));
    if (section.empty())
      throw ConfigError(at + ": '" + key + "' outside [grid], [random], [repeat], [folds]");
    const std::string in_section = at + ": [" + section + "] " + key;
    if (section == "repeat") {
      if (key != "seeds") throw ConfigError(in_section + ": [repeat] takes only 'seeds'");
      for (const auto& s : text::split(value, ',')) {
        long long seed = 0;
        if (!text::parse_int64(text::trim(s), &seed) || seed < 0) {
          throw ConfigError(in_section + ": '" + text::trim(s) + "' is not a seed (integer >= 0)");
        }
        spec.seeds.push_back(seed);
      }
      continue;
    }
    if (section == "folds") {
      if (key != "k") throw ConfigError(in_section + ": [folds] takes only 'k'");
      if (!text::parse_int64(value, &spec.folds) || spec.folds < 2 || spec.folds > 1000) {
        throw ConfigError(in_section + ": expected a number of folds in [2, 1000], got '" + value +
                          "'");
      }
      continue;
    }
    if (section == "random" && key == "trials") {
      if (!text::parse_int64(value, &spec.random_trials) || spec.random_trials < 1) {
        throw ConfigError(in_section + ": expected a number of trials >= 1, got '" + value + "'");
      }
      continue;
    }
    const OptionSpec& opt = option_of(key, at + ": [" + section + "]");
    if (!seen.insert(key).second) throw ConfigError(in_section + ": swept twice");
    if (section == "grid") {
      // List-valued keys (data.mean, data.std) separate their values by ';'.
      const char sep = opt.kind == OptionKind::kFloatList ? ';' : ',';
      std::vector<std::string> values;
      for (const auto& v : text::split(value, sep)) {
        values.push_back(canonical(opt, text::trim(v), in_section));
      }
      if (values.empty() || value.empty()) throw ConfigError(in_section + ": no values");
      spec.grid.emplace_back(key, values);
    } else {
      check_distribution(opt, value, in_section);
      spec.random.emplace_back(key, value);
    }
  }
  if (!spec.random.empty() && spec.random_trials == 0) {
    throw ConfigError(origin + ": [random] needs 'trials = N'");
  }
  if (!spec.seeds.empty() && seen.count("run.seed") != 0) {
    throw ConfigError(origin + ": run.seed is swept and [repeat] seeds is given; use one of them");
  }
  if (spec.folds > 0 &&
      (seen.count("data.split_every") != 0 || seen.count("data.split_offset") != 0)) {
    throw ConfigError(
        origin + ": [folds] sets data.split_every and data.split_offset; do not sweep them too");
  }
  if (spec.grid.empty() && spec.random.empty() && spec.seeds.empty() && spec.folds == 0) {
    throw ConfigError(origin +
                      ": no [grid], [random], [repeat] or [folds] entries: nothing to sweep");
  }
  return spec;
}

SweepSpec read_sweep_spec(const std::string& path) {
  std::ifstream in(path);
  if (!in) throw ConfigError("sweep spec not found: " + path);
  std::ostringstream text;
  text << in.rdbuf();
  return parse_sweep_spec(text.str(), path);
}

std::vector<Trial> expand(const SweepSpec& spec, long long sweep_seed) {
  std::size_t points = 1;
  for (const auto& [key, values] : spec.grid) points *= values.size();
  const long long draws = spec.random.empty() ? 1 : spec.random_trials;
  const std::vector<long long> seeds = spec.seeds.empty() ? std::vector<long long>{-1} : spec.seeds;
  std::vector<Trial> out;
  for (long long r = 0; r < draws; ++r) {
    std::vector<std::pair<std::string, std::string>> drawn;
    if (!spec.random.empty()) {
      Rng rng(derive_seed(static_cast<std::uint64_t>(sweep_seed), {static_cast<std::uint64_t>(r)}));
      for (const auto& [key, dist] : spec.random) {
        const OptionSpec& opt = *option_table().find(key);
        drawn.emplace_back(key, canonicalize(opt, draw(dist, rng)));
      }
    }
    for (std::size_t g = 0; g < points; ++g) {
      std::vector<std::pair<std::string, std::string>> params;
      std::size_t rest = g;
      // The last grid key varies fastest.
      std::vector<std::pair<std::string, std::string>> grid_values(spec.grid.size());
      for (std::size_t k = spec.grid.size(); k-- > 0;) {
        const auto& values = spec.grid[k].second;
        grid_values[k] = {spec.grid[k].first, values[rest % values.size()]};
        rest /= values.size();
      }
      params.insert(params.end(), grid_values.begin(), grid_values.end());
      params.insert(params.end(), drawn.begin(), drawn.end());
      for (long long seed : seeds) {
        for (long long fold = 0; fold < std::max<long long>(spec.folds, 1); ++fold) {
          Trial t;
          t.params = params;
          if (seed >= 0) t.params.emplace_back("run.seed", std::to_string(seed));
          if (spec.folds > 0) {
            t.params.emplace_back("data.split_every", std::to_string(spec.folds));
            t.params.emplace_back("data.split_offset", std::to_string(fold));
          }
          std::vector<std::string> parts;
          for (const auto& [k, v] : t.params) parts.push_back(k + "=" + v);
          t.slug = text::join(parts, ",");
          char hex[17];
          std::snprintf(
              hex, sizeof(hex), "%016llx",
              static_cast<unsigned long long>(mix64(fnv1a(t.slug.data(), t.slug.size()))));
          t.id = std::string(hex).substr(0, 12);
          out.push_back(std::move(t));
        }
      }
    }
  }
  std::set<std::string> ids;
  for (const auto& t : out) {
    if (!ids.insert(t.id).second) {
      throw ConfigError(spec.path + ": two trials have the same parameters (" + t.slug +
                        "); list each value once");
    }
  }
  return out;
}

std::vector<Config> resolve_trials(const std::optional<std::string>& base_file,
                                   const std::vector<std::string>& base_sets,
                                   const std::vector<Trial>& trials, int ranks_per_trial) {
  std::vector<Config> out;
  ValidateOptions options;
  options.ranks = ranks_per_trial;
  for (const auto& t : trials) {
    std::vector<std::string> sets = base_sets;
    for (const auto& o : t.overrides()) sets.push_back(o);
    try {
      Config c = resolve_config(base_file, sets);
      validate(c, options);
      // A manifest fixes the split: every fold would validate the same images.
      const bool folded = std::any_of(t.params.begin(), t.params.end(),
                                      [](const auto& p) { return p.first == "data.split_offset"; });
      if (folded && !c.data.manifest.empty()) {
        throw ConfigError("[folds] needs data.root: data.manifest (" + c.data.manifest +
                          ") fixes the split, so every fold would validate the same images");
      }
      out.push_back(std::move(c));
    } catch (const ConfigError& e) {
      throw ConfigError("trial " + t.id + " (" + t.slug + "): " + e.what());
    }
  }
  return out;
}

std::string trial_table(const std::vector<Trial>& trials) {
  TextTable table({{"trial"}, {"id", 12, true}, {"parameters", 0, true}});
  for (std::size_t i = 0; i < trials.size(); ++i) {
    table.add_row({std::to_string(i + 1), trials[i].id, trials[i].slug});
  }
  return table.str() + std::to_string(trials.size()) + " trial(s)\n";
}

}  // namespace midge::sweep
