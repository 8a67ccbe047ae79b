#include <chrono>
#include <thread>

#include "apps/commands.h"
#include "core/errors.h"
#include "sweep/status.h"

namespace midge::apps {

int run_status(const std::vector<std::string>& args, distributed::Communicator& world) {
  po::options_description desc(
      "midge status OUT [--watch SECONDS]\n\n"
      "Where a sweep (OUT/sweep.h5) or a run (OUT/run.h5) stands, read from its files\n"
      "only, never from the scheduler: trials by state, each running trial's stage,\n"
      "epoch and last validation accuracy, failed trials and why, the best so far,\n"
      "and the time left. Exit 0 when everything finished and nothing failed, 1 when\n"
      "something failed, 3 while something is still to run (pending, running, paused,\n"
      "interrupted), 2 when OUT holds neither file.\n\n"
      "Options");
  desc.add_options()("help,h", "show this help")("out", po::value<std::string>(),
                                                 "sweep or run folder")(
      "watch", po::value<double>()->default_value(0),
      "print again every SECONDS until nothing is left to run (0: once)");
  po::positional_options_description positional;
  positional.add("out", 1);
  auto vm = parse_args("status", args, desc, &positional);
  if (vm.count("help") != 0U) {
    print_once(world, describe(desc));
    return kExitSuccess;
  }
  if (vm.count("out") == 0U) throw UsageError("midge status: name a sweep or run folder");
  const double watch = vm["watch"].as<double>();
  if (watch < 0) throw UsageError("midge status: --watch must be 0 or more seconds");
  const std::string out = vm["out"].as<std::string>();
  while (true) {
    const sweep::StatusReport r = sweep::read_status(out);
    print_once(world, sweep::status_text(r));
    const int code = sweep::status_exit_code(r);
    // --watch refreshes at the user's pace; it ends once the answer is final.
    if (watch <= 0 || code != 3) return code;
    std::this_thread::sleep_for(std::chrono::duration<double>(watch));
  }
}

}  // namespace midge::apps
