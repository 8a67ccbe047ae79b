// run.cuda_graph: the whole training step (forward, loss, backward and the
// optimizer's update) captured once as a CUDA graph and replayed for every
// full batch, so that the GPU runs the step's ~1000 kernels back to back
// instead of waiting for the host to launch each one.
//
// How a stage goes (one StepGraph per stage, i.e. per optimizer):
//   - the first `warmup_steps` full batches run ordinarily on a side stream
//     (cuDNN's algorithm search, cuBLAS workspaces and the optimizer's state
//     come into being there: none of it may happen inside a capture);
//   - the next full batch is captured on that stream from static input
//     buffers into the graph's own memory pool, then replayed;
//   - every later full batch is copied into the static buffers and the graph
//     replayed on the current stream;
//   - the graph is captured again when the optimizer says its captured step
//     is not its step any more (a new learning rate: once per epoch at most);
//   - batches of another shape (the epoch's last partial batch, a batch
//     short of an unreadable image) run ordinarily: the caller does that.
// Replay gives the uncaptured step's results up to floating-point rounding
// (Adam's bias corrections: train/optimizer.h); dropout draws the same masks
// (the graph reads the CUDA generator's seed and offset at each replay).
//
// What keeps a run from being captured at all is decided before the first
// step (cuda_graph_obstacle) and logged; the run then trains uncaptured.
#pragma once

#include <torch/torch.h>

#include <cstdint>
#include <functional>
#include <memory>
#include <string>

namespace midge::train {

// What a step leaves for the caller: the mean loss and the number of
// correctly classified images of the batch (0-dim tensors on the device).
struct StepOutputs {
  torch::Tensor loss;
  torch::Tensor correct;
};

// One training step on (input, labels): zero the gradients, forward, loss,
// backward, optimizer update; no host synchronization inside (no .item()).
using StepFunction = std::function<StepOutputs(const torch::Tensor&, const torch::Tensor&)>;

// Why steps with these settings cannot be captured, or "" when they can:
// not on a GPU (`cuda` false: DeviceChoice::cuda); fp16 (dynamic loss scaling decides on the host
// whether to skip a step); more than one rank (the gradient sync over MPI runs on the host between
// backward and the update; NCCL's buckets start from autograd hooks on a side stream that a
// watchdog thread watches: not made capturable); a midge built with a CPU LibTorch or one older
// than 2.0.
std::string cuda_graph_obstacle(bool cuda, const std::string& amp, int ranks);

// Whether this build can capture at all (a CUDA LibTorch 2.1 or newer).
bool cuda_graphs_built();

// Counts over a StepGraph's life, for the log and the benchmarks.
struct StepGraphCounts {
  std::int64_t warmup = 0;    // ordinary steps on the side stream
  std::int64_t captures = 0;  // captures (each also runs its batch once)
  std::int64_t replays = 0;   // replays after a capture
};

class StepGraph {
 public:
  // `optimizer` must implement GraphStep (make_optimizer's do). Only where
  // cuda_graph_obstacle says "".
  StepGraph(torch::optim::Optimizer& optimizer, StepFunction step, int warmup_steps = 3);
  ~StepGraph();
  StepGraph(const StepGraph&) = delete;
  StepGraph& operator=(const StepGraph&) = delete;

  // One step on a full batch (every call the same shapes; the caller runs
  // other batches itself). The outputs are the graph's static tensors:
  // read them before the next call. Throws TrainError, naming the cause,
  // when a capture fails.
  StepOutputs run(const torch::Tensor& input, const torch::Tensor& labels);

  StepGraphCounts counts() const;

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace midge::train
