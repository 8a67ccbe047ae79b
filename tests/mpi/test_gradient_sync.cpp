// Bucketed gradient averaging with real ranks (mpiexec -n 2 and -n 4): the
// averaged gradients equal the gradient of the whole global batch that every
// rank can compute locally, for overlapped and non-overlapped sync, one big
// bucket and many small ones, with frozen and unused parameters.
#include <gtest/gtest.h>
#include <torch/torch.h>

#include <chrono>
#include <mutex>
#include <thread>
#include <vector>

#include "distributed/async_allreduce.h"
#include "mpi/mpi_world.h"
#include "train/gradient_sync.h"

namespace midge::train {
namespace {

using midge::testing::mpi_world;

TEST(AsyncAllreduce, SumsQueuedSpansInOrderOnTheBackgroundThread) {
  distributed::Communicator& w = mpi_world();
  const auto created = std::chrono::steady_clock::now();
  distributed::AsyncAllreduce reducer(w, true);
  EXPECT_TRUE(reducer.background());  // Runtime asks MPI for THREAD_MULTIPLE
  std::vector<std::vector<float>> spans;
  for (int k = 0; k < 20; ++k) spans.emplace_back(static_cast<std::size_t>(1 + 997 * k), 0.0F);
  // What the `ready` callbacks saw, written on the reducer's thread; read
  // here only after wait_all(), which orders those writes before the reads.
  std::mutex seen_mutex;
  std::vector<std::size_t> ready_order;
  std::vector<std::thread::id> ready_threads;
  for (std::size_t k = 0; k < spans.size(); ++k) {
    for (std::size_t i = 0; i < spans[k].size(); ++i)
      spans[k][i] = static_cast<float>((w.rank() + 1) * (k + 1)) + static_cast<float>(i % 7);
    reducer.submit(spans[k].data(), spans[k].size(),
                   [&seen_mutex, &ready_order, &ready_threads, k] {
                     std::lock_guard<std::mutex> lock(seen_mutex);
                     ready_order.push_back(k);
                     ready_threads.push_back(std::this_thread::get_id());
                   });
  }
  reducer.wait_all();
  {
    // `ready` runs once per span, in submission order, on the background
    // thread (never the submitting one) before that span's reduction.
    std::lock_guard<std::mutex> lock(seen_mutex);
    ASSERT_EQ(ready_order.size(), spans.size());
    for (std::size_t k = 0; k < spans.size(); ++k) {
      EXPECT_EQ(ready_order[k], k);
      EXPECT_NE(ready_threads[k], std::this_thread::get_id()) << "span " << k;
    }
  }
  EXPECT_EQ(reducer.submitted(), spans.size());
  // The first span is complete once wait_done(1) returns, later ones maybe not.
  std::vector<float> first(spans[0].size(), static_cast<float>(w.rank() + 1));
  reducer.submit(first.data(), first.size());
  std::vector<float> big(1 << 22, 1.0F);
  reducer.submit(big.data(), big.size());
  reducer.wait_done(spans.size() + 1);
  for (float v : first) ASSERT_EQ(v, static_cast<float>(w.size() * (w.size() + 1) / 2));
  reducer.wait_all();
  EXPECT_EQ(big[12345], static_cast<float>(w.size()));
  EXPECT_TRUE(reducer.idle());
  const int n = w.size();
  for (std::size_t k = 0; k < spans.size(); ++k) {
    for (std::size_t i = 0; i < spans[k].size(); ++i) {
      const float expect = static_cast<float>(n * (n + 1) / 2 * static_cast<int>(k + 1)) +
                           static_cast<float>(n) * static_cast<float>(i % 7);
      ASSERT_EQ(spans[k][i], expect) << "span " << k << " element " << i;
    }
  }
  // Time spent reducing: positive, and no more than has passed since the
  // reducer was made (one thread reduces, so it cannot exceed wall time).
  const double wall =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - created).count();
  EXPECT_GT(reducer.busy_seconds(), 0.0);
  EXPECT_LE(reducer.busy_seconds(), wall);
}

struct Net : torch::nn::Module {
  Net() {
    // Registered first, so it lands in the last bucket (buckets follow
    // reverse registration order) and only that bucket waits for finish().
    unused = register_parameter("unused", torch::randn({10}));
    conv = register_module("conv", torch::nn::Conv2d(torch::nn::Conv2dOptions(3, 6, 3)));
    frozen = register_module("frozen", torch::nn::Linear(4, 4));
    hidden = register_module("hidden", torch::nn::Linear(6 * 6 * 6, 32));
    out = register_module("out", torch::nn::Linear(32, 5));
    for (auto& p : frozen->parameters()) p.set_requires_grad(false);
  }
  torch::Tensor forward(torch::Tensor x) {
    x = torch::relu(conv->forward(x)).flatten(1);
    return out->forward(torch::tanh(hidden->forward(x)));
  }
  torch::nn::Conv2d conv{nullptr};
  torch::nn::Linear frozen{nullptr}, hidden{nullptr}, out{nullptr};
  torch::Tensor unused;
};

struct Case {
  double bucket_mb;
  bool overlap;
};

class GradientSyncCase : public ::testing::TestWithParam<Case> {};

TEST_P(GradientSyncCase, AveragedGradientsEqualTheGlobalBatchGradient) {
  distributed::Communicator& w = mpi_world();
  const Case c = GetParam();
  constexpr int kPerRank = 4;
  torch::manual_seed(11);  // the same weights and data on every rank
  auto net = std::make_shared<Net>();
  torch::Tensor x = torch::randn({kPerRank * w.size(), 3, 8, 8});
  torch::Tensor y = torch::randint(0, 5, {kPerRank * w.size()});

  // Reference: the mean loss over the whole global batch, on this rank alone.
  auto loss_of = [&](const torch::Tensor& xs, const torch::Tensor& ys) {
    return torch::nn::functional::cross_entropy(net->forward(xs), ys);
  };
  loss_of(x, y).backward();
  std::vector<torch::Tensor> expected;
  for (auto& p : net->parameters()) {
    expected.push_back(p.grad().defined() ? p.grad().clone() : torch::Tensor());
    p.mutable_grad() = torch::Tensor();
  }

  GradientSync sync(w, net->parameters(), {c.bucket_mb, c.overlap});
  // 2 + 2 + 2 trainable parameters + unused; frozen ones are left out.
  EXPECT_EQ(sync.numel(), 6 * 3 * 9 + 6 + 216 * 32 + 32 + 32 * 5 + 5 + 10);
  if (c.bucket_mb < 0.01) EXPECT_GE(sync.bucket_count(), 3u);
  if (c.bucket_mb > 1) EXPECT_EQ(sync.bucket_count(), 1u);
  EXPECT_EQ(sync.overlapping(), c.overlap);
  EXPECT_STREQ(sync.staging(), "host");
  for (int step = 0; step < 2; ++step) {  // the second step reuses the buckets
    for (auto& p : net->parameters()) {
      if (p.grad().defined()) p.mutable_grad().zero_();
    }
    const auto rows = torch::indexing::Slice(w.rank() * kPerRank, (w.rank() + 1) * kPerRank);
    loss_of(x.index({rows}), y.index({rows})).backward();
    sync.finish();
    // Overlap: every bucket but the one holding the unused parameter went
    // out from the hooks, during backward.
    EXPECT_EQ(sync.launched_during_backward(), c.overlap ? sync.bucket_count() - 1 : 0u);
    const auto params = net->parameters();
    for (std::size_t k = 0; k < params.size(); ++k) {
      const torch::Tensor& g = params[k].grad();
      if (!params[k].requires_grad()) {
        EXPECT_FALSE(g.defined()) << "frozen parameter " << k << " got a gradient";
      } else if (!expected[k].defined()) {
        ASSERT_TRUE(g.defined());
        EXPECT_EQ(g.abs().max().item<float>(), 0.0F) << "unused parameter " << k;
      } else {
        const double rel = (g - expected[k]).abs().max().item<double>() /
                           std::max(expected[k].abs().max().item<double>(), 1e-12);
        EXPECT_LT(rel, 1e-5) << "parameter " << k << " step " << step;
      }
    }
  }
}

INSTANTIATE_TEST_SUITE_P(BucketsAndOverlap, GradientSyncCase,
                         ::testing::Values(Case{25, true}, Case{25, false}, Case{0.002, true},
                                           Case{0.002, false}));

}  // namespace
}  // namespace midge::train
