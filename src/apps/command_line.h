// What every subcommand of the `midge` executable shares: its signature,
// Boost.Program_options parsing that turns mistakes into UsageError (exit 2),
// and printing that happens once (on rank 0), not once per rank.
#pragma once

#include <boost/program_options.hpp>
#include <string>
#include <vector>

#include "distributed/communicator.h"

namespace midge::apps {

namespace po = boost::program_options;

// A subcommand: parses its own arguments (argv after the command name).
using CommandFn = int (*)(const std::vector<std::string>& args, distributed::Communicator& world);

struct Command {
  const char* name;
  const char* synopsis;  // one line for `midge --help`
  CommandFn run;         // nullptr: not built yet
};

// Parses `args` against `desc` (+ positional), mapping po errors to
// UsageError "midge <command>: ...".
po::variables_map parse_args(const std::string& command, const std::vector<std::string>& args,
                             const po::options_description& desc,
                             const po::positional_options_description* positional = nullptr);

// The option descriptions as help text.
std::string describe(const po::options_description& desc);

// Writes to stdout on rank 0 only.
void print_once(const distributed::Communicator& world, const std::string& text);

// The value of an inference command's --device: auto, cpu or cuda, else a
// UsageError naming the command.
std::string device_option(const std::string& command, const std::string& value);

// The --config/--set/--dry-run group shared by train and sweep.
po::options_description config_options();

}  // namespace midge::apps
