#include <gtest/gtest.h>

#include <cmath>
#include <filesystem>
#include <opencv2/imgcodecs.hpp>
#include <set>

#include "core/errors.h"
#include "core/random.h"
#include "data/image_set.h"
#include "data/specimens.h"
#include "data/split.h"
#include "data/synth.h"
#include "io/atomic_file.h"
#include "io/csv.h"
#include "support/temp_dir.h"

namespace midge::data {
namespace {
namespace fs = std::filesystem;
using midge::testing::TempDir;

SynthOptions small(const std::string& out) {
  SynthOptions o;
  o.out = out;
  o.taxa = 5;
  o.per_taxon = 6;
  o.width = 96;
  o.height = 96;
  o.seed = 11;
  return o;
}

std::vector<fs::path> all_files(const fs::path& root) {
  std::vector<fs::path> out;
  for (const auto& e : fs::recursive_directory_iterator(root)) {
    if (e.is_regular_file()) out.push_back(fs::relative(e.path(), root));
  }
  std::sort(out.begin(), out.end());
  return out;
}

TEST(Synth, SameSeedGivesByteIdenticalFilesWhateverTheThreadCount) {
  TempDir dir;
  SynthOptions a = small(dir.str("a"));
  a.threads = 1;
  SynthOptions b = small(dir.str("b"));
  b.threads = 3;
  synthesize(a);
  synthesize(b);
  const auto files = all_files(a.out);
  ASSERT_EQ(files, all_files(b.out));
  EXPECT_EQ(files.size(), 5U * 6U + 2U);  // images + regions.csv + taxonomy.csv
  for (const auto& f : files) {
    EXPECT_EQ(io::read_file(fs::path(a.out) / f), io::read_file(fs::path(b.out) / f)) << f;
  }
  SynthOptions c = small(dir.str("c"));
  c.seed = 12;
  synthesize(c);
  EXPECT_NE(io::read_file(fs::path(a.out) / files[0]), io::read_file(fs::path(c.out) / files[0]));
}

TEST(Synth, WritesDecodableImagesATaxonomyAndRegionsInsideTheImage) {
  TempDir dir;
  SynthOptions o = small(dir.str());
  o.width = 120;
  o.height = 80;
  o.format = "jpg";
  synthesize(o);
  ImageSet set = scan_image_set(o.out);
  ASSERT_EQ(set.taxa.size(), 5U);
  for (const auto& t : set.taxa) EXPECT_EQ(t.images.size(), 6U);
  cv::Mat img = cv::imread(set.taxa[0].images[0], cv::IMREAD_UNCHANGED);
  ASSERT_FALSE(img.empty());
  EXPECT_EQ(img.cols, 120);
  EXPECT_EQ(img.rows, 80);
  EXPECT_EQ(img.channels(), 3);

  auto regions = io::read_csv(o.out + "/regions.csv",
                              {"path", "taxon", "x0", "y0", "x1", "y1", "width", "height"});
  ASSERT_EQ(regions.size(), 30U);
  for (const auto& r : regions) {
    EXPECT_TRUE(fs::exists(fs::path(o.out) / r[0])) << r[0];
    EXPECT_EQ(fs::path(r[0]).parent_path().string(), r[1]);
    const int x0 = std::stoi(r[2]);
    const int y0 = std::stoi(r[3]);
    const int x1 = std::stoi(r[4]);
    const int y1 = std::stoi(r[5]);
    EXPECT_LE(0, x0);
    EXPECT_LT(x0, x1);
    EXPECT_LE(x1, 120);
    EXPECT_LE(0, y0);
    EXPECT_LT(y0, y1);
    EXPECT_LE(y1, 80);
    // Small and localized: a few percent of the image, not the whole specimen.
    EXPECT_LT((x1 - x0) * (y1 - y0), 120 * 80 / 10) << r[0];
  }
  auto taxonomy = io::read_csv(o.out + "/taxonomy.csv", {"species", "genus", "subfamily"});
  ASSERT_EQ(taxonomy.size(), 5U);
  // The first five taxa are five genera; taxon 5 is a second species of
  // taxon 0's genus (same shape family, another count).
  std::set<std::string> genera;
  for (const auto& row : taxonomy) genera.insert(row[1]);
  EXPECT_EQ(genera.size(), 5U);
  EXPECT_EQ(synth_taxon(0).genus, synth_taxon(5).genus);
  EXPECT_NE(synth_taxon(0).species, synth_taxon(5).species);
  EXPECT_NE(synth_taxon(0).count, synth_taxon(5).count);
}

// The taxon must be identifiable only from the structure: rendering two
// taxa from the same image seed changes pixels near the structure only.
TEST(Synth, TaxaDifferOnlyAtTheirStructure) {
  const int size = 128;
  const int margin = 4;  // blur spreads the structure by up to ~3 sigma
  for (std::uint64_t seed = 0; seed < 10; ++seed) {
    const std::uint64_t s = derive_seed(99, {seed});
    for (int k = 1; k < kMaxSynthTaxa; k += 3) {
      SynthImage a = render_specimen(0, s, size, size);
      SynthImage b = render_specimen(k, s, size, size);
      const int x0 = std::min(a.x0, b.x0) - margin;
      const int y0 = std::min(a.y0, b.y0) - margin;
      const int x1 = std::max(a.x1, b.x1) + margin;
      const int y1 = std::max(a.y1, b.y1) + margin;
      int differ_inside = 0;
      int differ_outside = 0;
      for (int y = 0; y < size; ++y) {
        for (int x = 0; x < size; ++x) {
          const std::size_t i = (static_cast<std::size_t>(y) * size + x) * 3;
          const bool diff =
              a.bgr[i] != b.bgr[i] || a.bgr[i + 1] != b.bgr[i + 1] || a.bgr[i + 2] != b.bgr[i + 2];
          const bool inside = x >= x0 && x < x1 && y >= y0 && y < y1;
          (inside ? differ_inside : differ_outside) += diff ? 1 : 0;
        }
      }
      EXPECT_EQ(differ_outside, 0) << "seed " << seed << " taxon " << k;
      EXPECT_GT(differ_inside, 10) << "seed " << seed << " taxon " << k;
    }
  }
}

// Nuisance (pose, colour, brightness) is drawn independently of the taxon:
// the per-taxon mean brightness agrees within sampling error.
TEST(Synth, NuisanceDoesNotDependOnTheTaxon) {
  const int n = 40;
  const int size = 64;
  std::vector<double> means;
  double pooled_var = 0;
  for (int k = 0; k < 5; ++k) {
    double sum = 0;
    double sum2 = 0;
    for (int i = 0; i < n; ++i) {
      SynthImage img = render_specimen(
          k, derive_seed(5, {static_cast<std::uint64_t>(k), static_cast<std::uint64_t>(i)}), size,
          size);
      double m = 0;
      for (unsigned char v : img.bgr) m += v;
      m /= static_cast<double>(img.bgr.size());
      sum += m;
      sum2 += m * m;
    }
    means.push_back(sum / n);
    pooled_var += (sum2 / n - (sum / n) * (sum / n)) / 5;
  }
  const double se = std::sqrt(pooled_var / n);
  for (double m : means) EXPECT_LT(std::abs(m - means[0]), 5 * se) << "se " << se;
}

TEST(Synth, ViewsPhotographEachSpecimenSeveralTimes) {
  TempDir dir;
  SynthOptions o = small(dir.str("v"));
  o.taxa = 2;
  o.per_taxon = 3;
  o.views = 4;
  o.marks = true;
  EXPECT_EQ(synthesize(o).images, 2U * 3U * 4U);
  ImageSet set = scan_image_set(o.out);
  ASSERT_EQ(set.taxa[0].images.size(), 12U);
  EXPECT_EQ(fs::path(set.taxa[0].images[5]).filename().string(), "Dentimentum_alpha_0001_v1.png");
  name_specimens(&set, SpecimenPattern("_([0-9]+)_v"));
  EXPECT_EQ(set.taxa[0].specimens[5], "Dentimentum_alpha/0001");
  // Every view is a photograph of its own (pose, mount, lighting).
  std::set<std::string> contents;
  for (const auto& path : set.taxa[0].images) contents.insert(io::read_file(path));
  EXPECT_EQ(contents.size(), 12U);
  // Deterministic with views too: another run, on one thread, writes the
  // same bytes.
  SynthOptions again = o;
  again.out = dir.str("again");
  again.threads = 1;
  synthesize(again);
  EXPECT_EQ(io::read_file(set.taxa[1].images[7]),
            io::read_file(fs::path(again.out) / fs::relative(set.taxa[1].images[7], o.out)));
  o.views = 0;
  EXPECT_THROW(synthesize(o), UsageError);
}

TEST(Synth, RejectsBadOptions) {
  TempDir dir;
  SynthOptions o = small(dir.str());
  o.taxa = kMaxSynthTaxa + 1;
  EXPECT_THROW(synthesize(o), UsageError);
  o = small(dir.str());
  o.format = "gif";
  EXPECT_THROW(synthesize(o), UsageError);
  o = small("");
  EXPECT_THROW(synthesize(o), UsageError);
}

TEST(Synth, SplitOfFortyPerTaxonIsThirtyTwoToEight) {
  TempDir dir;
  SynthOptions o = small(dir.str());
  o.per_taxon = 40;
  o.width = o.height = 32;
  synthesize(o);
  Split s = split_image_set(scan_image_set(o.out), 5, 4);
  EXPECT_EQ(s.train.size(), 5U * 32U);
  EXPECT_EQ(s.val.size(), 5U * 8U);
}

}  // namespace
}  // namespace midge::data
