// The optimizer of a stage ([stageN] optimizer, lr, momentum,
// weight_decay), its learning rate, and its state as bytes for state.h5.
//
// sgd: SGD with momentum; weight_decay is L2 (added to the gradient).
// adam: Adam with betas (momentum, 0.999); weight_decay is L2 as well.
// adamw: AdamW, same betas; weight_decay is decoupled (parameters shrink by
// lr * weight_decay each step, apart from the gradient).
//
// Each step runs as multi-tensor updates (ATen's _foreach_* ops: on CUDA a
// few fused kernels for all parameters instead of several small kernels per
// parameter), computing exactly what torch::optim's SGD/Adam/AdamW compute:
// on the CPU the results are bitwise those of LibTorch's own step
// (tests/unit/train/test_optimizer.cpp). The optimizers are LibTorch's
// classes with step() replaced, so their state and its serialization
// (state.h5) are LibTorch's.
//
// They can also be captured in a CUDA graph of the whole training step
// (run.cuda_graph, train/step_graph.h) through GraphStep below.
#pragma once

#include <torch/torch.h>

#include <cstdint>
#include <memory>
#include <sstream>
#include <string>
#include <type_traits>
#include <vector>

#include "core/config.h"

namespace midge::train {

// What a CUDA graph of the training step needs of its optimizer. A captured
// step() bakes its host numbers into the graph's kernels: the learning rate
// (changes at most once per epoch: the graph is captured again) and, for
// Adam/AdamW, the bias corrections 1 - beta^t, which change every step. So
// a step captured between begin_capture() and end_capture() takes t from a
// step count kept in device memory (one per parameter group, advanced by
// the graph itself) and computes the bias corrections there; its
// parameters come out as LibTorch's step computes them up to rounding (a
// division and a product where LibTorch fuses them in addcdiv). SGD
// captures its ordinary step. The host-side state (step counts saved in
// state.h5) is advanced by the capture and by before_replay(), so that a
// checkpoint taken between replays is the same as without a graph.
//
// Sequence (train/step_graph.cpp): begin_capture(), the captured step(),
// end_capture(), the first replay; before_replay() before every later one.
// Steps outside the graph (warm-up, the last partial batch) may come in
// between: they advance the host counts, and before_replay() brings the
// device count up to them.
class GraphStep {
 public:
  virtual ~GraphStep() = default;
  // Empty when the next step() can be captured, else why not (a parameter
  // without state: no step has been taken outside the graph yet; parameters
  // of one group at different Adam step counts). Runs outside the capture:
  // it may launch kernels.
  virtual std::string begin_capture() = 0;
  virtual void end_capture() = 0;
  // True when the captured step still is this optimizer's step (the same
  // learning rates, the captured parameters at one step count per group);
  // the step counts are then advanced for the replay. False: capture anew.
  virtual bool before_replay() = 0;
};

// The key of a parameter in Optimizer::state(): a string in LibTorch 1.x,
// the TensorImpl pointer in 2.x. Using LibTorch's own keys keeps the state
// where its serialization (state.h5) and a plain torch::optim step expect it.
template <class Map>
typename Map::key_type state_key(const Map& /*state*/, const torch::Tensor& p) {
  using Key = typename Map::key_type;
  if constexpr (std::is_same_v<Key, std::string>) {
    std::ostringstream s;
    s << p.unsafeGetTensorImpl();
    return s.str();
  } else {
    return static_cast<Key>(p.unsafeGetTensorImpl());
  }
}

// make_optimizer's optimizers all implement GraphStep; null for others.
GraphStep* graph_step(torch::optim::Optimizer& optimizer);

std::unique_ptr<torch::optim::Optimizer> make_optimizer(const StageConfig& stage,
                                                        std::vector<torch::Tensor> params);

// Sets the learning rate of every parameter group (the schedules of
// train/schedule.h decide it per epoch).
void set_lr(torch::optim::Optimizer& optimizer, double lr);

// LibTorch's own serialization of the optimizer state (momentum buffers,
// Adam moments, step counts), as bytes.
std::vector<std::uint8_t> serialize_optimizer(torch::optim::Optimizer& optimizer);
void deserialize_optimizer(torch::optim::Optimizer& optimizer,
                           const std::vector<std::uint8_t>& bytes);

}  // namespace midge::train
