#include <spdlog/spdlog.h>

#include <filesystem>
#include <optional>

#include "apps/commands.h"
#include "core/config.h"
#include "core/errors.h"
#include "core/stop_request.h"
#include "core/text.h"
#include "distributed/agreement.h"
#include "sweep/runner.h"
#include "sweep/spec.h"
#include "train/trainer.h"

namespace midge::apps {

namespace {

// Where a configuration comes from: --config FILE and the --set overrides.
struct ConfigSources {
  std::optional<std::string> file;
  std::vector<std::string> sets;
};

ConfigSources sources_of(const po::variables_map& vm) {
  ConfigSources s;
  if (vm.count("config") != 0U) s.file = vm["config"].as<std::string>();
  if (vm.count("set") != 0U) s.sets = vm["set"].as<std::vector<std::string>>();
  return s;
}

// Resolves and validates the configuration on every rank (each rank sees
// the same files, so each reaches the same verdict before any work), and
// agrees on the verdict: an error ends every rank alike with exit 2, no
// abort (distributed/agreement.h).
// The configuration is not known yet, so not its dist.timeout: the
// default's time for every rank to have read it.
constexpr double kConfigAgreementSeconds = 120;

Config load_validated(const ConfigSources& sources, int ranks_per_run,
                      distributed::Communicator& world) {
  Config config;
  distributed::Agreement(world, kConfigAgreementSeconds).phase("checking the configuration", [&] {
    config = resolve_config(sources.file, sources.sets);
    ValidateOptions options;
    options.ranks = ranks_per_run;
    validate(config, options);
  });
  return config;
}

std::string config_help(const po::options_description& desc) {
  return describe(desc) + "\n" + option_table().help_text();
}

}  // namespace

int run_train(const std::vector<std::string>& args, distributed::Communicator& world) {
  po::options_description desc(
      "midge train --config FILE [--set key=value]... [--out DIR] [--dry-run]\n\n"
      "One two-stage run (stage 1: backbone frozen; stage 2: whole network).\n"
      "Run under mpirun/srun for data-parallel training over all ranks.\n\n"
      "Options");
  desc.add_options()("help,h", "show this help and every configuration key")(
      "out", po::value<std::string>()->default_value("results/run"), "output folder");
  desc.add(config_options());
  auto vm = parse_args("train", args, desc);
  if (vm.count("help") != 0U) {
    print_once(world, config_help(desc));
    return kExitSuccess;
  }
  const Config config = load_validated(sources_of(vm), world.size(), world);
  if (vm["dry-run"].as<bool>()) {
    print_once(world, config.resolved_ini());
    spdlog::info("configuration valid; --dry-run: nothing trained");
    return kExitSuccess;
  }
  const std::string out = vm["out"].as<std::string>();
  install_stop_handlers();
  const train::TrainOutcome result = train::train_run(config, world, out);
  if (result.already_complete) {
    print_once(world, out + " already holds a complete run (accuracy " +
                          text::format_double(result.accuracy) +
                          "); nothing to do. Use another --out for a new run.\n");
    return kExitSuccess;
  }
  if (result.interrupted) {
    print_once(world, "\nstopped on request; state: " + out +
                          "/state.h5. Rerun the same command to resume (exit code " +
                          std::to_string(kExitResumable) + ").\n");
    return kExitResumable;
  }
  print_once(world, "\nvalidation, per taxon:\n" + result.table + "\nresults: " + result.run_file +
                        "\nmodel:   " + result.model_file + "\n");
  return kExitSuccess;
}

namespace {

// "I/N" of --part.
sweep::Part parse_part(const std::string& text) {
  const auto slash = text.find('/');
  long long i = -1;
  long long n = 0;
  if (slash == std::string::npos || !text::parse_int64(text.substr(0, slash), &i) ||
      !text::parse_int64(text.substr(slash + 1), &n) || n < 1 || i < 0 || i >= n) {
    throw UsageError("midge sweep: --part takes I/N with 0 <= I < N, got '" + text + "'");
  }
  return {static_cast<std::size_t>(i), static_cast<std::size_t>(n)};
}

}  // namespace

int run_sweep(const std::vector<std::string>& args, distributed::Communicator& world) {
  po::options_description desc(
      "midge sweep --config FILE --sweep FILE [--ranks-per-trial K] [--part I/N] [--out DIR]\n"
      "            [--retry failed] [--dry-run]\n\n"
      "Runs the trials of a sweep spec (jobs/*.ini) over groups of K ranks.\n\n"
      "Options");
  desc.add_options()("help,h", "show this help and every configuration key")(
      "sweep", po::value<std::string>(), "sweep spec file")(
      "ranks-per-trial", po::value<int>()->default_value(1), "ranks that train one trial")(
      "part", po::value<std::string>(),
      "I/N: run only the trials whose number in the trial table, minus 1, modulo N is I "
      "(0 <= I < N), e.g. one task of a Slurm job array each; all parts share --out")(
      "out", po::value<std::string>()->default_value("results/sweep"), "output folder")(
      "retry", po::value<std::string>(),
      "failed: run this part's failed trials again (each failed attempt's folder kept as "
      "trials/<id>.failed-N, its error in sweep.h5)");
  desc.add(config_options());
  auto vm = parse_args("sweep", args, desc);
  if (vm.count("help") != 0U) {
    print_once(world, config_help(desc));
    return kExitSuccess;
  }
  if (vm.count("sweep") == 0U) throw UsageError("midge sweep: --sweep FILE is required");
  const std::string spec = vm["sweep"].as<std::string>();
  if (!std::filesystem::is_regular_file(spec)) {
    throw UsageError("midge sweep: sweep spec not found: " + spec);
  }
  const int k = vm["ranks-per-trial"].as<int>();
  if (k < 1 || world.size() % k != 0) {
    throw UsageError("midge sweep: --ranks-per-trial must divide the number of ranks (" +
                     std::to_string(world.size()) + "), got " + std::to_string(k));
  }
  sweep::Part part;
  if (vm.count("part") != 0U) part = parse_part(vm["part"].as<std::string>());
  const bool retry_failed = vm.count("retry") != 0U;
  if (retry_failed && vm["retry"].as<std::string>() != "failed") {
    throw UsageError("midge sweep: --retry takes 'failed' (the trials to run again), got '" +
                     vm["retry"].as<std::string>() + "'");
  }
  const ConfigSources sources = sources_of(vm);
  const Config config = load_validated(sources, k, world);
  // Every trial's configuration is resolved and checked before anything runs.
  sweep::SweepSpec sweep_spec;
  std::vector<sweep::Trial> trials;
  std::vector<Config> configs;
  distributed::Agreement(world, kConfigAgreementSeconds).phase("checking the sweep spec", [&] {
    sweep_spec = sweep::read_sweep_spec(spec);
    trials = sweep::expand(sweep_spec, config.sweep.seed);
    configs = sweep::resolve_trials(sources.file, sources.sets, trials, k);
  });
  if (vm["dry-run"].as<bool>()) {
    print_once(world, sweep::trial_table(trials));
    if (part.count > 1) {
      std::vector<std::string> numbers;
      for (std::size_t i = 0; i < trials.size(); ++i)
        if (part.has(i)) numbers.push_back(std::to_string(i + 1));
      print_once(world, "part " + std::to_string(part.index) + "/" + std::to_string(part.count) +
                            ": trials " + text::join(numbers, ", ") + "\n");
    }
    spdlog::info("sweep spec {} valid: {} trial(s) of {} rank(s) each; --dry-run: nothing trained",
                 spec, trials.size(), k);
    return kExitSuccess;
  }
  sweep::SweepPlan plan;
  plan.spec = sweep_spec;
  plan.base_config = config.resolved_ini();
  plan.sweep_seed = config.sweep.seed;
  plan.ranks_per_trial = k;
  plan.halving = config.sweep.halving;
  plan.halving_rate = config.sweep.halving_rate;
  plan.rung_epochs = config.sweep.rung_epochs;
  plan.part = part;
  plan.retry_failed = retry_failed;
  plan.trials = trials;
  plan.configs = std::move(configs);
  const std::string out = vm["out"].as<std::string>();
  install_stop_handlers();
  const sweep::SweepOutcome r = sweep::run_sweep(plan, world, out);
  print_once(world, "\n" + r.ranking + "\n" + std::to_string(r.complete) + " complete, " +
                        std::to_string(r.failed) + " failed" +
                        (r.stopped > 0 ? ", " + std::to_string(r.stopped) + " stopped by halving"
                                       : std::string()) +
                        "\njournal: " + r.journal +
                        (r.summary.empty() ? "" : "\nsummary: " + r.summary) + "\n");
  if (r.interrupted) {
    print_once(world, "stopped on request with " + std::to_string(r.left) +
                          " trial(s) left; rerun the same command to resume (exit code " +
                          std::to_string(kExitResumable) + ").\n");
    return kExitResumable;
  }
  return r.failed == 0 ? kExitSuccess : kExitRunFailed;
}

}  // namespace midge::apps
