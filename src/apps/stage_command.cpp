#include <chrono>
#include <filesystem>
#include <iostream>
#include <sstream>

#include "apps/commands.h"
#include "core/config.h"
#include "core/errors.h"
#include "core/log.h"
#include "data/pack.h"
#include "io/run_file.h"

namespace midge::apps {

int run_stage(const std::vector<std::string>& args, distributed::Communicator& world) {
  po::options_description desc(
      "midge stage (PACK | --config FILE [--set key=value]...) --to DIR\n\n"
      "Copies a pack (midge pack) to DIR, node-local disk, and prints the copy's path,\n"
      "DIR/midge-stage-<uid>-<hash>/<name> (<hash> of the pack's path), copied again only\n"
      "when the pack changed. With --config, the pack is the configuration's data.root.\n"
      "Run one per node (the Slurm scripts do with MIDGE_STAGE=1; docs/slurm.md), then\n"
      "train with --set data.root=<printed path>.\n\n"
      "Options");
  desc.add_options()("help,h", "show this help")("pack", po::value<std::string>(),
                                                 "the pack to copy")(
      "config", po::value<std::string>(), "take the pack from this configuration's data.root")(
      "set", po::value<std::vector<std::string>>()->composing(),
      "key=value over the configuration (as train's)")("to", po::value<std::string>(),
                                                       "node-local folder to copy into");
  po::positional_options_description positional;
  positional.add("pack", 1);
  auto vm = parse_args("stage", args, desc, &positional);
  if (vm.count("help") != 0U) {
    print_once(world, describe(desc));
    return kExitSuccess;
  }
  if (vm.count("to") == 0U) throw UsageError("midge stage: --to DIR is required");
  std::string pack;
  if (vm.count("pack") != 0U) {
    pack = vm["pack"].as<std::string>();
  } else if (vm.count("config") != 0U || vm.count("set") != 0U) {
    std::optional<std::string> file;
    if (vm.count("config") != 0U) file = vm["config"].as<std::string>();
    std::vector<std::string> sets;
    if (vm.count("set") != 0U) sets = vm["set"].as<std::vector<std::string>>();
    pack = resolve_config(file, sets).data.root;
    if (pack.empty()) throw UsageError("midge stage: the configuration has no data.root");
  } else {
    throw UsageError("midge stage: give the PACK, or --config FILE with data.root set");
  }
  // Every task of the step stages (one per node); each prints its path.
  const auto start = std::chrono::steady_clock::now();
  const data::StagedPack staged = data::stage_pack(pack, vm["to"].as<std::string>());
  const double seconds =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  std::ostringstream msg;
  msg << "staged " << pack << " on " << io::host_name() << ": " << staged.path << " ("
      << (staged.copied
              ? "copied, " + std::to_string(std::filesystem::file_size(staged.path) >> 20) +
                    " MiB in " + std::to_string(static_cast<int>(seconds * 1000)) + " ms"
              : std::string("there already"))
      << ")";
  log::info(msg.str());
  std::cout << staged.path << std::endl;
  return kExitSuccess;
}

}  // namespace midge::apps
