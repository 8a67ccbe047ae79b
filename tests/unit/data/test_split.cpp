#include <gtest/gtest.h>

#include <filesystem>
#include <set>

#include "core/errors.h"
#include "data/specimens.h"
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

// Specimens (issue #28): 3 views of each of `n` specimens per taxon, named
// <specimen>_v<view>.png, specimens named by the pattern.
ImageSet specimen_set(const std::vector<std::pair<std::string, int>>& taxa) {
  ImageSet set;
  set.root = "/data";
  for (const auto& [name, n] : taxa) {
    TaxonFolder t;
    t.name = name;
    for (int i = 0; i < n; ++i) {
      for (int v = 0; v < 3; ++v) {
        t.images.push_back("/data/" + name + "/" + std::to_string(200 + i) + "_v" +
                           std::to_string(v) + ".png");
      }
    }
    set.taxa.push_back(t);
  }
  name_specimens(&set, SpecimenPattern("^([0-9]+)_v"));
  return set;
}

std::set<std::string> specimens_of(const std::vector<Sample>& samples) {
  std::set<std::string> out;
  for (const auto& s : samples) out.insert(s.specimen);
  return out;
}

TEST(Specimens, PatternNamesTheSpecimenWithinItsFolder) {
  const SpecimenPattern groups("^([0-9]+)_v");
  EXPECT_EQ(groups.specimen_of("/d/Tanypus/0042_v3.png"), "Tanypus/0042");
  const SpecimenPattern whole("[a-z]+[0-9]");
  EXPECT_EQ(whole.specimen_of("/d/A/XX_abc7_left.png"), "A/abc7");
  EXPECT_TRUE(SpecimenPattern("").empty());
  EXPECT_EQ(SpecimenPattern("").specimen_of("/d/A/1.png"), "");
  try {
    (void)groups.specimen_of("/d/A/left.png");
    FAIL() << "a file the pattern does not match has an unknown specimen";
  } catch (const DataError& e) {
    EXPECT_NE(std::string(e.what()).find("/d/A/left.png"), std::string::npos) << e.what();
    EXPECT_NE(std::string(e.what()).find("^([0-9]+)_v"), std::string::npos) << e.what();
  }
  try {
    SpecimenPattern bad("([0-9");
    FAIL() << "an invalid regular expression is refused";
  } catch (const ConfigError& e) {
    EXPECT_NE(std::string(e.what()).find("data.specimen_pattern"), std::string::npos) << e.what();
  }
  EXPECT_THROW(SpecimenPattern("x*").specimen_of("/d/A/1.png"), DataError);  // empty match
}

TEST(Specimens, SplitCountsSpecimensAndKeepsTheirImagesTogether) {
  // 12 specimens x 3 views: specimens 204 and 209 (the fifth and tenth) go
  // to validation with all their views.
  const Split s = split_image_set(specimen_set({{"A", 12}, {"B", 4}}), 5, 4);
  EXPECT_EQ(specimens_of(s.val), (std::set<std::string>{"A/204", "A/209"}));
  EXPECT_EQ(s.val.size(), 6U);
  EXPECT_EQ(s.train.size(), 10U * 3U + 4U * 3U);  // B's 4 specimens: all training
  for (const auto& v : specimens_of(s.val)) EXPECT_EQ(specimens_of(s.train).count(v), 0U) << v;
  EXPECT_TRUE(has_specimens(s));
  // Check of such a split passes; image by image the views are split apart.
  EXPECT_NO_THROW(check_split_unit(s, SplitUnit::kSpecimen, "x"));
  const Split by_image = split_image_set(specimen_set({{"A", 12}}), 5, 4, SplitUnit::kImage);
  EXPECT_EQ(by_image.val.size(), 7U);  // images 4, 9, ..., 34 of 36
  EXPECT_THROW(check_split_unit(by_image, SplitUnit::kSpecimen, "x"), DataError);
  EXPECT_THROW(split_image_set(specimen_set({{"A", 12}}), 5, 4, SplitUnit::kGroup), ConfigError);
  // Specimens unknown: the specimen unit is the image unit.
  const Split plain = split_image_set(fake_set({{"A", 12}}), 5, 4);
  EXPECT_EQ(files(plain.val), (std::vector<std::string>{"104", "109"}));
  EXPECT_FALSE(has_specimens(plain));
}

