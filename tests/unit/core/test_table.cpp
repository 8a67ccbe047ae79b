#include <gtest/gtest.h>

#include <stdexcept>

#include "core/table.h"

namespace midge {
namespace {

TEST(TextTable, NamesLeftNumbersRightTwoSpacesApart) {
  TextTable t({{"taxon"}, {"n", 4}, {"accuracy"}});
  t.add_row({"Chironomus", "12", "0.917"});
  t.add_row({"Tanypus", "3"});
  EXPECT_EQ(t.str(),
            "taxon          n  accuracy\n"
            "Chironomus    12     0.917\n"
            "Tanypus        3          \n");
  EXPECT_THROW(t.add_row({"a", "b", "c", "d"}), std::invalid_argument);
}

TEST(TextTable, TextColumnsCanBeLeftAligned) {
  TextTable t({{"trial"}, {"id", 4, true}, {"parameters", 0, true}});
  t.add_row({"1", "ab", "stage2.lr=0.001"});
  t.add_row({"10", "abcdef", "x=1"});
  EXPECT_EQ(t.str(),
            "trial  id      parameters\n"
            "1      ab      stage2.lr=0.001\n"
            "10     abcdef  x=1\n");
}

}  // namespace
}  // namespace midge
