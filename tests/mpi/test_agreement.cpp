// Agreement (distributed/agreement.h) with real ranks under mpiexec -n 2
// and -n 4: a failure on one rank is raised on every rank alike, naming the
// first failing rank and keeping its exit code; stops and unreadable-image
// counts are summed; a rank that never arrives is given up after the
// time-out, and the communicator is not used again.
#include <gtest/gtest.h>

#include <chrono>

#include "core/errors.h"
#include "distributed/agreement.h"
#include "mpi/mpi_world.h"

namespace midge::distributed {
namespace {

using midge::testing::mpi_world;

TEST(Agreement, NothingWrongGivesTheSumsOnEveryRank) {
  Communicator& w = mpi_world();
  Agreement a(w, 30);
  const Verdict v = a.agree("a test", w.rank() == 1, nullptr, w.rank() + 1);
  EXPECT_TRUE(v.stop);
  EXPECT_EQ(v.bad_images, static_cast<std::int64_t>(w.size()) * (w.size() + 1) / 2);
  const Verdict quiet = a.agree("a test", false, nullptr);
  EXPECT_FALSE(quiet.stop);
  EXPECT_EQ(quiet.bad_images, 0);
}

TEST(Agreement, AFailureOnSomeRanksIsRaisedOnEveryRankNamingTheFirst) {
  Communicator& w = mpi_world();
  Agreement a(w, 30);
  // The last rank fails with a configuration error, rank 1 with a data
  // error: rank 1 is the first, and its exit code (1) is everyone's.
  const int last = w.size() - 1;
  try {
    a.phase("the phase", [&] {
      if (w.rank() == 1) throw DataError("image x.jpg is broken");
      if (w.rank() == last) throw ConfigError("bad key");
    });
    FAIL() << "rank " << w.rank() << " went on";
  } catch (const RankFailure& e) {
    EXPECT_EQ(e.rank(), 1);
    EXPECT_EQ(e.exit_code(), kExitRunFailed);
    const std::string what = e.what();
    EXPECT_NE(what.find("rank 1"), std::string::npos) << what;
    EXPECT_NE(what.find("at the phase: image x.jpg is broken"), std::string::npos) << what;
  }
  // A usage error alone keeps its exit code on every rank.
  try {
    a.phase("checking", [&] {
      if (w.rank() == last) throw ConfigError("unknown key foo");
    });
    FAIL() << "rank " << w.rank() << " went on";
  } catch (const RankFailure& e) {
    EXPECT_EQ(e.rank(), last);
    EXPECT_EQ(e.exit_code(), kExitUsage);
  }
  // And the communicator still works: every rank is in step.
  EXPECT_EQ(w.allreduce_value<std::int64_t>(1), w.size());
}

TEST(Agreement, ARankThatNeverArrivesIsGivenUpAfterTheTimeOut) {
  Communicator& w = mpi_world();
  // A communicator of its own: the abandoned reduction stays pending on it.
  std::unique_ptr<Communicator> c = w.split(0, w.rank());
  Agreement a(*c, 1.0);
  if (c->rank() == 1) {
    // Never joins; waits for the others' verdict on the world instead.
  } else {
    const auto t0 = std::chrono::steady_clock::now();
    try {
      a.agree("step 3", false, nullptr);
      FAIL() << "the agreement completed without rank 1";
    } catch (const PeerLost& e) {
      const std::chrono::duration<double> waited = std::chrono::steady_clock::now() - t0;
      EXPECT_GE(waited.count(), 1.0);
      EXPECT_LT(waited.count(), 10.0);
      EXPECT_NE(std::string(e.what()).find("at step 3 within 1 s"), std::string::npos) << e.what();
    }
  }
  w.barrier();
  // Rank 1 arrives late, so no reduction stays pending when MPI ends (the
  // others' abandoned requests complete while they wait in later calls).
  if (c->rank() == 1) {
    std::int64_t late[3] = {0, 0, 0};
    EXPECT_TRUE(c->reduce_span_within(late, 3, ReduceOp::kSum, 60));
  }
  // `c` is never used again; kept (not freed) like any communicator that
  // had a reduction time out.
  static_cast<void>(c.release());
}

}  // namespace
}  // namespace midge::distributed
