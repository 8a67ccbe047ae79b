#include <gtest/gtest.h>

#include <filesystem>

#include "core/errors.h"
#include "data/split.h"
#include "io/csv.h"
#include "support/temp_dir.h"

namespace midge::data {
namespace {
namespace fs = std::filesystem;
using midge::testing::TempDir;

ImageSet fake_set(const std::vector<std::pair<std::string, int>>& taxa) {
  ImageSet set;
  set.root = "/data";
  for (const auto& [name, n] : taxa) {
    TaxonFolder t;
    t.name = name;
    for (int i = 0; i < n; ++i) {
      t.images.push_back("/data/" + name + "/" + std::to_string(100 + i) + ".png");
    }
    set.taxa.push_back(t);
  }
  return set;
}

std::vector<std::string> files(const std::vector<Sample>& samples) {
  std::vector<std::string> out;
  for (const auto& s : samples) out.push_back(fs::path(s.path).stem().string());
  return out;
}

TEST(Split, EveryFifthImageGoesToValidation) {
  // Images 100..111: positions 4 and 9 (the fifth and tenth) are validation.
  Split s = split_image_set(fake_set({{"Chironomus", 12}}), 5, 4);
  EXPECT_EQ(files(s.val), (std::vector<std::string>{"104", "109"}));
  EXPECT_EQ(files(s.train), (std::vector<std::string>{"100", "101", "102", "103", "105", "106",
                                                      "107", "108", "110", "111"}));
}

TEST(Split, OffsetAndEveryAreHonoured) {
  Split s = split_image_set(fake_set({{"A", 7}}), 3, 0);
  EXPECT_EQ(files(s.val), (std::vector<std::string>{"100", "103", "106"}));
  EXPECT_EQ(s.train.size(), 4U);
  for (std::size_t i = 0; i < 12; ++i) {
    EXPECT_EQ(is_validation_index(i, 5, 4), i == 4 || i == 9) << i;
  }
  EXPECT_THROW(split_image_set(fake_set({{"A", 7}}), 5, 5), UsageError);
  EXPECT_THROW(split_image_set(fake_set({{"A", 7}}), 1, 0), UsageError);
}

TEST(Split, IsPerTaxonWithLabelsInSortedTaxonOrder) {
  Split s = split_image_set(fake_set({{"Chironomus", 10}, {"Tanypus", 4}}), 5, 4);
  EXPECT_EQ(s.classes, (std::vector<std::string>{"Chironomus", "Tanypus"}));
  ASSERT_EQ(s.val.size(), 2U);  // 104 and 109 of Chironomus; Tanypus has only 4
  EXPECT_EQ(s.val[0].label, 0);
  EXPECT_EQ(s.val[1].label, 0);
  EXPECT_EQ(s.train.size(), 12U);
  EXPECT_EQ(s.train.back().label, 1);
  const std::string table = format_split_table(s);
  EXPECT_NE(table.find("Chironomus           8       2      10"), std::string::npos) << table;
  EXPECT_NE(table.find("Tanypus              4       0       4"), std::string::npos) << table;
  EXPECT_NE(table.find("total (2 taxa)      12       2      14"), std::string::npos) << table;
}

TEST(Split, HeldOutTaxaLeaveTrainingAndValidationAndTheRestAreRenumbered) {
  const Split all = split_image_set(fake_set({{"a", 5}, {"b", 10}, {"c", 5}, {"d", 5}}), 5, 4);
  const Split s = hold_out_taxa(all, " d, b ,b");
  EXPECT_EQ(s.classes, (std::vector<std::string>{"a", "c"}));
  EXPECT_EQ(s.holdout_classes, (std::vector<std::string>{"b", "d"}));
  ASSERT_EQ(s.train.size(), 8U);
  ASSERT_EQ(s.val.size(), 2U);
  EXPECT_EQ(s.val[1].path, "/data/c/104.png");
  EXPECT_EQ(s.val[1].label, 1);  // c was 2
  // Every image of b (train and val) then of d, labelled by holdout_classes.
  ASSERT_EQ(s.holdout.size(), 15U);
  EXPECT_EQ(s.holdout[0].path, "/data/b/100.png");
  EXPECT_EQ(s.holdout[0].label, 0);
  EXPECT_EQ(s.holdout[14].label, 1);
  EXPECT_EQ(hold_out_taxa(all, "").classes.size(), 4U);
  try {
    hold_out_taxa(all, "a,e");
    FAIL() << "an unknown taxon was accepted";
  } catch (const ConfigError& e) {
    EXPECT_NE(std::string(e.what()).find("'e' is not a taxon"), std::string::npos) << e.what();
  }
  EXPECT_THROW(hold_out_taxa(all, "a,b,c"), ConfigError);  // one taxon left
}

TEST(Split, ManifestRoundTripsAndResolvesRelativePaths) {
  TempDir dir;
  Split s = split_image_set(fake_set({{"A", 6}, {"B, with comma", 5}}), 5, 4);
  write_manifest(s, dir.str("m.csv"));
  Split back = read_manifest(dir.str("m.csv"));
  EXPECT_EQ(back.classes, s.classes);
  ASSERT_EQ(back.train.size(), s.train.size());
  ASSERT_EQ(back.val.size(), s.val.size());
  for (std::size_t i = 0; i < s.val.size(); ++i) {
    EXPECT_EQ(back.val[i].path, s.val[i].path);
    EXPECT_EQ(back.val[i].label, s.val[i].label);
  }
  midge::testing::write_text(dir.path() / "rel.csv",
                             "path,taxon,split\nA/1.png,A,train\nA/2.png,A,val\n");
  Split rel = read_manifest(dir.str("rel.csv"));
  EXPECT_EQ(rel.train[0].path, (dir.path() / "A/1.png").string());
}

TEST(Split, BadManifestsAreNamed) {
  TempDir dir;
  midge::testing::write_text(dir.path() / "bad.csv", "path,taxon,split\nA/1.png,A,test\n");
  try {
    read_manifest(dir.str("bad.csv"));
    FAIL();
  } catch (const DataError& e) {
    EXPECT_NE(std::string(e.what()).find("bad.csv: row 2: split must be train or val, got 'test'"),
              std::string::npos)
        << e.what();
  }
  midge::testing::write_text(dir.path() / "noval.csv", "path,taxon,split\nA/1.png,A,train\n");
  EXPECT_THROW(read_manifest(dir.str("noval.csv")), DataError);
}

}  // namespace
}  // namespace midge::data

