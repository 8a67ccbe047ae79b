// GPU check (run on a lent CUDA machine by bench/gpu/run.sh): the parts of
// data-parallel training that only a GPU exercises, without MPI, HDF5,
// OpenCV or Boost (the GPU image has none of them).
//
//  1. GradientSync's pinned-host staging on CUDA: each bucket is copied
//     device -> pinned host asynchronously, the reducing thread waits on a
//     CUDA event, the result is copied back. The communicator here stands in
//     for two ranks holding identical gradients (allreduce doubles the data
//     in place; size() = 2), so averaged gradients must equal the local ones
//     bitwise; a missed wait would reduce stale host data and fail. Every
//     step uses a new batch, so stale data differs.
//  2. Step throughput of ResNet-18/50 (bf16, fp16 with loss scaling, fp32;
//     channels-last input as `midge train`) with and without gradient sync,
//     i.e. the cost of staging with overlap on and off.
//  3. Pinned host <-> device copy bandwidth (input of the scaling model).
//
// usage: midge_gpu_check [steps] [amp]   (amp: run only the step
// measurements with that run.amp)
//
// Prints "CHECK <name> PASS|FAIL ..." lines and one JSON line per
// measurement; exit code 1 if a check failed.
#include <torch/torch.h>

#include <chrono>
#include <cstdio>
#include <iostream>
#include <memory>
#include <optional>
#include <string>

#include "../step_bench.h"
#include "model/resnet.h"
#include "train/gradient_sync.h"

namespace {

using midge::distributed::Communicator;

// Two ranks with identical data: the sum is twice the data.
class IdenticalPairComm final : public Communicator {
 public:
  int rank() const override { return 0; }
  int size() const override { return 2; }
  int local_rank() const override { return 0; }
  int local_size() const override { return 1; }
  std::string backend() const override { return "identical-pair"; }
  bool background_thread_ok() const override { return true; }
  bool accepts_device_memory() const override { return false; }
  void barrier() override {}
  std::optional<std::int64_t> reduce_within(std::int64_t value, midge::distributed::ReduceOp op,
                                            double) override {
    return op == midge::distributed::ReduceOp::kSum ? 2 * value : value;
  }
  std::unique_ptr<Communicator> split(int, int) override { return nullptr; }
  [[noreturn]] void abort(int code) override { std::_Exit(code); }

 protected:
  void allreduce_raw(void* data, std::size_t count, midge::distributed::DataType,
                     midge::distributed::ReduceOp) override {
    auto* f = static_cast<float*>(data);
    for (std::size_t i = 0; i < count; ++i) f[i] *= 2.0F;
  }
  void broadcast_raw(void*, std::size_t, midge::distributed::DataType, int) override {}
};

int failures = 0;

void check(const std::string& name, bool ok, const std::string& detail) {
  std::printf("CHECK %s %s %s\n", name.c_str(), ok ? "PASS" : "FAIL", detail.c_str());
  std::fflush(stdout);
  if (!ok) ++failures;
}

void staging_check(double bucket_mb, bool overlap) {
  const torch::Device cuda(torch::kCUDA, 0);
  torch::manual_seed(3);
  midge::model::ResNet net("resnet18", 7, 0.0);
  net->to(cuda);
  net->train();
  IdenticalPairComm pair;
  auto params = net->parameters();
  midge::train::GradientSync sync(pair, params, {bucket_mb, overlap});
  double worst = 0;
  bool all_early = true;
  for (int step = 0; step < 4; ++step) {
    for (auto& p : params) p.mutable_grad() = torch::Tensor();
    torch::Tensor x = torch::randn({8, 3, 96, 96}, cuda).contiguous(at::MemoryFormat::ChannelsLast);
    torch::Tensor y =
        torch::randint(0, 7, {8}, torch::TensorOptions().device(cuda).dtype(torch::kLong));
    torch::nn::functional::cross_entropy(net->forward(x), y).backward();
    std::vector<torch::Tensor> local;
    for (auto& p : params) local.push_back(p.grad().clone());
    sync.finish();
    for (std::size_t k = 0; k < params.size(); ++k) {
      worst = std::max(worst, (params[k].grad() - local[k]).abs().max().item<double>());
    }
    if (overlap && sync.launched_during_backward() != sync.bucket_count()) all_early = false;
  }
  char detail[256];
  std::snprintf(detail, sizeof(detail),
                "bucket_mb=%g overlap=%d buckets=%zu staging=%s max|avg-local|=%g", bucket_mb,
                overlap ? 1 : 0, sync.bucket_count(), sync.staging(), worst);
  check("pinned_staging_exact", worst == 0.0 && std::string(sync.staging()) == "pinned host",
        detail);
  if (overlap) check("buckets_launched_from_hooks", all_early, detail);
}

void copy_bandwidth() {
  const std::int64_t n = 100LL * 1024 * 1024 / 4;
  torch::Tensor d = torch::ones({n}, torch::TensorOptions().device(torch::kCUDA));
  torch::Tensor h = torch::empty({n}, torch::TensorOptions().pinned_memory(true));
  h.copy_(d);
  d.copy_(h);
  (void)d[0].item<float>();
  for (const char* dir : {"d2h", "h2d"}) {
    const auto t0 = std::chrono::steady_clock::now();
    for (int i = 0; i < 10; ++i) {
      if (std::string(dir) == "d2h") {
        h.copy_(d);
      } else {
        d.copy_(h);
      }
    }
    (void)d[0].item<float>();
    const double s =
        std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count() / 10;
    std::printf(
        "{\"case\": \"pinned copy\", \"direction\": \"%s\", \"mib\": 100, \"gbps\": %.2f}\n", dir,
        100.0 * 1024 * 1024 / s / 1e9);
  }
}

}  // namespace

int main(int argc, char** argv) {
  if (!torch::cuda::is_available()) {
    std::cerr << "no CUDA device visible\n";
    return 2;
  }
  const int steps = argc > 1 ? std::stoi(argv[1]) : 10;
  const std::string only_amp = argc > 2 ? argv[2] : "";  // e.g. "fp16": only those step runs
  at::globalContext().setBenchmarkCuDNN(true);           // as midge train on CUDA
  staging_check(25, true);
  staging_check(1, true);
  staging_check(25, false);
  copy_bandwidth();
  midge::distributed::SelfComm self;
  struct Run {
    const char* arch;
    int size;
    int batch;
    const char* amp;
  };
  for (Run run : {Run{"resnet50", 512, 32, "bf16"}, Run{"resnet50", 512, 32, "fp16"},
                  Run{"resnet50", 512, 32, "off"}, Run{"resnet18", 512, 32, "bf16"}}) {
    if (!only_amp.empty() && only_amp != run.amp) continue;
    for (const char* sync : {"off", "on"}) {
      for (bool overlap : {true, false}) {
        if (std::string(sync) == "off" && !overlap) continue;
        midge::bench::StepBenchOptions o;
        o.arch = run.arch;
        o.image_size = run.size;
        o.global_batch = run.batch;
        o.amp = run.amp;
        o.device = "cuda";
        o.sync = sync;
        o.overlap = overlap;
        o.steps = steps;
        o.warmup = 3;
        const auto r = midge::bench::run_step_bench(self, o);
        std::cout << "{\"case\": \"step\", " << r.json(o).substr(1) << std::endl;
        if (std::string(run.amp) == "fp16" && std::string(sync) == "off") {
          check("fp16_loss_scaling_finite", std::isfinite(r.loss),
                "loss=" + std::to_string(r.loss));
        }
      }
    }
  }
  std::printf("%d check(s) failed\n", failures);
  return failures == 0 ? 0 : 1;
}
