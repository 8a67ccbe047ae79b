// Where training runs: device choice (run.device, one GPU per node-local
// rank), CPU threads, determinism, batch buffers. Precision (autocast, loss
// scaling) is in train/precision.h.
#pragma once

#include <torch/torch.h>

#include <memory>
#include <string>

#include "core/config.h"
#include "data/loader.h"

namespace midge::train {

struct DeviceChoice {
  torch::Device device{torch::kCPU};
  bool cuda = false;
  int threads = 1;
  std::string describe() const;
};

// run.device auto|cpu|cuda; CUDA device = local_rank % visible GPUs; CPU
// threads = run.threads, or (0) the CPUs this process may run on divided
// by the ranks that share them (`cpu_sharers`, Communicator::cpu_sharers;
// core/cpus.h). Also
// applies run.deterministic and the thread count to LibTorch and, on CPU,
// makes glibc keep freed memory in the heap (no mmap, no trimming) unless
// the environment variable MIDGE_KEEP_MALLOC is set, to any value.
DeviceChoice choose_device(const RunConfig& run, int local_rank, int cpu_sharers);

// The hardware for run.h5's `device`, so a replay can say it ran
// elsewhere: "cpu: <model name from /proc/cpuinfo> (N threads)" or "cuda:K
// (<GPU name>, compute capability X.Y)".
std::string hardware_description(const DeviceChoice& device);

// Batch buffers for the loader: page-locked on CUDA (fast, asynchronous
// host-to-device copies), plain otherwise.
data::Allocator batch_allocator(const DeviceChoice& device);

}  // namespace midge::train
