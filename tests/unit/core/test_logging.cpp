// midge's logger is shared by threads: loader workers warn about unreadable
// images while the main thread reports progress. Two threads log through it
// at once; every line must arrive whole. Also run under ThreadSanitizer
// (tests/sanitize/loader_tsan.sh), where a sink that is not thread-safe is
// reported as a data race: spdlog's formatter rewrites its cached time when
// the second changes, so both threads log until the wall clock has passed
// two second boundaries (1 to 2 s).
#include <fcntl.h>
#include <gtest/gtest.h>
#include <unistd.h>

#include <chrono>
#include <fstream>
#include <regex>
#include <string>
#include <thread>

#include "core/log.h"
#include "core/logging.h"
#include "support/temp_dir.h"

namespace midge {
namespace {

std::int64_t wall_second() {
  return std::chrono::duration_cast<std::chrono::seconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

TEST(Logging, TwoThreadsLogWholeLinesThroughTheOneLogger) {
  testing::TempDir dir;
  const std::string file = dir.str("stderr.txt");
  init_logging(3, 4, "info");
  std::fflush(stderr);
  const int saved = ::dup(STDERR_FILENO);
  const int fd = ::open(file.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
  ASSERT_GE(saved, 0);
  ASSERT_GE(fd, 0);
  ::dup2(fd, STDERR_FILENO);
  const std::int64_t first = wall_second();
  auto work = [first](const char* who, long* lines) {
    while (wall_second() < first + 2 && *lines < 2000000) {
      log::info(std::string(who) + " line " + std::to_string(*lines));
      ++*lines;
    }
  };
  long a = 0;
  long b = 0;
  std::thread worker(work, "worker", &a);
  work("main", &b);
  worker.join();
  std::fflush(stderr);
  ::dup2(saved, STDERR_FILENO);
  ::close(saved);
  ::close(fd);
  init_logging(0, 1, "info");

  std::ifstream in(file);
  const std::regex line(
      R"(\[\d{4}-\d\d-\d\d \d\d:\d\d:\d\d\] \[r3/4\] \[info\] (worker|main) line \d+)");
  long whole = 0;
  std::string text;
  while (std::getline(in, text)) {
    ASSERT_TRUE(std::regex_match(text, line)) << "garbled line: " << text;
    ++whole;
  }
  EXPECT_GT(a, 0);
  EXPECT_GT(b, 0);
  EXPECT_EQ(whole, a + b);
}

}  // namespace
}  // namespace midge
