#include <algorithm>
#include <filesystem>
#include <string>
#include <vector>

#include "apps/commands.h"
#include "core/errors.h"
#include "io/integrity.h"

namespace midge::apps {

namespace fs = std::filesystem;

namespace {

// The HDF5 files under `path` (itself, if it is a file), in name order so
// two runs of verify print the same lines.
std::vector<fs::path> files_under(const fs::path& path) {
  std::error_code ec;
  const auto status = fs::status(path, ec);
  if (ec || !fs::exists(status)) throw UsageError("midge verify: " + path.string() + " not found");
  if (!fs::is_directory(status)) return {path};
  std::vector<fs::path> found;
  for (fs::recursive_directory_iterator it(path, ec), end; !ec && it != end; it.increment(ec)) {
    if (it->is_regular_file() && it->path().extension() == ".h5") found.push_back(it->path());
  }
  if (ec) throw IoError("cannot list " + path.string() + ": " + ec.message());
  std::sort(found.begin(), found.end());
  return found;
}

}  // namespace

int run_verify(const std::vector<std::string>& args, distributed::Communicator& world) {
  po::options_description desc(
      "midge verify PATH...\n\n"
      "Checks every HDF5 file midge wrote: each PATH is a file or a folder (a run, a\n"
      "sweep folder, results/), searched for *.h5. One line per file:\n"
      "  ok       the file is byte for byte what midge wrote (its SHA-256 seal matches)\n"
      "  corrupt  which dataset changed, or truncated / not an HDF5 file / seal damaged\n"
      "  old      written by an older midge, without checksums: cannot be checked\n"
      "Exit 0 only when every file is ok; 1 otherwise; 2 when a PATH does not exist.\n\n"
      "Options");
  desc.add_options()("help,h", "show this help")(
      "paths", po::value<std::vector<std::string>>()->multitoken(), "files or folders");
  po::positional_options_description positional;
  positional.add("paths", -1);
  auto vm = parse_args("verify", args, desc, &positional);
  if (vm.count("help") != 0U) {
    print_once(world, describe(desc));
    return kExitSuccess;
  }
  if (vm.count("paths") == 0U) throw UsageError("midge verify: name at least one file or folder");
  std::vector<fs::path> files;
  for (const auto& p : vm["paths"].as<std::vector<std::string>>()) {
    const auto under = files_under(p);
    files.insert(files.end(), under.begin(), under.end());
  }
  int ok = 0;
  int old = 0;
  int bad = 0;
  for (const auto& file : files) {
    const auto check = io::verify_file(file);
    std::string line;
    switch (check.verdict) {
      case io::FileCheck::Verdict::kOk:
        ++ok;
        line = "ok       " + check.path + " (" + check.detail + ")";
        break;
      case io::FileCheck::Verdict::kLegacy:
        ++old;
        line = "old      " + check.path + ": " + check.detail;
        break;
      case io::FileCheck::Verdict::kCorrupt: {
        ++bad;
        // The reader's message without what the line already says: the
        // path, and that the file is not used.
        std::string what = check.detail;
        const std::string named = check.path + " is corrupt: ";
        if (what.rfind(named, 0) == 0) what.erase(0, named.size());
        const auto advice = what.find("; it is not used");
        if (advice != std::string::npos) what.resize(advice);
        line = "corrupt  " + check.path + ": " + what;
        break;
      }
    }
    print_once(world, line + "\n");
  }
  print_once(world, "verify: " + std::to_string(files.size()) + " file(s): " + std::to_string(ok) +
                        " ok, " + std::to_string(bad) + " corrupt, " + std::to_string(old) +
                        " old format\n");
  return (bad == 0 && old == 0 && !files.empty()) ? kExitSuccess : kExitRunFailed;
}

}  // namespace midge::apps
