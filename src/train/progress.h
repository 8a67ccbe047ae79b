// What a run reports as it goes: the per-epoch progress line (losses,
// accuracies, learning rate, throughput, peak memory, time, ETA) and the
// measurements behind it.
//
// Peak memory is the high-water mark since the run started (reset_peak_memory
// at its start, so each trial of a sweep reports its own): resident host
// memory (VmHWM of /proc/self/status, which /proc/self/clear_refs resets;
// getrusage's process-long ru_maxrss where /proc is missing) and, on CUDA,
// LibTorch's peak of allocated device memory. It is reported as the maximum over ranks (a
// collective), in every progress line and in run.h5 (root attributes
// peak_rss_bytes, peak_cuda_bytes), so a run's memory need can be read off
// before scaling it up.
#pragma once

#include <cstdint>
#include <string>

#include "core/clock.h"
#include "distributed/communicator.h"
#include "train/device.h"

namespace midge::train {

// "812 MB", "7.10 GB".
std::string bytes_text(std::int64_t bytes);

struct PeakMemory {
  std::int64_t host_rss = 0;          // bytes
  std::int64_t device_allocated = 0;  // bytes; 0 on CPU or a LibTorch without CUDA
};

// Starts the high-water marks again from what the process holds now.
void reset_peak_memory(const DeviceChoice& device);

// Maximum over ranks of each figure; every rank must call it.
PeakMemory peak_memory(const DeviceChoice& device, distributed::Communicator& world);

// Time left: a running mean of epoch durations (weights 0.7 old, 0.3 new,
// so the first, slower epoch fades) times the epochs still to run.
class EtaEstimate {
 public:
  void add_epoch(double seconds) { mean_ = mean_ == 0 ? seconds : 0.7 * mean_ + 0.3 * seconds; }
  double seconds_left(std::int64_t epochs_left) const {
    return mean_ * static_cast<double>(epochs_left);
  }

 private:
  double mean_ = 0;
};

struct EpochReport {
  int stage = 1;
  std::int64_t epoch = 0;  // 1-based
  std::int64_t epochs = 0;
  double train_loss = 0;
  double train_acc = 0;
  double val_loss = 0;
  double val_acc = 0;
  double lr = 0;
  double images_per_second = 0;
  double data_wait_seconds = 0;  // training loop blocked on the loader
  double train_seconds = 0;      // the training loop (data_wait's share of it)
  double seconds = 0;
  double eta_seconds = 0;
  PeakMemory peak;
};

std::string epoch_line(const EpochReport& report);

}  // namespace midge::train
