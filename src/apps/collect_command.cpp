#include <filesystem>

#include "apps/commands.h"
#include "collect/summary.h"
#include "core/errors.h"
#include "sweep/summary.h"

namespace midge::apps {

int run_collect(const std::vector<std::string>& args, distributed::Communicator& world) {
  po::options_description desc(
      "midge collect DIR... [--out FILE] [--taxonomy CSV]\n\n"
      "Per-taxon validation accuracy over every complete run.h5 below DIR...: each run with\n"
      "its 95% Wilson interval, mean and standard deviation over repeats (runs whose\n"
      "configurations differ only in run.seed), overall and balanced accuracy, and\n"
      "accuracy at higher taxonomic levels. Writes FILE (summary.h5) and FILE with .csv.\n"
      "For one folder of `midge sweep` (with sweep.h5), also the sweep's ranking: /sweep in\n"
      "FILE and ranking.csv beside it (docs/sweeps.md).\n\n"
      "Options");
  desc.add_options()("help,h", "show this help")(
      "dirs", po::value<std::vector<std::string>>()->multitoken(), "folders with runs")(
      "out", po::value<std::string>()->default_value("summary.h5"), "summary HDF5 to write")(
      "taxonomy", po::value<std::string>()->default_value(""),
      "species,genus,... CSV for runs without data.taxonomy");
  po::positional_options_description pos;
  pos.add("dirs", -1);
  auto vm = parse_args("collect", args, desc, &pos);
  if (vm.count("help") != 0U) {
    print_once(world, describe(desc));
    return kExitSuccess;
  }
  if (vm.count("dirs") == 0U) throw UsageError("midge collect: give at least one folder");
  if (world.rank() != 0) return kExitSuccess;
  const auto c = collect::collect_runs(vm["dirs"].as<std::vector<std::string>>(),
                                       vm["taxonomy"].as<std::string>());
  if (c.groups.empty()) {
    print_once(world, collect::format_tables(c));
    throw DataError("midge collect: no complete run.h5 found");
  }
  const std::string out = vm["out"].as<std::string>();
  const std::string csv = std::filesystem::path(out).replace_extension(".csv").string();
  const auto& dirs = vm["dirs"].as<std::vector<std::string>>();
  const std::optional<sweep::SweepSummary> ranked =
      dirs.size() == 1 ? sweep::summarize_sweep_folder(dirs.front(), c) : std::nullopt;
  collect::write_summary_h5(c, out, [&](io::H5Node& f) {
    if (ranked) sweep::write_sweep_group(*ranked, f);
  });
  collect::write_summary_csv(c, csv);
  std::string text = collect::format_tables(c) + "\nsummary: " + out + "\n         " + csv + "\n";
  if (ranked) {
    const std::string ranking = (std::filesystem::path(out).parent_path() / "ranking.csv").string();
    sweep::write_ranking_csv(*ranked, ranking);
    text += "\n" + sweep::ranking_text(*ranked) + "\nranking: " + ranking + "\n";
  }
  print_once(world, text);
  return kExitSuccess;
}

}  // namespace midge::apps
