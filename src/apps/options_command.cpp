#include "apps/commands.h"
#include "core/config.h"
#include "core/errors.h"

namespace midge::apps {

int run_options(const std::vector<std::string>& args, distributed::Communicator& world) {
  po::options_description desc(
      "midge options [--markdown]\n\n"
      "Lists every configuration key with its default, allowed values and meaning.\n"
      "--markdown prints docs/config.md.\n\n"
      "Options");
  desc.add_options()("help,h", "show this help")("markdown", po::bool_switch(),
                                                 "Markdown reference (docs/config.md)");
  auto vm = parse_args("options", args, desc);
  if (vm.count("help") != 0U) {
    print_once(world, describe(desc));
    return kExitSuccess;
  }
  print_once(world,
             vm["markdown"].as<bool>() ? option_table().markdown() : option_table().help_text());
  return kExitSuccess;
}

}  // namespace midge::apps
