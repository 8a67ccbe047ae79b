// GradientSync in a world of one (distributed::SelfComm): the averaged gradients
// are the local ones, bucketing follows the size limit, frozen parameters
// stay out, and a second backward before finish() is refused by name.
// Multi-rank behaviour: tests/mpi/test_gradient_sync.cpp.
#include <gtest/gtest.h>
#include <torch/torch.h>

#include <string>

#include "core/errors.h"
#include "distributed/communicator.h"
#include "train/gradient_sync.h"

namespace midge::train {
namespace {

torch::nn::Sequential small_net() {
  torch::manual_seed(5);
  return torch::nn::Sequential(torch::nn::Linear(8, 16), torch::nn::ReLU(),
                               torch::nn::Linear(16, 3));
}

TEST(GradientSync, OneRankLeavesGradientsAsTheyAre) {
  distributed::SelfComm self;
  auto net = small_net();
  GradientSync sync(self, net->parameters(), {0.0002, true});  // 52 floats: several buckets
  EXPECT_EQ(sync.numel(), 8 * 16 + 16 + 16 * 3 + 3);
  EXPECT_EQ(sync.bucket_count(), 3u);  // 3+48 | 16 | 128 (one tensor never splits)
  torch::Tensor x = torch::randn({4, 8});
  net->forward(x).pow(2).sum().backward();
  std::vector<torch::Tensor> local;
  for (auto& p : net->parameters()) local.push_back(p.grad().clone());
  sync.finish();
  EXPECT_EQ(sync.launched_during_backward(), sync.bucket_count());
  const auto params = net->parameters();
  for (std::size_t k = 0; k < params.size(); ++k) {
    EXPECT_TRUE(torch::equal(params[k].grad(), local[k])) << "parameter " << k;
  }
}

TEST(GradientSync, FrozenParametersTakeNoPart) {
  distributed::SelfComm self;
  auto net = small_net();
  for (auto& p : net[0]->parameters()) p.set_requires_grad(false);
  GradientSync sync(self, net->parameters(), {25, true});
  EXPECT_EQ(sync.numel(), 16 * 3 + 3);
  net->forward(torch::randn({2, 8})).sum().backward();
  sync.finish();
  for (auto& p : net[0]->parameters()) EXPECT_FALSE(p.grad().defined());
}

TEST(GradientSync, SecondBackwardBeforeFinishIsRefused) {
  distributed::SelfComm self;
  auto net = small_net();
  GradientSync sync(self, net->parameters(), {25, true});
  net->forward(torch::randn({2, 8})).sum().backward();
  try {
    net->forward(torch::randn({2, 8})).sum().backward();
    FAIL() << "expected an error";
  } catch (const std::exception& e) {
    EXPECT_NE(std::string(e.what()).find("arrived twice in one step"), std::string::npos)
        << e.what();
  }
}

// An MPI that grants less than MPI_THREAD_SERIALIZED: no background reducer,
// so nothing may be reduced from inside backward either (on CUDA, autograd
// runs hooks on its own thread, which such an MPI must never see): all
// buckets go after backward, from the calling thread, with the same result.
TEST(GradientSync, WithoutABackgroundThreadNothingIsReducedInsideBackward) {
  distributed::SelfComm world(/*background_thread_ok=*/false);
  auto net = small_net();
  GradientSync sync(world, net->parameters(), {0.0002, true});
  EXPECT_FALSE(sync.overlapping());
  net->forward(torch::randn({4, 8})).pow(2).sum().backward();
  std::vector<torch::Tensor> local;
  for (auto& p : net->parameters()) local.push_back(p.grad().clone());
  sync.finish();
  EXPECT_EQ(sync.launched_during_backward(), 0U);
  const auto params = net->parameters();
  for (std::size_t k = 0; k < params.size(); ++k) {
    EXPECT_TRUE(torch::equal(params[k].grad(), local[k])) << "parameter " << k;
  }
}

}  // namespace
}  // namespace midge::train