namespace midge::data {
namespace {

// What rank 0 broadcasts (train/trainer.cpp): every byte of every path
// and name comes back, in order, and a damaged string is refused.
TEST(SplitEncoding, RoundTripsAnyBytesAndRefusesDamage) {
  Split s;
  s.classes = {"Chironomus", "Tany:tarsus 2", ""};
  s.train = {{"/d/a b/1:2.png", 0}, {std::string("/d/\n\t\0x.png", 11), 2}};
  s.val = {{"/d/v.png", 1}};
  s.holdout_classes = {"Other"};
  s.holdout = {{"/d/o/9.tif", 0}, {"/d/o/10.tif", 0}};
  const std::string text = encode_split(s);
  const Split back = decode_split(text);
  EXPECT_EQ(back.classes, s.classes);
  ASSERT_EQ(back.train.size(), 2U);
  EXPECT_EQ(back.train[1].path, s.train[1].path);
  EXPECT_EQ(back.train[1].label, 2);
  EXPECT_EQ(back.train[0].path, "/d/a b/1:2.png");
  ASSERT_EQ(back.val.size(), 1U);
  EXPECT_EQ(back.val[0].label, 1);
  EXPECT_EQ(back.holdout_classes, s.holdout_classes);
  ASSERT_EQ(back.holdout.size(), 2U);
  EXPECT_EQ(back.holdout[1].path, "/d/o/10.tif");
  EXPECT_EQ(decode_split(encode_split(Split{})).train.size(), 0U);
  EXPECT_THROW(decode_split(text.substr(0, text.size() - 3)), DataError);
  EXPECT_THROW(decode_split(text + "x"), DataError);
  EXPECT_THROW(decode_split("garbage"), DataError);
}

}  // namespace
}  // namespace midge::data
