#include <gtest/gtest.h>

#include <cmath>

#include "io/compare.h"
#include "io/hdf5.h"
#include "support/temp_dir.h"

namespace midge::io {
namespace {

void write_file(const std::string& path, float p1, const std::string& label, bool extra) {
  H5Writer f(path);
  f.write("eval/probabilities", std::vector<float>{0.25F, p1, std::nanf("")});
  f.write("eval/paths", std::vector<std::string>{"a.png", label});
  f.write_scalar("eval/accuracy", 0.5);
  f.write("stage1/history/seconds", std::vector<double>{extra ? 1.0 : 2.0});
  if (extra) f.write("gradcam/paths", std::vector<std::string>{"a.png"});
  f.commit();
}

TEST(CompareH5, EqualValuesIncludingNanAreEqualAndEachDifferenceIsNamed) {
  testing::TempDir dir;
  write_file(dir.str("a.h5"), 0.5F, "b.png", false);
  write_file(dir.str("b.h5"), 0.5F, "b.png", false);
  FileComparison same = compare_h5(dir.str("a.h5"), dir.str("b.h5"), {"eval", "stage1", "gradcam"});
  EXPECT_TRUE(same.equal());
  EXPECT_EQ(same.compared, 4U);
  // One float off by one ulp, a string, a timing column (skipped) and a
  // dataset only in the second file.
  write_file(dir.str("c.h5"), std::nextafter(0.5F, 1.0F), "c.png", true);
  FileComparison d =
      compare_h5(dir.str("a.h5"), dir.str("c.h5"), {"eval", "stage1", "gradcam"}, {"seconds"});
  ASSERT_EQ(d.differences.size(), 3U);
  EXPECT_EQ(d.differences[0].path, "eval/paths");
  EXPECT_NE(d.differences[0].what.find("'b.png' vs 'c.png'"), std::string::npos);
  EXPECT_EQ(d.differences[1].path, "eval/probabilities");
  EXPECT_NE(d.differences[1].what.find("1 of 3 values differ"), std::string::npos)
      << d.differences[1].what;
  EXPECT_EQ(d.differences[2].path, "gradcam/paths");
  EXPECT_EQ(d.differences[2].what, "only in the replay");
}

TEST(CompareH5, NumbersAreComparedByTheirBitsSoTheSignOfZeroCounts) {
  testing::TempDir dir;
  write_file(dir.str("a.h5"), 0.0F, "b.png", false);
  write_file(dir.str("b.h5"), -0.0F, "b.png", false);
  const FileComparison d = compare_h5(dir.str("a.h5"), dir.str("b.h5"), {"eval"});
  ASSERT_EQ(d.differences.size(), 1U);
  EXPECT_EQ(d.differences[0].path, "eval/probabilities");
  EXPECT_NE(d.differences[0].what.find("1 of 3 values differ, by up to 0"), std::string::npos)
      << d.differences[0].what;
}

}  // namespace
}  // namespace midge::io
