// Sweep specs (jobs/*.ini): which trials a `midge sweep` runs.
//
//   [grid]    key = v1, v2, ...    cartesian product over any configuration
//                                  key; the first key varies slowest
//   [random]  trials = N           N draws from sweep.seed (6 significant
//                                  digits), each key one of
//             key = uniform(a, b) | loguniform(a, b) | int(a, b) | choice(a, b, ...)
//   [repeat]  seeds = 1, 2, 3      every point once per seed, as run.seed
//   [folds]   k = 5                every point (and seed) once per fold: k
//                                  trials with data.split_every = k and
//                                  data.split_offset = 0 .. k-1, so that
//                                  every image is validated exactly once
//                                  (k-fold cross-validation; `midge collect`
//                                  pools the folds' predictions)
//
// Grid and random combine: each of the N random draws is paired with every
// grid point (N x |grid| points), and every point runs once per seed. Draw r
// takes its numbers from a stream derived from (sweep.seed, r) alone, so
// adding keys to [grid] or seeds to [repeat] does not change the draws.
//
// Every value is canonicalized and checked by the option table of `midge
// train` (unknown key: "did you mean"; bad value: the key, the value and the
// allowed range), so a spec that expands is a spec whose trials resolve.
// Each trial's id is a stable hash of its parameters (SplitMix64's finalizer
// of the slug's FNV-1a 64-bit hash, so that slugs differing in one character
// get unrelated ids; 12 hex digits), and its slug the readable parameters
// ("stage2.lr=0.0003,model.dropout=0.5,run.seed=2"): expanding the same spec
// again, on any machine, gives the same ids in the same order.
#pragma once

#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "core/config.h"

namespace midge::sweep {

struct Trial {
  std::string id;    // 12 hex digits
  std::string slug;  // key=value,... in spec order (run.seed last)
  std::vector<std::pair<std::string, std::string>> params;  // canonical values
  // The trial's parameters as `--set key=value` overrides.
  std::vector<std::string> overrides() const;
};

struct SweepSpec {
  std::string path;
  std::string text;  // the file as read (recorded with the sweep)
  std::vector<std::pair<std::string, std::vector<std::string>>> grid;  // canonical values
  long long random_trials = 0;
  std::vector<std::pair<std::string, std::string>> random;  // key -> distribution text
  std::vector<long long> seeds;                             // [repeat]; empty: run.seed
  long long folds = 0;                                      // [folds] k; 0: none
};

// Reads and checks a spec file. Throws ConfigError naming the file, line,
// section and key.
SweepSpec read_sweep_spec(const std::string& path);
SweepSpec parse_sweep_spec(const std::string& text, const std::string& origin);

// The trials of `spec`, random draws from `sweep_seed`, in a fixed order:
// random draw, then grid point, then seed, then fold.
std::vector<Trial> expand(const SweepSpec& spec, long long sweep_seed);

// Every trial's configuration: the base file < the base `--set` overrides <
// the trial's parameters, resolved and validated (`ranks_per_trial` ranks
// train one trial). Throws ConfigError naming the trial's slug, so a bad
// combination is reported before any trial runs.
std::vector<Config> resolve_trials(const std::optional<std::string>& base_file,
                                   const std::vector<std::string>& base_sets,
                                   const std::vector<Trial>& trials, int ranks_per_trial);

// The trial table printed by `midge sweep --dry-run`.
std::string trial_table(const std::vector<Trial>& trials);

}  // namespace midge::sweep