TEST(Specimens, ManifestColumnsInAnyOrderAndTheUnitIsChecked) {
  TempDir dir;
  midge::testing::write_text(dir.path() / "m.csv",
                             "specimen,path,split,taxon,group\n"
                             "s1,A/1.png,train,A,pond\n"
                             "s1,A/2.png,val,A,pond\n"
                             "s2,B/3.png,train,B,lake\n"
                             "s3,B/4.png,val,B,river\n");
  const Split s = read_manifest(dir.str("m.csv"));
  ASSERT_EQ(s.train.size(), 2U);
  EXPECT_EQ(s.train[0].specimen, "s1");
  EXPECT_EQ(s.train[0].group, "pond");
  EXPECT_EQ(s.train[1].label, 1);
  try {
    check_split_unit(s, SplitUnit::kSpecimen, "m.csv");
    FAIL() << "specimen s1 on both sides is refused";
  } catch (const DataError& e) {
    const std::string what = e.what();
    EXPECT_NE(what.find("m.csv"), std::string::npos) << what;
    EXPECT_NE(what.find("'s1'"), std::string::npos) << what;
    EXPECT_NE(what.find("data.split_unit = image"), std::string::npos) << what;
  }
  EXPECT_NO_THROW(check_split_unit(s, SplitUnit::kImage, "m.csv"));          // on purpose
  EXPECT_THROW(check_split_unit(s, SplitUnit::kGroup, "m.csv"), DataError);  // pond
  // Written back with both columns, read back the same.
  write_manifest(s, dir.str("back.csv"));
  const Split back = read_manifest(dir.str("back.csv"));
  EXPECT_EQ(back.val[1].specimen, "s3");
  EXPECT_EQ(back.val[1].group, "river");

  midge::testing::write_text(dir.path() / "two_taxa.csv",
                             "path,taxon,split,specimen\nA/1.png,A,train,s1\nB/2.png,B,val,s1\n");
  try {
    check_split_unit(read_manifest(dir.str("two_taxa.csv")), SplitUnit::kImage, "two_taxa.csv");
    FAIL() << "one specimen under two taxa is refused";
  } catch (const DataError& e) {
    EXPECT_NE(std::string(e.what()).find("'s1' has images of two taxa"), std::string::npos)
        << e.what();
  }
  midge::testing::write_text(dir.path() / "nogroup.csv",
                             "path,taxon,split\nA/1.png,A,train\nA/2.png,A,val\n");
  EXPECT_THROW(check_split_unit(read_manifest(dir.str("nogroup.csv")), SplitUnit::kGroup, "n"),
               ConfigError);
  midge::testing::write_text(dir.path() / "unknown.csv",
                             "path,taxon,split,site\nA/1.png,A,train,x\nA/2.png,A,val,y\n");
  try {
    (void)read_manifest(dir.str("unknown.csv"));
    FAIL() << "an unknown column is refused";
  } catch (const DataError& e) {
    EXPECT_NE(std::string(e.what()).find("'site'"), std::string::npos) << e.what();
  }
  midge::testing::write_text(dir.path() / "nosplit.csv", "path,taxon\nA/1.png,A\n");
  EXPECT_THROW(read_manifest(dir.str("nosplit.csv")), DataError);
}

// What rank 0 broadcasts (train/trainer.cpp): every byte of every path
// and name comes back, in order, and a damaged string is refused.
TEST(SplitEncoding, RoundTripsAnyBytesAndRefusesDamage) {
  Split s;
  s.classes = {"Chironomus", "Tany:tarsus 2", ""};
  s.train = {{"/d/a b/1:2.png", 0, "s:1", ""}, {std::string("/d/\n\t\0x.png", 11), 2, "", "g 2"}};
  s.val = {{"/d/v.png", 1, "", ""}};
  s.holdout_classes = {"Other"};
  s.holdout = {{"/d/o/9.tif", 0, "", ""}, {"/d/o/10.tif", 0, "o/10", "site,3"}};
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
  EXPECT_EQ(back.train[0].specimen, "s:1");
  EXPECT_EQ(back.train[1].group, "g 2");
  EXPECT_EQ(back.holdout[1].specimen, "o/10");
  EXPECT_EQ(back.holdout[1].group, "site,3");
  EXPECT_EQ(decode_split(encode_split(Split{})).train.size(), 0U);
  EXPECT_THROW(decode_split(text.substr(0, text.size() - 3)), DataError);
  EXPECT_THROW(decode_split(text + "x"), DataError);
  EXPECT_THROW(decode_split("garbage"), DataError);
}

TEST(Specimens, ATableNamesEachImagesSpecimenByResolvedPath) {
  TempDir dir;
  fs::create_directories(dir.path() / "tab");
  // Relative to the table's folder; other columns (a manifest's) ignored;
  // a blank cell makes the image its own specimen.
  testing::write_text(dir.path() / "tab" / "t.csv",
                      "taxon,path,specimen,split\n"
                      "a,../img/a1.png,a/1,train\n"
                      "a,../img/a2.png,a/1,val\n"
                      "b,../img/b1.png,,val\n");
  const SpecimenTable table((dir.path() / "tab" / "t.csv").string());
  EXPECT_EQ(table.specimen_of(dir.str("img/a1.png")), "a/1");
  EXPECT_EQ(table.specimen_of(dir.str("img/./a2.png")), "a/1");
  EXPECT_EQ(table.specimen_of(dir.str("img/b1.png")),
            (dir.path() / "tab" / ".." / "img" / "b1.png").string());
  try {
    (void)table.specimen_of(dir.str("img/c1.png"));
    FAIL() << "an image the table does not list";
  } catch (const DataError& e) {
    EXPECT_NE(std::string(e.what()).find("c1.png: not listed in the specimen table"),
              std::string::npos)
        << e.what();
  }
}

TEST(Specimens, ATableWithoutItsColumnsOrWithAPathTwiceIsRefused) {
  TempDir dir;
  testing::write_text(dir.path() / "no.csv", "path,taxon\nx.png,a\n");
  EXPECT_THROW(SpecimenTable(dir.str("no.csv")), DataError);
  testing::write_text(dir.path() / "twice.csv", "path,specimen\nx.png,1\n./x.png,2\n");
  EXPECT_THROW(SpecimenTable(dir.str("twice.csv")), DataError);
}

}  // namespace
}  // namespace midge::data
