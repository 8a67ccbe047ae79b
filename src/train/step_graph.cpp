#include "train/step_graph.h"

#include <torch/version.h>

#include <optional>
#include <utility>

#include "core/errors.h"
#include "core/log.h"
#include "train/optimizer.h"

// Capture needs a CUDA LibTorch (MIDGE_CUDA_GRAPHS, set by CMake) of 2.1 or
// newer: CUDAGraph::capture_begin takes a capture mode from 2.1 on, and the
// thread-local mode is what lets the loader's threads go on during a capture.
#if defined(MIDGE_CUDA_GRAPHS) && \
    (TORCH_VERSION_MAJOR > 2 || (TORCH_VERSION_MAJOR == 2 && TORCH_VERSION_MINOR >= 1))
#define MIDGE_CAN_CAPTURE 1
#include <ATen/cuda/CUDAEvent.h>
#include <ATen/cuda/CUDAGraph.h>
#include <c10/cuda/CUDACachingAllocator.h>
#include <c10/cuda/CUDAGuard.h>
#include <c10/cuda/CUDAStream.h>
#include <cuda_runtime_api.h>
#endif

namespace midge::train {

bool cuda_graphs_built() {
#ifdef MIDGE_CAN_CAPTURE
  return true;
#else
  return false;
#endif
}

std::string cuda_graph_obstacle(bool cuda, const std::string& amp, int ranks) {
  if (!cuda) return "the run is on the CPU (CUDA graphs are a GPU feature)";
  if (amp == "fp16") {
    return "run.amp = fp16: dynamic loss scaling decides on the host, after backward, whether "
           "to skip the step (bf16 needs no loss scaling and can be captured)";
  }
  if (ranks > 1) {
    return "the run has " + std::to_string(ranks) +
           " ranks: the gradient sync is not captured (over MPI it passes through the host "
           "between backward and the update; over NCCL its buckets start from autograd hooks on "
           "a side stream that another thread watches)";
  }
#ifdef MIDGE_CAN_CAPTURE
  return "";
#elif defined(MIDGE_CUDA_GRAPHS)
  return "this midge is built with LibTorch " TORCH_VERSION
         ", whose CUDA graphs cannot be captured while other threads use CUDA (2.1 or newer "
         "needed)";
#else
  return "this midge is built without CUDA graph support (a LibTorch without CUDA)";
#endif
}

struct StepGraph::Impl {
  torch::optim::Optimizer& optimizer;
  GraphStep* hooks;
  StepFunction step;
  int warmup_left;
  StepGraphCounts counts;
  std::string disabled;  // why later steps run uncaptured (a capture was refused)
#ifdef MIDGE_CAN_CAPTURE
  std::optional<at::cuda::CUDAStream> side;
  std::unique_ptr<at::cuda::CUDAGraph> graph;
  torch::Tensor input;  // static input buffers the graph reads
  torch::Tensor labels;
  StepOutputs out;  // static outputs the graph writes

  // f() on the side stream, ordered after the work queued on the current
  // stream, which then waits for it.
  template <class F>
  void on_side(F&& f) {
    const at::cuda::CUDAStream current = at::cuda::getCurrentCUDAStream();
    if (!side) side = at::cuda::getStreamFromPool();
    at::cuda::CUDAEvent ready;
    ready.record(current);
    ready.block(*side);
    {
      c10::cuda::CUDAStreamGuard guard(*side);
      f();
    }
    at::cuda::CUDAEvent done;
    done.record(*side);
    done.block(current);
  }

  void release() {
    if (!graph) return;
    // Queued replays finish before the graph and its memory go.
    at::cuda::getCurrentCUDAStream().synchronize();
    out = StepOutputs{};
    optimizer.zero_grad();  // the gradients live in the graph's memory pool
    graph.reset();
    // A released pool's memory stays reserved until the cache is emptied:
    // without this, every recapture (a learning rate per epoch) would hold
    // one more step's memory.
    c10::cuda::CUDACachingAllocator::emptyCache();
  }

  void capture(const torch::Tensor& x, const torch::Tensor& y) {
    const std::string why = hooks->begin_capture();
    if (!why.empty()) {
      disabled = why;
      return;
    }
    input = x.clone();
    labels = y.clone();
    graph = std::make_unique<at::cuda::CUDAGraph>();
    std::string failure;
    on_side([&] {
      // Thread-local mode: the data loader's threads go on allocating
      // page-locked buffers while this thread captures.
      graph->capture_begin({0, 0}, cudaStreamCaptureModeThreadLocal);
      try {
        out = step(input, labels);
      } catch (const std::exception& e) {
        // Ends the broken capture without CUDAGraph::capture_end (which
        // would throw first): the allocator's routing into the graph's pool
        // is left behind, harmless as the run stops with the error below.
        failure = e.what();
        cudaGraph_t broken = nullptr;
        cudaStreamEndCapture(side->stream(), &broken);
        if (broken != nullptr) cudaGraphDestroy(broken);
        return;
      }
      try {
        graph->capture_end();
      } catch (const std::exception& e) {
        failure = e.what();
      }
    });
    hooks->end_capture();
    if (!failure.empty()) {
      graph.reset();
      throw TrainError(
          "run.cuda_graph: capturing the training step failed (set run.cuda_graph "
          "= false to train without a graph): " +
          failure);
    }
    ++counts.captures;
    graph->replay();  // this batch's step
  }
#endif

  Impl(torch::optim::Optimizer& o, StepFunction s, int warmup)
      : optimizer(o), hooks(graph_step(o)), step(std::move(s)), warmup_left(warmup) {
    if (hooks == nullptr) throw std::logic_error("StepGraph: the optimizer has no GraphStep");
  }

  ~Impl() {
#ifdef MIDGE_CAN_CAPTURE
    try {
      release();
    } catch (const std::exception& e) {
      log::warn(std::string("releasing the CUDA graph: ") + e.what());
    }
#endif
  }

  StepOutputs run(const torch::Tensor& x, const torch::Tensor& y) {
#ifdef MIDGE_CAN_CAPTURE
    if (disabled.empty()) {
      if (warmup_left > 0) {
        --warmup_left;
        ++counts.warmup;
        StepOutputs o;
        on_side([&] { o = step(x, y); });
        return o;
      }
      if (graph && !hooks->before_replay()) release();  // a new learning rate
      if (!graph) {
        capture(x, y);
        if (disabled.empty()) return out;
        log::warn("run.cuda_graph: this stage's steps run uncaptured from here: " + disabled);
      } else {
        input.copy_(x, /*non_blocking=*/true);
        labels.copy_(y, /*non_blocking=*/true);
        graph->replay();
        ++counts.replays;
        return out;
      }
    }
#endif
    return step(x, y);
  }
};

StepGraph::StepGraph(torch::optim::Optimizer& optimizer, StepFunction step, int warmup_steps)
    : impl_(std::make_unique<Impl>(optimizer, std::move(step), warmup_steps)) {}

StepGraph::~StepGraph() = default;

StepOutputs StepGraph::run(const torch::Tensor& input, const torch::Tensor& labels) {
  return impl_->run(input, labels);
}

StepGraphCounts StepGraph::counts() const { return impl_->counts; }

}  // namespace midge::train
