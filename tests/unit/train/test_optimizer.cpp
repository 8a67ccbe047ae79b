// make_optimizer's multi-tensor steps against LibTorch's own SGD, Adam and
// AdamW on the CPU: bitwise the same parameters after several steps (with
// weight decay, momentum, a parameter that skips a step), and a state that
// LibTorch's optimizer can load and continue from, and the other way round.
// Their step captured for a CUDA graph (GraphStep): on the CPU "capturing"
// runs the kernels at once, so the captured math (Adam's bias corrections
// from a step count in device memory) is compared with the ordinary step
// here; replays are checked on a GPU (bench/gpu/gpu_check.cpp).
#include <gtest/gtest.h>
#include <torch/torch.h>

#include <memory>
#include <string>
#include <vector>

#include "core/config.h"
#include "train/optimizer.h"

namespace midge::train {
namespace {

std::vector<torch::Tensor> make_params(std::uint64_t seed) {
  torch::manual_seed(seed);
  std::vector<torch::Tensor> ps = {torch::randn({16, 8, 3, 3}), torch::randn({16}),
                                   torch::randn({10, 16}), torch::randn({10})};
  for (auto& p : ps) p.set_requires_grad(true);
  return ps;
}

std::vector<torch::Tensor> copies(const std::vector<torch::Tensor>& ps) {
  std::vector<torch::Tensor> out;
  for (const auto& p : ps) out.push_back(p.detach().clone().set_requires_grad(true));
  return out;
}

std::unique_ptr<torch::optim::Optimizer> libtorch_optimizer(const StageConfig& s,
                                                            std::vector<torch::Tensor> ps) {
  if (s.optimizer == "sgd") {
    return std::make_unique<torch::optim::SGD>(
        ps, torch::optim::SGDOptions(s.lr).momentum(s.momentum).weight_decay(s.weight_decay));
  }
  if (s.optimizer == "adamw") {
    return std::make_unique<torch::optim::AdamW>(
        ps,
        torch::optim::AdamWOptions(s.lr).betas({s.momentum, 0.999}).weight_decay(s.weight_decay));
  }
  return std::make_unique<torch::optim::Adam>(
      ps, torch::optim::AdamOptions(s.lr).betas({s.momentum, 0.999}).weight_decay(s.weight_decay));
}

// Same random gradients into both parameter sets; parameter 1 gets none on
// step 2 (a frozen or unused parameter: skipped, its state not advanced).
void set_grads(std::vector<torch::Tensor>& a, std::vector<torch::Tensor>& b, int step) {
  torch::manual_seed(100 + step);
  for (std::size_t i = 0; i < a.size(); ++i) {
    if (i == 1 && step == 2) {
      a[i].mutable_grad() = torch::Tensor();
      b[i].mutable_grad() = torch::Tensor();
      continue;
    }
    torch::Tensor g = torch::randn(a[i].sizes());
    a[i].mutable_grad() = g.clone();
    b[i].mutable_grad() = g.clone();
  }
}

void expect_same(const std::vector<torch::Tensor>& a, const std::vector<torch::Tensor>& b,
                 const std::string& what) {
  for (std::size_t i = 0; i < a.size(); ++i) {
    EXPECT_TRUE(torch::equal(a[i], b[i])) << what << ": parameter " << i << " differs by "
                                          << (a[i] - b[i]).abs().max().item<double>();
  }
}

StageConfig stage(const std::string& optimizer, double momentum, double weight_decay) {
  StageConfig s;
  s.optimizer = optimizer;
  s.lr = 0.01;
  s.momentum = momentum;
  s.weight_decay = weight_decay;
  return s;
}

class MultiTensorOptimizer : public ::testing::TestWithParam<StageConfig> {};

TEST_P(MultiTensorOptimizer, StepsBitwiseAsLibTorchAndSharesItsState) {
  const StageConfig s = GetParam();
  std::vector<torch::Tensor> ours = make_params(7);
  std::vector<torch::Tensor> theirs = copies(ours);
  auto opt = make_optimizer(s, ours);
  auto ref = libtorch_optimizer(s, theirs);
  for (int step = 0; step < 5; ++step) {
    set_grads(ours, theirs, step);
    opt->step();
    ref->step();
    expect_same(ours, theirs, s.optimizer + " step " + std::to_string(step));
  }
  // A checkpoint of ours resumes in LibTorch's optimizer and the other way
  // round: the state is LibTorch's, under LibTorch's keys.
  std::vector<torch::Tensor> ours2 = copies(ours);
  std::vector<torch::Tensor> theirs2 = copies(theirs);
  auto ref_from_ours = libtorch_optimizer(s, theirs2);
  deserialize_optimizer(*ref_from_ours, serialize_optimizer(*opt));
  auto ours_from_ref = make_optimizer(s, ours2);
  deserialize_optimizer(*ours_from_ref, serialize_optimizer(*ref));
  for (int step = 5; step < 8; ++step) {
    set_grads(ours, theirs, step);
    set_grads(ours2, theirs2, step);
    opt->step();
    ref_from_ours->step();
    ours_from_ref->step();
    ref->step();
  }
  expect_same(ours, theirs, s.optimizer + " after resuming");
  expect_same(ours, theirs2, s.optimizer + " LibTorch resumed from ours");
  expect_same(ours2, theirs, s.optimizer + " ours resumed from LibTorch");
}

// Gradients on every parameter (no skipped step), the same into all sets.
void set_all_grads(std::vector<std::vector<torch::Tensor>*> sets, int step) {
  torch::manual_seed(200 + step);
  for (std::size_t i = 0; i < sets.front()->size(); ++i) {
    torch::Tensor g = torch::randn((*sets.front())[i].sizes());
    for (auto* set : sets) (*set)[i].mutable_grad() = g.clone();
  }
}

TEST_P(MultiTensorOptimizer, CapturedStepComputesTheOrdinaryStep) {
  const StageConfig s = GetParam();
  std::vector<torch::Tensor> ours = make_params(11);
  std::vector<torch::Tensor> theirs = copies(ours);
  auto opt = make_optimizer(s, ours);
  auto ref = make_optimizer(s, theirs);
  GraphStep* graph = graph_step(*opt);
  ASSERT_NE(graph, nullptr);
  const std::string before_any_step = graph->begin_capture();
  if (s.optimizer == "sgd" && s.momentum == 0) {
    EXPECT_EQ(before_any_step, "");  // no state to start outside the graph
    graph->end_capture();
  } else {
    EXPECT_NE(before_any_step.find("no step taken outside the graph"), std::string::npos)
        << before_any_step;
  }
  for (int step = 0; step < 3; ++step) {
    set_all_grads({&ours, &theirs}, step);
    opt->step();
    ref->step();
  }
  ASSERT_EQ(graph->begin_capture(), "");
  set_all_grads({&ours, &theirs}, 3);
  opt->step();  // the captured step, run at once on the CPU
  graph->end_capture();
  ref->step();
  for (std::size_t i = 0; i < ours.size(); ++i) {
    if (s.optimizer == "sgd") {
      EXPECT_TRUE(torch::equal(ours[i], theirs[i])) << "parameter " << i;
    } else {
      EXPECT_TRUE(torch::allclose(ours[i], theirs[i], 1e-6, 1e-7))
          << "parameter " << i << " differs by "
          << (ours[i] - theirs[i]).abs().max().item<double>();
    }
  }
  // The capture advanced the host state (Adam's step counts, which set the
  // bias corrections of later steps) as a step does: ordinary steps go on
  // from it alike.
  for (int step = 4; step < 6; ++step) {
    set_all_grads({&ours, &theirs}, step);
    opt->step();
    ref->step();
  }
  for (std::size_t i = 0; i < ours.size(); ++i) {
    EXPECT_TRUE(torch::allclose(ours[i], theirs[i], 1e-6, 1e-7)) << "after the capture: " << i;
  }
  // A new learning rate is not the captured step any more.
  EXPECT_TRUE(graph->before_replay());
  set_lr(*opt, s.lr / 2);
  EXPECT_FALSE(graph->before_replay());
}

TEST(GraphStep, AdamParametersAtDifferentStepCountsAreNotCaptured) {
  std::vector<torch::Tensor> ps = make_params(3);
  std::vector<torch::Tensor> unused = copies(ps);
  auto opt = make_optimizer(stage("adam", 0.9, 0.0), ps);
  for (int step = 0; step < 3; ++step) {
    set_grads(ps, unused, step);  // parameter 1 skips step 2
    opt->step();
  }
  const std::string why = graph_step(*opt)->begin_capture();
  EXPECT_NE(why.find("different Adam step counts (3 and 2)"), std::string::npos) << why;
}

INSTANTIATE_TEST_SUITE_P(Optimizers, MultiTensorOptimizer,
                         ::testing::Values(stage("sgd", 0.9, 1e-4), stage("sgd", 0.0, 0.0),
                                           stage("adam", 0.9, 0.0), stage("adam", 0.9, 1e-4),
                                           stage("adamw", 0.9, 1e-2)),
                         [](const ::testing::TestParamInfo<StageConfig>& info) {
                           return info.param.optimizer + "_m" +
                                  std::to_string(static_cast<int>(info.param.momentum * 10)) +
                                  (info.param.weight_decay != 0 ? "_wd" : "");
                         });

}  // namespace
}  // namespace midge::train
