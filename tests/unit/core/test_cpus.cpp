#include <gtest/gtest.h>
#include <sched.h>

#include <thread>

#include "core/cpus.h"

namespace midge {
namespace {

TEST(Cpus, UsableCpusFollowTheAffinityMask) {
  cpu_set_t saved;
  ASSERT_EQ(sched_getaffinity(0, sizeof(saved), &saved), 0);
  const int all = usable_cpus();
  EXPECT_EQ(all, CPU_COUNT(&saved));
  EXPECT_LE(all, static_cast<int>(std::max(1U, std::thread::hardware_concurrency())));
  // Pinned to one CPU (as `taskset -c 0` does): one usable CPU.
  cpu_set_t one;
  CPU_ZERO(&one);
  for (int i = 0; i < CPU_SETSIZE; ++i) {
    if (CPU_ISSET(i, &saved)) {
      CPU_SET(i, &one);
      break;
    }
  }
  ASSERT_EQ(sched_setaffinity(0, sizeof(one), &one), 0);
  EXPECT_EQ(usable_cpus(), 1);
  EXPECT_EQ(default_threads(usable_cpus(), 1), 1);
  ASSERT_EQ(sched_setaffinity(0, sizeof(saved), &saved), 0);
}

TEST(Cpus, DefaultThreadsShareTheCpusAmongOverlappingRanks) {
  EXPECT_EQ(default_threads(16, 4), 4);
  EXPECT_EQ(default_threads(2, 2), 1);
  EXPECT_EQ(default_threads(3, 2), 1);
  EXPECT_EQ(default_threads(1, 4), 1);  // never 0
  EXPECT_EQ(default_threads(8, 0), 8);
  const std::vector<std::uint64_t> a = {0b0011, 0};
  const std::vector<std::uint64_t> b = {0b0100, 0};
  const std::vector<std::uint64_t> c = {0, 1};
  const std::vector<std::uint64_t> d = {0b0110, 1};
  EXPECT_FALSE(masks_overlap(a, b));
  EXPECT_FALSE(masks_overlap(a, c));
  EXPECT_TRUE(masks_overlap(b, d));
  EXPECT_TRUE(masks_overlap(c, d));
  EXPECT_TRUE(masks_overlap(a, a));
}

}  // namespace
}  // namespace midge
