// run.cuda_graph's decision whether a run's steps can be captured
// (train/step_graph.h), on the settings alone: no GPU is needed to decide.
// Capture and replay themselves are checked on a GPU
// (bench/gpu/gpu_check.cpp, cuda_graph_*).
#include <gtest/gtest.h>
#include <torch/torch.h>

#include <string>

#include "train/step_graph.h"

namespace midge::train {
namespace {

bool mentions(const std::string& text, const std::string& part) {
  return text.find(part) != std::string::npos;
}

TEST(StepGraph, SaysWhyARunCannotBeCaptured) {
  EXPECT_TRUE(mentions(cuda_graph_obstacle(false, "bf16", 1), "on the CPU"));
  EXPECT_TRUE(mentions(cuda_graph_obstacle(true, "fp16", 1), "run.amp = fp16"));
  EXPECT_TRUE(mentions(cuda_graph_obstacle(true, "bf16", 2), "2 ranks"));
  const std::string one_gpu = cuda_graph_obstacle(true, "bf16", 1);
  const std::string off = cuda_graph_obstacle(true, "off", 1);
  EXPECT_EQ(one_gpu, off);  // fp32 and bf16 alike
  if (cuda_graphs_built()) {
    // A CUDA LibTorch 2.1+: the one-rank bf16 run is captured.
    EXPECT_EQ(one_gpu, "");
  } else {
    EXPECT_TRUE(mentions(one_gpu, "built")) << one_gpu;  // names the build, not the settings
  }
}

TEST(StepGraph, NeedsAnOptimizerThatCanBeCaptured) {
  torch::Tensor w = torch::zeros({2}, torch::requires_grad());
  torch::optim::SGD plain({w}, torch::optim::SGDOptions(0.1));
  auto step = [](const torch::Tensor&, const torch::Tensor&) { return StepOutputs{}; };
  EXPECT_THROW(StepGraph(plain, step), std::logic_error);
}

}  // namespace
}  // namespace midge::train
