// The dispatch of `midge <command>`, compiled twice (CMakeLists.txt):
// midge-torch (MIDGE_WITH_TORCH=1) runs every command; midge-base
// (MIDGE_WITH_TORCH=0) the ones without LibTorch and names the program
// for the others. Users start `midge` (apps/launcher.cpp), which executes
// the one a command needs. Starts the (possibly MPI) runtime and logging,
// finds the subcommand, and lets distributed::run_rank turn failures into
// exit codes (0 ok, 1 run failed, 2 bad usage, 75 stopped and resumable)
// and whole-job aborts.
#include <cstring>
#include <iostream>
#include <string>
#include <vector>

#include "apps/commands.h"
#include "core/cpus.h"
#include "core/errors.h"
#include "core/fault.h"
#include "core/logging.h"
#include "core/versions.h"
#include "data/image_set.h"
#include "distributed/failure.h"
#include "distributed/runtime.h"
#include "io/hdf5_library.h"
#if MIDGE_WITH_TORCH
#include "model/torch_info.h"
#endif

namespace {

using midge::apps::Command;

#if MIDGE_WITH_TORCH
#define MIDGE_TORCH_COMMAND(f) f
#else
// In midge-base: listed in the usage, run by midge-torch.
#define MIDGE_TORCH_COMMAND(f) nullptr
#endif

const Command kCommands[] = {
    {"synth", "write a synthetic taxon image set (for demos and tests)", midge::apps::run_synth},
    {"split", "per-taxon train/val split (every fifth image to validation)",
     midge::apps::run_split},
    {"pack", "pack an image folder into one HDF5 file (data.root accepts it)",
     midge::apps::run_pack},
    {"stage", "copy a pack to node-local disk (one per node; MIDGE_STAGE=1 in slurm/)",
     midge::apps::run_stage},
    {"train", "one two-stage fine-tuning run", MIDGE_TORCH_COMMAND(midge::apps::run_train)},
    {"sweep", "hyperparameter sweep over groups of ranks",
     MIDGE_TORCH_COMMAND(midge::apps::run_sweep)},
    {"replay", "run a finished run again and check it is bitwise the same",
     MIDGE_TORCH_COMMAND(midge::apps::run_replay)},
    {"collect", "per-taxon accuracy summary across runs", midge::apps::run_collect},
    {"gradcam", "Grad-CAM heatmaps for a model and images",
     MIDGE_TORCH_COMMAND(midge::apps::run_gradcam)},
    {"predict", "identify new specimens with a trained model",
     MIDGE_TORCH_COMMAND(midge::apps::run_predict)},
    {"status", "where a sweep or run stands, from its files (exit 0 done, 1 failed, 3 running)",
     midge::apps::run_status},
    {"verify", "check result files against their checksums (ok / corrupt / old format)",
     midge::apps::run_verify},
    {"options", "list every configuration key (--markdown for docs/config.md)",
     midge::apps::run_options},
};

std::string usage() {
  std::string s =
      "midge: batch experiment runner for image-based taxon identification\n\n"
      "usage: midge [--version] [--help] [--log-level LEVEL] <command> [options]\n"
      "       mpirun -n R midge <command> ...   or   srun midge <command> ...\n\n"
      "commands:\n";
  for (const auto& c : kCommands) {
    std::string name = c.name;
    s += "  " + name + std::string(10 - name.size(), ' ') + c.synopsis + "\n";
  }
  s += "\n`midge <command> --help` describes a command's options.\n"
       "Exit codes: 0 success, 1 a run failed, 2 bad usage or configuration or a corrupt\n"
       "input file, "
       "75 stopped by SIGUSR2/SIGTERM and resumable (rerun the same command).\n"
       "--log-level: " +
       std::string(midge::kLogLevels) + " (default info); logs go to stderr.\n";
  return s;
}

std::string version_report() {
#if MIDGE_WITH_TORCH
  const std::string torch = midge::model::torch_library_version();
#else
  const std::string torch = "(in midge-torch: `midge --version`)";
#endif
  return "midge " + midge::midge_version() + "\nLibTorch " + torch + "\nOpenCV " +
         midge::data::opencv_library_version() + "\nHDF5 " + midge::io::hdf5_library_version() +
         "\nMPI " + midge::distributed::mpi_library_version() + "\n";
}

// Takes --log-level out of the arguments wherever it appears.
std::string extract_log_level(std::vector<std::string>* args) {
  std::string level = "info";
  for (std::size_t i = 0; i < args->size();) {
    const std::string& a = (*args)[i];
    if (a == "--log-level" && i + 1 < args->size()) {
      level = (*args)[i + 1];
      args->erase(args->begin() + static_cast<long>(i), args->begin() + static_cast<long>(i) + 2);
    } else if (a.rfind("--log-level=", 0) == 0) {
      level = a.substr(std::strlen("--log-level="));
      args->erase(args->begin() + static_cast<long>(i));
    } else {
      ++i;
    }
  }
  return level;
}

int dispatch(std::vector<std::string> args, midge::distributed::Communicator& world) {
  if (args.empty() || args[0] == "--help" || args[0] == "-h" || args[0] == "help") {
    midge::apps::print_once(world, usage());
    return args.empty() ? midge::kExitUsage : midge::kExitSuccess;
  }
  if (args[0] == "--version") {
    midge::apps::print_once(world, version_report());
    return midge::kExitSuccess;
  }
  for (const auto& c : kCommands) {
    if (args[0] != c.name) continue;
    if (c.run == nullptr) {
      throw midge::UsageError(std::string("midge ") + c.name +
                              ": needs LibTorch, which midge-base does not load: run `midge " +
                              c.name + "` (it starts midge-torch)");
    }
    return c.run(std::vector<std::string>(args.begin() + 1, args.end()), world);
  }
  throw midge::UsageError("unknown command '" + args[0] + "' (see `midge --help`)");
}

}  // namespace

int main(int argc, char** argv) {
  // The commands that train run their OpenMP threads passively
  // (core/cpus.h); others are not worth a second start.
  // (`midge` sets it before starting midge-torch: this is for midge-torch
  // started directly.)
#if MIDGE_WITH_TORCH
  if (argc > 1) {
    const std::string command = argv[1];
    if (command == "train" || command == "sweep" || command == "replay") {
      midge::prefer_passive_openmp(argv);
    }
  }
#endif
  std::vector<std::string> args(argv + 1, argv + argc);
  std::string level = extract_log_level(&args);
  try {
    midge::distributed::Runtime runtime(&argc, &argv);
    auto& world = runtime.world();
    int code = midge::distributed::run_rank(world, [&]() {
      midge::init_logging(world.rank(), world.size(), level);
      midge::fault::set_fault_rank(world.rank());
      return dispatch(args, world);
    });
    runtime.finalize();
    return code;
  } catch (const std::exception& e) {
    // Only MPI start-up can get here (run_rank catches everything else).
    std::cerr << "midge: " << e.what() << "\n";
    return midge::exit_code_of(e);
  }
}
