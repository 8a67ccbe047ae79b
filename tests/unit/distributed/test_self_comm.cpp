#include <gtest/gtest.h>

#include <stdexcept>

#include "core/errors.h"
#include "distributed/communicator.h"
#include "distributed/failure.h"
#include "distributed/runtime.h"

namespace midge::distributed {
namespace {

TEST(SelfComm, IsAWorldOfOne) {
  SelfComm c;
  EXPECT_EQ(c.rank(), 0);
  EXPECT_EQ(c.size(), 1);
  EXPECT_EQ(c.local_rank(), 0);
  EXPECT_EQ(c.local_size(), 1);
  std::vector<double> v = {1.5, -2.0};
  c.allreduce(v, ReduceOp::kSum);
  EXPECT_EQ(v, (std::vector<double>{1.5, -2.0}));
  EXPECT_EQ(c.allreduce_value<std::int64_t>(7, ReduceOp::kMax), 7);
  std::string s = "taxa";
  c.broadcast(s, 0);
  EXPECT_EQ(s, "taxa");
  EXPECT_THROW(c.broadcast(s, 1), DistError);
  auto sub = c.split(3, 0);
  EXPECT_EQ(sub->size(), 1);
  c.barrier();
}

TEST(Runtime, PlainProcessIsNotAnMpiJob) {
  // ctest runs this binary directly, without a launcher.
  ::unsetenv("MIDGE_MPI");
  ASSERT_FALSE(launched_by_mpi());
  int argc = 0;
  char** argv = nullptr;
  Runtime rt(&argc, &argv);
  EXPECT_FALSE(rt.using_mpi());
  EXPECT_EQ(rt.world().size(), 1);
  EXPECT_EQ(rt.world().backend(), "self");
  rt.finalize();
  ::setenv("MIDGE_MPI", "1", 1);
  EXPECT_TRUE(launched_by_mpi());
  ::setenv("MIDGE_MPI", "0", 1);
  EXPECT_FALSE(launched_by_mpi());
  ::unsetenv("MIDGE_MPI");
}

TEST(RunRank, MapsFailuresToExitCodesInAWorldOfOne) {
  SelfComm c;
  EXPECT_EQ(run_rank(c, [] { return 0; }), kExitSuccess);
  EXPECT_EQ(run_rank(c, [] { return 3; }), 3);
  EXPECT_EQ(run_rank(c, []() -> int { throw ConfigError("bad key"); }), kExitUsage);
  EXPECT_EQ(run_rank(c, []() -> int { throw DataError("bad image"); }), kExitRunFailed);
  EXPECT_EQ(run_rank(c, []() -> int { throw std::runtime_error("other"); }), kExitRunFailed);
}

}  // namespace
}  // namespace midge::distributed
