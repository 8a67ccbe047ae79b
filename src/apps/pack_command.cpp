#include <sstream>

#include "apps/commands.h"
#include "core/errors.h"
#include "data/pack.h"
#include "data/specimens.h"

namespace midge::apps {

int run_pack(const std::vector<std::string>& args, distributed::Communicator& world) {
  po::options_description desc(
      "midge pack DATA --out images.h5 [--specimen-pattern RE]\n\n"
      "Packs the image folder DATA (one sub-folder per taxon) into one HDF5 file: every\n"
      "image's bytes unchanged, with its path, taxon, specimen and SHA-256 (docs/data.md).\n"
      "data.root accepts the pack in place of the folder, and a run from it is bitwise the\n"
      "run from the folder, reading one file instead of one per image. The Slurm scripts\n"
      "copy it to node-local disk first with MIDGE_STAGE=1 (docs/slurm.md).\n\n"
      "Options");
  desc.add_options()("help,h", "show this help")("data", po::value<std::string>(),
                                                 "image folder with one sub-folder per taxon")(
      "out", po::value<std::string>(), "the pack to write (replaced whole when it exists)")(
      "specimen-pattern", po::value<std::string>()->default_value(""),
      "regular expression over file names naming each image's specimen (as "
      "data.specimen_pattern), stored in the pack");
  po::positional_options_description positional;
  positional.add("data", 1);
  auto vm = parse_args("pack", args, desc, &positional);
  if (vm.count("help") != 0U) {
    print_once(world, describe(desc));
    return kExitSuccess;
  }
  if (vm.count("data") == 0U) throw UsageError("midge pack: the image folder DATA is required");
  if (vm.count("out") == 0U) throw UsageError("midge pack: --out FILE is required");
  const data::SpecimenPattern pattern(vm["specimen-pattern"].as<std::string>());
  // One writer: under mpirun every rank would otherwise write the same file.
  if (world.rank() == 0) {
    const std::string out = vm["out"].as<std::string>();
    const auto s = data::write_pack(vm["data"].as<std::string>(), out, pattern);
    std::ostringstream msg;
    msg << "packed " << s.images << " images of " << s.taxa << " taxa ("
        << (s.bytes + 512 * 1024) / (1024 * 1024) << " MiB";
    if (s.specimens > 0) msg << ", " << s.specimens << " specimens";
    if (s.ignored > 0) msg << "; " << s.ignored << " non-image files left out";
    msg << ") into " << out << "\n";
    print_once(world, msg.str());
  }
  world.barrier();
  return kExitSuccess;
}

}  // namespace midge::apps
