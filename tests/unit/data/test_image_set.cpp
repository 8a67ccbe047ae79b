#include <gtest/gtest.h>

#include <filesystem>

#include "core/errors.h"
#include "data/image_set.h"
#include "support/temp_dir.h"

namespace midge::data {
namespace {
namespace fs = std::filesystem;
using midge::testing::TempDir;
using midge::testing::write_png;
using midge::testing::write_text;

std::string data_error(const std::string& root) {
  try {
    scan_image_set(root);
  } catch (const DataError& e) {
    return e.what();
  }
  return "";
}

std::vector<std::string> names(const std::vector<std::string>& paths) {
  std::vector<std::string> out;
  for (const auto& p : paths) out.push_back(fs::path(p).filename().string());
  return out;
}

TEST(ImageSet, ExtensionsInAnyCase) {
  for (const char* ok : {"a.jpg", "a.JPEG", "b.Png", "c.tif", "d.TIFF", "e.bmp"}) {
    EXPECT_TRUE(has_image_extension(ok)) << ok;
  }
  for (const char* no : {"notes.txt", "a.jpg.bak", "README", "x.gif", "jpg"}) {
    EXPECT_FALSE(has_image_extension(no)) << no;
  }
}

TEST(ImageSet, TaxaAndFilesAreSortedBytewiseAndNonImagesCounted) {
  TempDir dir;
  for (const char* f : {"img10.png", "img2.png", "B.png", "a.PNG", "_x.jpg"}) {
    write_png(dir.path() / "Tanypus" / f);
  }
  write_png(dir.path() / "Chironomus" / "only.png");
  write_text(dir.path() / "Chironomus" / "notes.txt", "field notes");
  write_text(dir.path() / "Chironomus" / ".DS_Store", "");
  fs::create_directories(dir.path() / ".hidden_taxon");
  write_text(dir.path() / "regions.csv", "root files are not taxa\n");

  ImageSet set = scan_image_set(dir.str());
  ASSERT_EQ(set.taxa.size(), 2U);
  EXPECT_EQ(set.taxa[0].name, "Chironomus");
  EXPECT_EQ(set.taxa[1].name, "Tanypus");
  // Bytewise: upper case before '_' before lower case; "img10" before "img2".
  EXPECT_EQ(names(set.taxa[1].images),
            (std::vector<std::string>{"B.png", "_x.jpg", "a.PNG", "img10.png", "img2.png"}));
  EXPECT_EQ(names(set.taxa[0].ignored), (std::vector<std::string>{"notes.txt"}));
  EXPECT_EQ(set.image_count(), 6U);
  EXPECT_EQ(set.ignored_count(), 1U);
}

TEST(ImageSet, BadRootsAndEmptyTaxaAreErrorsNamingThePath) {
  TempDir dir;
  EXPECT_NE(data_error(dir.str("missing")).find("image folder not found: " + dir.str("missing")),
            std::string::npos);
  EXPECT_NE(data_error(dir.str()).find("no taxon folders in " + dir.str()), std::string::npos);
  write_png(dir.path() / "Chironomus" / "a.png");
  fs::create_directories(dir.path() / "Procladius");
  std::string msg = data_error(dir.str());
  EXPECT_NE(msg.find("taxon folder without images: " + dir.str("Procladius") + " (empty)"),
            std::string::npos)
      << msg;
  write_text(dir.path() / "Procladius" / "readme.txt", "x");
  msg = data_error(dir.str());
  EXPECT_NE(msg.find("(1 non-image files)"), std::string::npos) << msg;
}

}  // namespace
}  // namespace midge::data
