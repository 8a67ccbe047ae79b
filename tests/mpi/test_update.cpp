// The end of a training step on real ranks (train/update.h): with fp16 loss
// scaling, a non-finite gradient on ONE rank makes EVERY rank skip the step
// and halve its scale, so the replicas never diverge; a clean step then
// updates all ranks alike. Also the coalesced broadcast of rank 0's model
// (train/replica.h).
#include <gtest/gtest.h>
#include <torch/torch.h>

#include <limits>
#include <vector>

#include "model/resnet.h"
#include "model/weights.h"
#include "mpi/mpi_world.h"
#include "train/gradient_sync.h"
#include "train/replica.h"
#include "train/update.h"

namespace midge::train {
namespace {

using midge::testing::mpi_world;

// Largest difference, over ranks and elements, between a rank's `x` and
// rank 0's: 0 exactly when every rank holds the same tensor.
double spread_over_ranks(distributed::Communicator& w, const torch::Tensor& x) {
  torch::Tensor c = x.detach().to(torch::kFloat).contiguous().clone();
  torch::Tensor mine = c.clone();
  w.broadcast(c.data_ptr<float>(), static_cast<std::size_t>(c.numel()), 0);
  double diff = (mine - c).abs().max().item<double>();
  w.allreduce(&diff, 1, distributed::ReduceOp::kMax);
  return diff;
}

void check_skip_agreement(bool with_sync) {
  distributed::Communicator& w = mpi_world();
  torch::manual_seed(11);  // the same start on every rank
  torch::nn::Linear net(6, 3);
  std::vector<torch::Tensor> params = net->parameters();
  torch::optim::SGD opt(params, torch::optim::SGDOptions(0.1));
  LossScaler scaler(true);
  std::unique_ptr<GradientSync> sync;
  if (with_sync) sync = std::make_unique<GradientSync>(w, params, GradientSyncOptions{25, true});
  const torch::Tensor before = net->weight.detach().clone();

  // Step 1: rank 1's gradients are not finite (an overflow in backward; the
  // bucket hooks see them as they are produced).
  opt.zero_grad();
  torch::Tensor x = torch::randn({4, 6}) * (w.rank() + 1);
  const double blow_up = w.rank() == 1 ? std::numeric_limits<double>::infinity() : 1.0;
  (net->forward(x).pow(2).sum() * scaler.scale() * blow_up).backward();
  apply_update(w, sync.get(), scaler, params, opt);
  EXPECT_TRUE(torch::equal(net->weight.detach(), before)) << "rank " << w.rank() << " stepped";
  EXPECT_EQ(scaler.scale(), 32768.0) << "rank " << w.rank();

  // Step 2: clean gradients on every rank: all step, and stay identical
  // when the gradients are averaged (with sync).
  opt.zero_grad();
  (net->forward(x).pow(2).sum() * scaler.scale()).backward();
  apply_update(w, sync.get(), scaler, params, opt);
  EXPECT_FALSE(torch::equal(net->weight.detach(), before)) << "rank " << w.rank();
  EXPECT_EQ(scaler.scale(), 32768.0);
  if (with_sync) EXPECT_EQ(spread_over_ranks(w, net->weight), 0.0);
}

TEST(Update, AnInfiniteGradientOnOneRankSkipsTheStepOnAll) { check_skip_agreement(false); }

TEST(Update, AnInfiniteGradientOnOneRankSkipsTheStepOnAllWithBucketSync) {
  check_skip_agreement(true);
}

TEST(Replica, BroadcastGivesEveryRankRankZerosModelAndBatchNormIsAveraged) {
  distributed::Communicator& w = mpi_world();
  torch::manual_seed(100 + w.rank());  // different weights on every rank
  model::ResNet net("resnet18", 4, 0.0);
  {
    torch::NoGradGuard g;
    for (auto& b : net->named_buffers()) {
      if (b.value().scalar_type() == torch::kLong) b.value().fill_(5 + w.rank());
    }
  }
  broadcast_state(w, net);
  for (auto& [name, t] : model::named_state(net)) {
    EXPECT_EQ(spread_over_ranks(w, t), 0.0) << name;
  }
  // Running statistics drift apart per rank; their average is the mean.
  auto buffers = net->named_buffers();
  torch::Tensor mean = buffers["bn1.running_mean"];
  {
    torch::NoGradGuard g;
    mean.fill_(static_cast<float>(w.rank()));
  }
  average_batchnorm(w, net);
  const float expect = static_cast<float>(w.size() - 1) / 2.0F;
  EXPECT_TRUE(torch::allclose(mean, torch::full_like(mean, expect)));
  EXPECT_EQ(buffers["bn1.num_batches_tracked"].item<std::int64_t>(), 5);  // rank 0's
}

}  // namespace
}  // namespace midge::train
