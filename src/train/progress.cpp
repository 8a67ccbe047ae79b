#include "train/progress.h"

#include <sys/resource.h>

#include <cstdio>
#include <fstream>
#include <string>

#include "core/text.h"

#ifdef MIDGE_CUDA_MEMORY_STATS
#include <c10/cuda/CUDACachingAllocator.h>
#include <torch/torch.h>
#endif

namespace midge::train {

std::string bytes_text(std::int64_t bytes) {
  const double gb = static_cast<double>(bytes) / 1e9;
  if (gb >= 1) return text::format("%.2f GB", gb);
  return text::format("%.0f MB", static_cast<double>(bytes) / 1e6);
}

namespace {

// VmHWM of /proc/self/status in bytes, or -1.
std::int64_t resident_high_water_mark() {
  std::ifstream status("/proc/self/status");
  std::string line;
  while (std::getline(status, line)) {
    if (line.rfind("VmHWM:", 0) == 0) return std::stoll(line.substr(6)) * 1024;
  }
  return -1;
}

}  // namespace

void reset_peak_memory(const DeviceChoice& device) {
  // "5" resets the resident high-water mark (Linux 4.0 and later); where
  // that fails the peak stays the process's.
  std::ofstream("/proc/self/clear_refs") << "5";
#ifdef MIDGE_CUDA_MEMORY_STATS
  if (device.cuda) {
    // LibTorch starts CUDA and its caching allocator lazily, at the first
    // tensor on the device; before that the allocator refuses every call
    // ("Invalid device argument"), and a run resets its peaks before it has
    // made a tensor. One small tensor starts it.
    (void)torch::empty({1}, torch::TensorOptions().device(device.device));
    c10::cuda::CUDACachingAllocator::resetPeakStats(device.device.index());
  }
#else
  (void)device;
#endif
}

PeakMemory peak_memory(const DeviceChoice& device, distributed::Communicator& world) {
  std::int64_t v[2] = {0, 0};
  v[0] = resident_high_water_mark();
  rusage usage{};
  if (v[0] < 0 && getrusage(RUSAGE_SELF, &usage) == 0) {
    v[0] = static_cast<std::int64_t>(usage.ru_maxrss) * 1024;
  }
#ifdef MIDGE_CUDA_MEMORY_STATS
  if (device.cuda) {
    // allocated_bytes[0] is StatType::AGGREGATE (all pools) in LibTorch 1.13 and 2.x.
    const auto stats = c10::cuda::CUDACachingAllocator::getDeviceStats(device.device.index());
    v[1] = stats.allocated_bytes[0].peak;
  }
#else
  (void)device;
#endif
  world.allreduce(v, 2, distributed::ReduceOp::kMax);
  return {v[0], v[1]};
}

std::string epoch_line(const EpochReport& r) {
  std::string memory = "peak " + bytes_text(r.peak.host_rss);
  if (r.peak.device_allocated > 0)
    memory += " host, " + bytes_text(r.peak.device_allocated) + " GPU";
  return text::format(
      "stage %d epoch %lld/%lld  train loss %.4f acc %.3f | val loss %.4f acc %.3f | lr %.3g | "
      "%.0f img/s, data wait %.0f%% | %s | %s | ETA %s",
      r.stage, static_cast<long long>(r.epoch), static_cast<long long>(r.epochs), r.train_loss,
      r.train_acc, r.val_loss, r.val_acc, r.lr, r.images_per_second,
      r.train_seconds > 0 ? 100.0 * r.data_wait_seconds / r.train_seconds : 0.0, memory.c_str(),
      duration_text(r.seconds).c_str(), duration_text(r.eta_seconds).c_str());
}

}  // namespace midge::train
