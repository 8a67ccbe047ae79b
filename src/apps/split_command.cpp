#include <spdlog/spdlog.h>

#include <sstream>

#include "apps/commands.h"
#include "core/errors.h"
#include "data/image_set.h"
#include "data/split.h"

namespace midge::apps {

int run_split(const std::vector<std::string>& args, distributed::Communicator& world) {
  po::options_description desc(
      "midge split --data DIR [--every 5 --offset 4] [--specimen-pattern RE] [--out split.csv]\n\n"
      "Scans DIR/<taxon>/ for images, sorts each taxon's files by name and sends every\n"
      "n-th image to validation; with --specimen-pattern, every n-th specimen of each\n"
      "taxon (sorted), all its images on one side. Prints per-taxon images (and\n"
      "specimens) per side; --out writes a manifest CSV (path,taxon,split[,specimen])\n"
      "that `train` accepts as data.manifest.\n\n"
      "Options");
  desc.add_options()("help,h", "show this help")("data", po::value<std::string>(),
                                                 "image folder with one sub-folder per taxon")(
      "every", po::value<int>()->default_value(5), "every n-th image goes to validation")(
      "offset", po::value<int>()->default_value(4), "which one of each n (0-based)")(
      "specimen-pattern", po::value<std::string>()->default_value(""),
      "regular expression over file names naming each image's specimen (as "
      "data.specimen_pattern)")("unit", po::value<std::string>()->default_value("specimen"),
                                "specimen|image: what the split keeps together (as "
                                "data.split_unit)")("out", po::value<std::string>(),
                                                    "write the manifest CSV here");
  auto vm = parse_args("split", args, desc);
  if (vm.count("help") != 0U) {
    print_once(world, describe(desc));
    return kExitSuccess;
  }
  if (vm.count("data") == 0U) throw UsageError("midge split: --data DIR is required");
  data::check_split_params(vm["every"].as<int>(), vm["offset"].as<int>());
  const data::SplitUnit unit = data::split_unit_from(vm["unit"].as<std::string>());
  const data::SpecimenPattern pattern(vm["specimen-pattern"].as<std::string>());
  auto set = data::scan_image_set(vm["data"].as<std::string>());
  data::name_specimens(&set, pattern);
  const auto split =
      data::split_image_set(set, vm["every"].as<int>(), vm["offset"].as<int>(), unit);
  if (world.rank() == 0) {
    for (const auto& taxon : set.taxa) {
      if (!taxon.ignored.empty()) {
        spdlog::warn("{}: {} non-image file(s) skipped, e.g. {}", taxon.name, taxon.ignored.size(),
                     taxon.ignored.front());
      }
    }
    print_once(world, data::format_split_table(split, &set));
    if (vm.count("out") != 0U) {
      data::write_manifest(split, vm["out"].as<std::string>());
      print_once(world, "manifest: " + vm["out"].as<std::string>() + "\n");
    }
  }
  world.barrier();
  return kExitSuccess;
}

}  // namespace midge::apps
