#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>

#include "io/atomic_file.h"
#include "support/temp_dir.h"

namespace midge::io {
namespace {
namespace fs = std::filesystem;

std::size_t entries(const fs::path& dir) {
  std::size_t n = 0;
  for ([[maybe_unused]] const auto& e : fs::directory_iterator(dir)) ++n;
  return n;
}

TEST(AtomicFile, WritesAndReplacesLeavingNoTemporary) {
  midge::testing::TempDir dir;
  const fs::path target = dir.path() / "sub" / "out.txt";
  write_file_atomic(target, "first");
  EXPECT_EQ(read_file(target), "first");
  write_file_atomic(target, "second version");
  EXPECT_EQ(read_file(target), "second version");
  EXPECT_EQ(entries(target.parent_path()), 1U);
}

TEST(AtomicFile, AbandonedWriteKeepsTheOldFile) {
  midge::testing::TempDir dir;
  const fs::path target = dir.path() / "run.h5";
  write_file_atomic(target, "complete old result");
  {
    AtomicFile f(target);
    std::ofstream(f.temp_path()) << "half-writ";
    EXPECT_TRUE(fs::exists(f.temp_path()));
    // No commit(): as if an exception unwound past the write.
  }
  EXPECT_EQ(read_file(target), "complete old result");
  EXPECT_EQ(entries(dir.path()), 1U);
}

}  // namespace
}  // namespace midge::io
