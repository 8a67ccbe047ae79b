#include <filesystem>

#include "apps/commands.h"
#include "core/errors.h"
#include "core/stop_request.h"
#include "sweep/replay.h"

namespace midge::apps {

int run_replay(const std::vector<std::string>& args, distributed::Communicator& world) {
  po::options_description desc(
      "midge replay RUN_DIR --out NEW [--force]\n\n"
      "Runs the run in RUN_DIR again, exactly as its run.h5 records it (configuration,\n"
      "split), into NEW, after checking every image against the SHA-256 recorded at\n"
      "training time (a changed or missing image is named, and nothing is trained without\n"
      "--force). Then compares NEW's run.h5 and model.h5 with RUN_DIR's value for value\n"
      "(metrics, history without timings, probabilities, Grad-CAM, weights) and reports\n"
      "whether they are bitwise equal or what differs and why (library versions, hardware,\n"
      "precision, ranks, run.deterministic, images). The report is also NEW/replay.txt.\n"
      "Start it with as many ranks as the run had (run.h5 attribute world_size), from the\n"
      "folder it was started in when its paths are relative.\n"
      "Exit code 0: bitwise equal; 1: not equal or not replayed.\n\n"
      "Options");
  desc.add_options()("help,h", "show this help")("run", po::value<std::string>(),
                                                 "folder of the run (with run.h5, model.h5)")(
      "out", po::value<std::string>(), "new output folder")(
      "force", po::bool_switch()->default_value(false), "replay even when images changed");
  po::positional_options_description pos;
  pos.add("run", 1);
  auto vm = parse_args("replay", args, desc, &pos);
  if (vm.count("help") != 0U) {
    print_once(world, describe(desc));
    return kExitSuccess;
  }
  if (vm.count("run") == 0U) throw UsageError("midge replay: give the run's folder");
  if (vm.count("out") == 0U) throw UsageError("midge replay: --out NEW is required");
  sweep::ReplayOptions o;
  o.force = vm["force"].as<bool>();
  install_stop_handlers();
  const sweep::ReplayReport r =
      sweep::replay_run(vm["run"].as<std::string>(), vm["out"].as<std::string>(), world, o);
  print_once(world, "\n" + r.text);
  return r.trained && r.equal ? kExitSuccess : kExitRunFailed;
}

}  // namespace midge::apps
