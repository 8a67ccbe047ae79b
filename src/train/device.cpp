#include "train/device.h"

#include <torch/version.h>

#include <dlfcn.h>
#include <malloc.h>

#include <cstdlib>
#include <fstream>
#include <limits>
#include <thread>

#include "core/cpus.h"
#include "core/errors.h"
#include "core/text.h"
#include "train/precision.h"

namespace midge::train {

namespace {

// The GPU's name from the CUDA driver LibTorch already loaded (no CUDA
// headers, so CPU builds compile this too); empty when it is not there.
std::string gpu_name(int ordinal) {
  void* driver = ::dlopen("libcuda.so.1", RTLD_LAZY | RTLD_NOLOAD);
  if (driver == nullptr) return "";
  using DeviceGet = int (*)(int*, int);
  using DeviceGetName = int (*)(char*, int, int);
  const auto get = reinterpret_cast<DeviceGet>(::dlsym(driver, "cuDeviceGet"));
  const auto get_name = reinterpret_cast<DeviceGetName>(::dlsym(driver, "cuDeviceGetName"));
  char name[256] = {0};
  int handle = 0;
  const bool ok = get != nullptr && get_name != nullptr && get(&handle, ordinal) == 0 &&
                  get_name(name, sizeof(name) - 1, handle) == 0;
  ::dlclose(driver);
  return ok ? std::string(name) : std::string();
}

}  // namespace

std::string hardware_description(const DeviceChoice& device) {
  if (device.cuda) {
    const int index = static_cast<int>(device.device.index());
    std::string what;
    gpu_has_native_bf16(index, &what);
    const std::string name = gpu_name(index);
    return device.describe() + " (" + (name.empty() ? "" : name + ", ") + what + ")";
  }
  std::ifstream in("/proc/cpuinfo");
  std::string line;
  std::string model = "unknown CPU";
  while (std::getline(in, line)) {
    if (line.rfind("model name", 0) != 0) continue;
    const auto colon = line.find(':');
    if (colon != std::string::npos) model = text::trim(line.substr(colon + 1));
    break;
  }
  return "cpu: " + model + " (" + std::to_string(device.threads) + " threads)";
}

std::string DeviceChoice::describe() const {
  return cuda ? "cuda:" + std::to_string(device.index())
              : "cpu (" + std::to_string(threads) + " threads)";
}

namespace {

// Debian's LibTorch multiplies matrices through the system BLAS. OpenBLAS
// (pthreads build) starts a thread per CPU it may run on, regardless of
// torch::set_num_threads, which oversubscribes a node running several
// ranks and, worse, makes results depend on the CPU binding the launcher
// chose: mpiexec binds each rank to one core for -n 2 but not for -n 4 on
// two cores, and 1 and 2 BLAS threads round differently. So the BLAS gets
// the rank's thread count too. Looked up at run time: other BLAS builds
// (MKL with OpenMP in PyPI's LibTorch) follow torch's setting already.
void match_blas_threads(int threads) {
  using SetThreads = void (*)(int);
  void* f = ::dlsym(RTLD_DEFAULT, "openblas_set_num_threads");
  if (f != nullptr) reinterpret_cast<SetThreads>(f)(threads);
}

}  // namespace

DeviceChoice choose_device(const RunConfig& run, int local_rank, int cpu_sharers) {
  DeviceChoice d;
  const bool have_cuda = torch::cuda::is_available();
  if (run.device == "cuda" && !have_cuda) {
    throw UsageError(
        "run.device = cuda, but no CUDA device is visible (or this LibTorch has no "
        "CUDA); use run.device = auto or cpu");
  }
  d.cuda = run.device == "cuda" || (run.device == "auto" && have_cuda);
  if (d.cuda) {
    const int n = static_cast<int>(torch::cuda::device_count());
    d.device = torch::Device(torch::kCUDA, static_cast<c10::DeviceIndex>(local_rank % n));
  }
  d.threads =
      run.threads > 0 ? static_cast<int>(run.threads) : default_threads(usable_cpus(), cpu_sharers);
  torch::set_num_threads(d.threads);
  match_blas_threads(d.threads);
  if (!d.cuda && std::getenv("MIDGE_KEEP_MALLOC") == nullptr) {
    // CPU training allocates and frees activation buffers of hundreds of MB
    // every step. glibc serves those with mmap and returns them with munmap,
    // so every step page-faults its whole working set in again (at 512 px
    // this took 40% of the time). Keeping freed memory in the heap instead
    // makes ResNet-50 training ~1.8x faster at the cost of holding the peak
    // working set. MIDGE_KEEP_MALLOC set to any value (even 0 or empty)
    // leaves glibc's defaults alone; on CUDA they are never changed.
    mallopt(M_MMAP_MAX, 0);
    mallopt(M_TRIM_THRESHOLD, std::numeric_limits<int>::max());
  }
  if (run.deterministic) {
    at::globalContext().setDeterministicAlgorithms(true, false);
    if (d.cuda) at::globalContext().setBenchmarkCuDNN(false);
  } else if (d.cuda) {
    at::globalContext().setBenchmarkCuDNN(true);
  }
  return d;
}

data::Allocator batch_allocator(const DeviceChoice& device) {
  if (!device.cuda) return data::default_allocator();
  return [](std::size_t count) {
    torch::Tensor t = torch::empty({static_cast<std::int64_t>(count)},
                                   torch::TensorOptions().dtype(torch::kFloat).pinned_memory(true));
    return std::shared_ptr<float>(t.data_ptr<float>(), [t](float*) mutable { t.reset(); });
  };
}

}  // namespace midge::train
