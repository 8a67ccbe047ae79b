// Communicator semantics with real ranks: run by CTest under mpiexec -n 2
// and -n 4 (oversubscribed on small machines).
#include <gtest/gtest.h>

#include <cstdlib>
#include <numeric>

#include "core/errors.h"
#include "mpi/mpi_world.h"

namespace midge::distributed {
namespace {

using midge::testing::mpi_world;

TEST(MpiComm, RanksAreDistinctAndSizeMatchesTheLauncher) {
  Communicator& w = mpi_world();
  EXPECT_EQ(w.backend(), "mpi");
  const char* env = std::getenv("OMPI_COMM_WORLD_SIZE");
  ASSERT_NE(env, nullptr);
  EXPECT_EQ(w.size(), std::atoi(env));
  EXPECT_GE(w.size(), 2);
  const std::int64_t n = w.size();
  EXPECT_EQ(w.allreduce_value<std::int64_t>(w.rank()), n * (n - 1) / 2);
  // One node: node-local rank and size equal the global ones.
  EXPECT_EQ(w.local_size(), w.size());
  EXPECT_EQ(w.local_rank(), w.rank());
}

TEST(MpiComm, AllreduceSumMaxMinOverEveryType) {
  Communicator& w = mpi_world();
  const int n = w.size();
  const int r = w.rank();
  std::vector<float> f(1000);
  for (std::size_t i = 0; i < f.size(); ++i)
    f[i] = static_cast<float>(r + 1) * static_cast<float>(i);
  w.allreduce(f, ReduceOp::kSum);
  const float ranks_sum = static_cast<float>(n * (n + 1) / 2);
  for (std::size_t i = 0; i < f.size(); ++i)
    ASSERT_FLOAT_EQ(f[i], ranks_sum * static_cast<float>(i));

  std::vector<double> d = {static_cast<double>(r), -static_cast<double>(r), 0.5};
  std::vector<double> dmax = d;
  std::vector<double> dmin = d;
  w.allreduce(dmax, ReduceOp::kMax);
  w.allreduce(dmin, ReduceOp::kMin);
  EXPECT_EQ(dmax, (std::vector<double>{n - 1.0, 0.0, 0.5}));
  EXPECT_EQ(dmin, (std::vector<double>{0.0, -(n - 1.0), 0.5}));

  std::vector<std::int64_t> big = {std::int64_t{1} << 40, r};
  w.allreduce(big, ReduceOp::kSum);
  EXPECT_EQ(big[0], (std::int64_t{1} << 40) * n);
  EXPECT_EQ(big[1], n * (n - 1) / 2);
  // Zero-length reductions are legal and do nothing.
  std::vector<float> empty;
  w.allreduce(empty, ReduceOp::kSum);
}

TEST(MpiComm, BroadcastFromAnyRoot) {
  Communicator& w = mpi_world();
  const int last = w.size() - 1;
  std::vector<double> v(3, static_cast<double>(w.rank()));
  w.broadcast(v.data(), v.size(), last);
  EXPECT_EQ(v, std::vector<double>(3, static_cast<double>(last)));
  std::string s = w.rank() == 0 ? std::string("[stage1]\nlr = 0.001\n") : std::string("x");
  w.broadcast(s, 0);
  EXPECT_EQ(s, "[stage1]\nlr = 0.001\n");
  std::string long_text = w.rank() == last ? std::string(100000, 'q') : std::string();
  w.broadcast(long_text, last);
  EXPECT_EQ(long_text.size(), 100000U);
  EXPECT_THROW(w.broadcast(v.data(), v.size(), w.size()), DistError);
}

TEST(MpiComm, SplitIntoGroupsReducesWithinEachGroup) {
  Communicator& w = mpi_world();
  const int color = w.rank() % 2;
  auto group = w.split(color, w.rank());
  const int expected_size = (w.size() + 1 - color) / 2;
  EXPECT_EQ(group->size(), expected_size);
  EXPECT_EQ(group->rank(), w.rank() / 2);
  // Sum of world ranks within the group: only members contribute.
  std::int64_t expect = 0;
  for (int r = color; r < w.size(); r += 2) expect += r;
  EXPECT_EQ(group->allreduce_value<std::int64_t>(w.rank()), expect);
  // Reverse order by key.
  auto reversed = w.split(0, -w.rank());
  EXPECT_EQ(reversed->rank(), w.size() - 1 - w.rank());
  group->barrier();
  w.barrier();
}

}  // namespace
}  // namespace midge::distributed
