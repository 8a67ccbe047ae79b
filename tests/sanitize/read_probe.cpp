// The torch-free readers of midge's result files, on one file each run, for
// the fuzz test under AddressSanitizer/UBSan (sanitize/readers_asan.sh):
// the seal check and `midge verify`'s check, the HDF5 reader on every
// dataset of the file by its kind, read_run_file, collect and the sweep
// journal. LibTorch is not instrumented, so the weights' way into tensors
// is covered by the fuzz test's real readers, not here.
// usage: midge_read_probe FILE   exit 0 read, 2 refused (message on stderr)
#include <filesystem>
#include <iostream>
#include <string>

#include "collect/summary.h"
#include "core/errors.h"
#include "io/hdf5.h"
#include "io/integrity.h"
#include "io/run_file.h"
#include "sweep/journal.h"

namespace {

// Reads every dataset as what its HDF5 type says it is.
void read_every_dataset(const std::string& file) {
  midge::io::H5Reader f(file);
  for (const auto& name : f.datasets()) {
    (void)f.shape(name);
    (void)f.values_crc(name);
    const auto kind = f.kind(name);
    if (kind == midge::io::H5Node::Kind::kStrings) {
      (void)f.read_strings(name);
    } else if (kind == midge::io::H5Node::Kind::kNumbers) {
      // Each read accepts one stored type and refuses the others by name.
      try {
        (void)f.read_floats(name);
      } catch (const midge::Error&) {
        try {
          (void)f.read_doubles(name);
        } catch (const midge::Error&) {
          try {
            (void)f.read_int64s(name);
          } catch (const midge::Error&) {
            (void)f.read_bytes(name);
          }
        }
      }
    }
  }
}

}  // namespace

int main(int argc, char** argv) {
  if (argc != 2) {
    std::cerr << "usage: midge_read_probe FILE\n";
    return 2;
  }
  const std::string file = argv[1];
  const auto check = midge::io::verify_file(file);
  std::cout << "verify: " << static_cast<int>(check.verdict) << " " << check.detail << "\n";
  try {
    const std::string name = std::filesystem::path(file).filename().string();
    if (name == "run.h5") {
      (void)midge::io::read_run_file(file);
      (void)midge::collect::collect_runs({std::filesystem::path(file).parent_path().string()});
    } else if (name == "sweep.h5") {
      (void)midge::sweep::read_journal(file);
    }
    read_every_dataset(file);
  } catch (const midge::Error& e) {
    std::cerr << e.what() << "\n";
    return 2;
  }
  return 0;
}
