// One data-parallel training step, timed: the loop of `midge train`
// (autocast forward, cross-entropy, backward, GradientSync::finish, SGD
// step) on a fixed random global batch, of which each rank takes its
// contiguous share. Without the data loader, so that the figures are the
// step and its communication only. Shared by bench/dist_bench.cpp (CPU,
// MPI ranks) and bench/gpu/gpu_check.cpp (one GPU, no MPI).
#pragma once

#include <torch/torch.h>

#include <memory>
#include <string>
#include <vector>

#include "distributed/communicator.h"
#include "model/resnet.h"
#include "train/step_graph.h"

namespace midge::distributed {
class NcclComm;
}

namespace midge::bench {

struct StepBenchOptions {
  std::string arch = "resnet50";
  int image_size = 224;
  int global_batch = 8;  // split evenly over the ranks
  int classes = 10;
  int warmup = 2;
  int steps = 6;
  std::string device = "cpu";  // cpu | cuda (cuda: channels-last input, as midge train)
  std::string amp = "off";     // off | bf16 | fp16
  // Gradient sync: "auto" = with more than one rank (as midge train),
  // "on" = always (one rank: the staging path with nothing to add), "off".
  std::string sync = "auto";
  double bucket_mb = 25;
  bool overlap = true;
  distributed::NcclComm* nccl = nullptr;  // sync through NCCL (GPU) instead of `world`
  // SGD (lr 1e-4, momentum 0.9) as midge train runs it ("midge": multi-tensor
  // steps, train/optimizer.h) or LibTorch's per-parameter torch::optim::SGD
  // ("libtorch"), the baseline of that change.
  std::string optimizer = "midge";
  // run.cuda_graph: the step captured once and replayed (train/step_graph.h;
  // one rank, sync off, not fp16). Its warm-up and capture happen within
  // the untimed steps (at least 5 then).
  bool cuda_graph = false;
};

struct StepBenchResult {
  int ranks = 1;
  double step_seconds = 0;     // mean wall time per timed step (rank 0)
  double exposed_seconds = 0;  // mean time per step in GradientSync::finish
  double comm_seconds = 0;     // mean time per step inside allreduce (hidden or not)
  double images_per_second = 0;
  std::size_t buckets = 0;
  std::size_t launched_during_backward = 0;
  std::string staging = "none";
  std::int64_t graph_replays = 0;  // timed and untimed steps replayed from the graph
  double loss = 0;                 // last step's mean loss over ranks (sanity)
  // One JSON object on one line.
  std::string json(const StepBenchOptions& o) const;
};

// The benchmarks' SGD (lr 1e-4, momentum 0.9): "midge" = midge train's
// multi-tensor optimizer (train/optimizer.h), "libtorch" = LibTorch's
// per-parameter torch::optim::SGD.
std::unique_ptr<torch::optim::Optimizer> bench_sgd(const std::string& which,
                                                   std::vector<torch::Tensor> params);

// midge train's step as Trainer::make_step_graph captures it, for the
// benchmarks and the GPU check: zero the gradients, forward under `amp`'s
// autocast, cross-entropy, backward, optimizer step (one rank, no loss
// scaling).
train::StepFunction captured_step(model::ResNet net, torch::optim::Optimizer& opt,
                                  std::vector<torch::Tensor> params, const std::string& amp);

// Collective: every rank of `world` calls it with the same options.
StepBenchResult run_step_bench(distributed::Communicator& world, const StepBenchOptions& options);

}  // namespace midge::bench
