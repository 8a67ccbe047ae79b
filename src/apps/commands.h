// The subcommands of `midge`, one function each (src/apps/<name>_command.cpp).
// Each parses and validates its arguments, calls midge_core, prints results.
#pragma once

#include "apps/command_line.h"

namespace midge::apps {

int run_synth(const std::vector<std::string>& args, distributed::Communicator& world);
int run_pack(const std::vector<std::string>& args, distributed::Communicator& world);
int run_stage(const std::vector<std::string>& args, distributed::Communicator& world);
int run_split(const std::vector<std::string>& args, distributed::Communicator& world);
int run_train(const std::vector<std::string>& args, distributed::Communicator& world);
int run_sweep(const std::vector<std::string>& args, distributed::Communicator& world);
int run_predict(const std::vector<std::string>& args, distributed::Communicator& world);
int run_gradcam(const std::vector<std::string>& args, distributed::Communicator& world);
int run_replay(const std::vector<std::string>& args, distributed::Communicator& world);
int run_collect(const std::vector<std::string>& args, distributed::Communicator& world);
int run_status(const std::vector<std::string>& args, distributed::Communicator& world);
int run_verify(const std::vector<std::string>& args, distributed::Communicator& world);
int run_options(const std::vector<std::string>& args, distributed::Communicator& world);

}  // namespace midge::apps
