#include "apps/command_line.h"

#include <iostream>
#include <sstream>

#include "core/errors.h"

namespace midge::apps {

po::variables_map parse_args(const std::string& command, const std::vector<std::string>& args,
                             const po::options_description& desc,
                             const po::positional_options_description* positional) {
  po::variables_map vm;
  try {
    po::command_line_parser parser(args);
    parser.options(desc);
    if (positional != nullptr) parser.positional(*positional);
    po::store(parser.run(), vm);
    po::notify(vm);
  } catch (const po::error& e) {
    throw UsageError("midge " + command + ": " + e.what() + " (see `midge " + command +
                     " --help`)");
  }
  return vm;
}

std::string describe(const po::options_description& desc) {
  std::ostringstream os;
  os << desc;
  return os.str();
}

void print_once(const distributed::Communicator& world, const std::string& text) {
  if (world.rank() == 0) std::cout << text << std::flush;
}

std::string device_option(const std::string& command, const std::string& value) {
  if (value != "auto" && value != "cpu" && value != "cuda") {
    throw UsageError("midge " + command + ": --device must be auto, cpu or cuda, got '" + value +
                     "'");
  }
  return value;
}

po::options_description config_options() {
  po::options_description desc("Configuration");
  desc.add_options()("config", po::value<std::string>(),
                     "INI file (configs/paper.ini, configs/demo.ini, ...)")(
      "set", po::value<std::vector<std::string>>()->composing(),
      "override one key: --set section.key=value (repeatable; beats the file)")(
      "dry-run", po::bool_switch(), "validate everything, print the resolved configuration, exit");
  return desc;
}

}  // namespace midge::apps
