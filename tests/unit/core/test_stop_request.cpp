#include "core/stop_request.h"

#include <gtest/gtest.h>

#include <csignal>
#include <cstring>
#include <thread>

namespace midge {
namespace {

// Leaves no request behind for the tests that follow in this binary.
struct ForgetStop {
  ~ForgetStop() { set_stop_request_for_testing(0); }
};

TEST(StopRequest, SignalsAreRecordedNotFatalAndTheFirstOneIsKept) {
  ForgetStop forget;
  set_stop_request_for_testing(0);
  install_stop_handlers();
  EXPECT_FALSE(stop_requested());
  EXPECT_STREQ(stop_signal_name(), "");
  // Without the handler SIGTERM would end this test binary.
  ASSERT_EQ(std::raise(SIGTERM), 0);
  EXPECT_TRUE(stop_requested());
  EXPECT_STREQ(stop_signal_name(), "SIGTERM");
  ASSERT_EQ(std::raise(SIGUSR2), 0);
  EXPECT_STREQ(stop_signal_name(), "SIGTERM");  // the first signal names the stop
}

TEST(StopRequest, ASignalToAnotherThreadIsSeenByAll) {
  ForgetStop forget;
  set_stop_request_for_testing(0);
  install_stop_handlers();
  // A loader worker may be the thread the kernel picks.
  std::thread worker([] { ASSERT_EQ(std::raise(SIGUSR2), 0); });
  worker.join();
  EXPECT_TRUE(stop_requested());
  EXPECT_STREQ(stop_signal_name(), "SIGUSR2");
  // The handler stays installed (sigaction, not the one-shot signal()).
  struct sigaction now;
  std::memset(&now, 0, sizeof(now));
  ASSERT_EQ(sigaction(SIGUSR2, nullptr, &now), 0);
  EXPECT_NE(now.sa_handler, SIG_DFL);
  EXPECT_NE(now.sa_flags & SA_RESTART, 0);
}

}  // namespace
}  // namespace midge
