#include <gtest/gtest.h>

#include "core/errors.h"
#include "stats/mcnemar.h"

namespace midge::stats {
namespace {

// Reference p-values computed exactly with rational arithmetic,
// min(1, 2 * sum_{k <= min(b,c)} C(b+c, k) / 2^(b+c)), in Python's
// fractions; three cross-checked against scipy.stats.binomtest 1.17.1
// (which agrees to 1e-15).
struct Case {
  std::int64_t b, c;
  double p;
};
constexpr Case kCases[] = {
    {0, 0, 1.0},
    {0, 1, 1.0},
    {2, 0, 0.5},
    {0, 5, 0.0625},
    {1, 9, 0.021484375},
    {5, 5, 1.0},
    {3, 12, 0.03515625},
    {10, 20, 0.098737146705389023},
    {40, 60, 0.056887933640980791},
    {100, 140, 0.011664092317677663},
    {500, 560, 0.069909559460269333},
    {2000, 2150, 0.020715456049267219},  // 2^-4150 alone would underflow
};

TEST(McNemar, ExactPValuesMatchAReferenceTable) {
  for (const Case& k : kCases) {
    EXPECT_NEAR(mcnemar_exact_p(k.b, k.c), k.p, 1e-12 * k.p) << "b=" << k.b << " c=" << k.c;
    EXPECT_DOUBLE_EQ(mcnemar_exact_p(k.b, k.c), mcnemar_exact_p(k.c, k.b)) << "symmetric";
  }
  EXPECT_THROW(mcnemar_exact_p(-1, 3), UsageError);
}

TEST(McNemar, CountsOnlyTheImagesWhereTheRunsDisagree) {
  //                      both  A only        B only  neither
  std::vector<bool> a = {true, true, true, true, false, false};
  std::vector<bool> b = {true, false, false, false, true, false};
  McNemar r = mcnemar(a, b);
  EXPECT_EQ(r.a_only, 3);
  EXPECT_EQ(r.b_only, 1);
  EXPECT_DOUBLE_EQ(r.p_value, 0.625);  // 2 * (1 + 4) / 16
  EXPECT_EQ(mcnemar(a, a).p_value, 1.0);
  try {
    mcnemar(a, {true});
    FAIL() << "different image counts accepted";
  } catch (const UsageError& e) {
    EXPECT_NE(std::string(e.what()).find("6 against 1"), std::string::npos) << e.what();
  }
}

}  // namespace
}  // namespace midge::stats
