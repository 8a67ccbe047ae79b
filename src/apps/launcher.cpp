// `midge`: the program users start. It picks the program that runs the
// command and executes it in its place (same process id, arguments and
// environment, so mpirun, srun and Slurm's signals see one process):
//   midge-torch  train, sweep, replay, predict, gradcam, --version: the
//                commands that need LibTorch (every command is in it)
//   midge-base   everything else: synth, split, pack, stage, collect, status, verify, options,
//                --help and usage errors, without LibTorch
// both installed beside this program (found through /proc/self/exe).
//
// Why three programs: loading Debian's LibTorch costs ~0.45 s of CPU at
// every start (its libraries are bound at load time, BIND_NOW, and it
// registers its operators), and midge-base starts in ~0.06 s; this
// launcher links nothing but the C++ runtime, so it adds ~1 ms. The
// commands that train run their OpenMP threads passively (core/cpus.h):
// the launcher sets OMP_WAIT_POLICY=PASSIVE (when unset) before LibTorch's
// OpenMP runtime is loaded, so they start once rather than twice.
#include <unistd.h>

#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <iostream>
#include <string>

namespace {

// The first argument that is not --log-level or its value: the command.
std::string command_of(int argc, char** argv) {
  for (int i = 1; i < argc; ++i) {
    const std::string a = argv[i];
    if (a == "--log-level") {
      ++i;
    } else if (a.rfind("--log-level=", 0) != 0) {
      return a;
    }
  }
  return "";
}

bool needs_torch(const std::string& command) {
  for (const char* c : {"train", "sweep", "replay", "predict", "gradcam", "--version"}) {
    if (command == c) return true;
  }
  return false;
}

// The folder this program was started from, resolved through symbolic links.
std::string own_folder() {
  std::string path(4096, '\0');
  const ssize_t n = ::readlink("/proc/self/exe", path.data(), path.size() - 1);
  if (n <= 0) return ".";
  path.resize(static_cast<std::size_t>(n));
  const std::size_t slash = path.rfind('/');
  return slash == std::string::npos ? "." : path.substr(0, slash);
}

}  // namespace

int main(int argc, char** argv) {
  const std::string command = command_of(argc, argv);
  const bool torch = needs_torch(command);
  const bool trains = command == "train" || command == "sweep" || command == "replay";
  if (trains && std::getenv("OMP_WAIT_POLICY") == nullptr) {
    ::setenv("OMP_WAIT_POLICY", "PASSIVE", 1);
  }
  const std::string program = own_folder() + (torch ? "/midge-torch" : "/midge-base");
  ::execv(program.c_str(), argv);
  const int error = errno;
  std::cerr << "midge: cannot run " << program << ": " << std::strerror(error)
            << " (midge-base and midge-torch belong in the folder of midge)\n";
  return 1;
}
