// The decoded-image cache (data/image_cache.h): entries equal to decoding
// afresh, hits without decoding, a changed file decoded again, part files
// shared between caches (as between processes), a bad part ignored, and a
// loader with a cache producing bitwise the batches of one without.
#include <gtest/gtest.h>

#include <filesystem>
#include <opencv2/imgcodecs.hpp>

#include "data/decode.h"
#include "data/image_cache.h"
#include "data/loader.h"
#include "support/synth_images.h"
#include "support/temp_dir.h"

namespace midge::data {
namespace {
namespace fs = std::filesystem;
using midge::testing::TempDir;

ImageSpec spec32() {
  ImageSpec s;
  s.size = 32;
  return s;
}

std::vector<Sample> make_images(const TempDir& dir, int per_taxon) {
  return midge::testing::synth_jpeg_samples(dir.str("data"), 2, per_taxon, 90, 60);
}

bool same_pixels(const cv::Mat& a, const cv::Mat& b) {
  return a.size() == b.size() && a.type() == b.type() && cv::norm(a, b, cv::NORM_INF) == 0;
}

cv::Mat fresh(const std::string& path, const ImageSpec& spec) {
  return shape_image(decode_image(path, spec.size, spec.resize).bgr, spec);
}

TEST(ImageCache, EntriesEqualDecodingAndAreServedWithoutDecodingAgain) {
  TempDir dir;
  const auto images = make_images(dir, 3);
  ImageCache cache(spec32(), CacheMode::kMemory, "");
  cache.begin_run();
  for (const auto& s : images)
    EXPECT_TRUE(same_pixels(cache.shaped(s.path), fresh(s.path, spec32())));
  EXPECT_EQ(cache.stats().decoded, static_cast<std::int64_t>(images.size()));
  for (const auto& s : images) cache.shaped(s.path);
  EXPECT_EQ(cache.stats().hits, static_cast<std::int64_t>(images.size()));
  // A new run checks the files again but decodes nothing unchanged.
  cache.begin_run();
  for (const auto& s : images) cache.shaped(s.path);
  EXPECT_EQ(cache.stats().decoded, 0);
  EXPECT_EQ(cache.stats().hits, static_cast<std::int64_t>(images.size()));
  EXPECT_EQ(cache.save(), 0U);  // memory mode writes nothing
}

TEST(ImageCache, AChangedImageIsDecodedAgainInTheNextRun) {
  TempDir dir;
  const auto images = make_images(dir, 3);
  ImageCache cache(spec32(), CacheMode::kMemory, "");
  cache.begin_run();
  const cv::Mat before = cache.shaped(images[0].path).clone();
  // Another picture under the same name.
  fs::copy_file(images[1].path, images[0].path, fs::copy_options::overwrite_existing);
  cache.begin_run();
  const cv::Mat after = cache.shaped(images[0].path);
  EXPECT_EQ(cache.stats().decoded, 1);
  EXPECT_FALSE(same_pixels(before, after));
  EXPECT_TRUE(same_pixels(after, fresh(images[1].path, spec32())));
}

TEST(ImageCache, PartFilesCarryEntriesToAnotherCacheAndABadPartIsIgnored) {
  TempDir dir;
  const auto images = make_images(dir, 3);
  const std::string store = dir.str("cache");
  {
    ImageCache writer(spec32(), CacheMode::kFile, store);
    writer.begin_run();
    for (const auto& s : images) writer.shaped(s.path);
    EXPECT_EQ(writer.save(), images.size());
    EXPECT_EQ(writer.save(), 0U);  // nothing new since
  }
  std::size_t parts = 0;
  for (const auto& f : fs::recursive_directory_iterator(store))
    parts += f.is_regular_file() ? 1 : 0;
  EXPECT_EQ(parts, 1U);
  // A part that is not HDF5 next to it.
  ImageCache probe(spec32(), CacheMode::kFile, store);
  testing::write_text(fs::path(probe.folder()) / "part-broken.h5", "not hdf5");
  ImageCache reader(spec32(), CacheMode::kFile, store);
  reader.begin_run();
  EXPECT_EQ(reader.stats().loaded, static_cast<std::int64_t>(images.size()));
  for (const auto& s : images) {
    EXPECT_TRUE(same_pixels(reader.shaped(s.path), fresh(s.path, spec32()))) << s.path;
  }
  EXPECT_EQ(reader.stats().decoded, 0);
  // Another shape (size) has its own folder: nothing to load there.
  ImageSpec other = spec32();
  other.size = 24;
  ImageCache elsewhere(other, CacheMode::kFile, store);
  elsewhere.begin_run();
  EXPECT_EQ(elsewhere.stats().loaded, 0);
  EXPECT_NE(elsewhere.folder(), reader.folder());
}

TEST(ImageCache, OfTwoPartsWithOtherContentForAPathTheFilesCurrentOneServes) {
  TempDir dir;
  const auto images = make_images(dir, 3);
  const std::string store = dir.str("cache");
  const std::string& path = images[0].path;
  {
    ImageCache before(spec32(), CacheMode::kFile, store);
    before.begin_run();
    before.shaped(path);
    ASSERT_EQ(before.save(), 1U);
  }
  fs::copy_file(images[1].path, path, fs::copy_options::overwrite_existing);
  {
    ImageCache after(spec32(), CacheMode::kFile, store);
    after.begin_run();
    after.shaped(path);
    EXPECT_EQ(after.stats().decoded, 1);  // the part held the old picture
    ASSERT_EQ(after.save(), 1U);
  }
  // Both parts hold the path; whichever is read first, the file's current
  // content is found without decoding.
  ImageCache reader(spec32(), CacheMode::kFile, store);
  reader.begin_run();
  EXPECT_EQ(reader.stats().loaded, 2);
  EXPECT_TRUE(same_pixels(reader.shaped(path), fresh(images[1].path, spec32())));
  EXPECT_EQ(reader.stats().decoded, 0);
}

TEST(ImageCache, LoaderBatchesWithACacheEqualThoseWithout) {
  TempDir dir;
  const auto images = make_images(dir, 6);
  LoaderOptions o;
  o.spec = spec32();
  o.augment.rotate_deg = 15;
  o.augment.scale = 0.1;
  o.augment.hflip = true;
  o.augment.elastic_alpha = 1.5;
  o.augment.elastic_sigma = 4;
  o.batch_size = 4;
  o.workers = 2;
  o.seed = 11;
  Loader plain(images, 2, o);
  o.cache = std::make_shared<ImageCache>(spec32(), CacheMode::kMemory, "");
  o.cache->begin_run();
  Loader cached(images, 2, o);
  for (std::int64_t epoch = 0; epoch < 2; ++epoch) {
    plain.start_epoch(epoch);
    cached.start_epoch(epoch);
    Batch a;
    Batch b;
    while (plain.next(&a)) {
      ASSERT_TRUE(cached.next(&b));
      ASSERT_EQ(a.samples, b.samples);
      const std::size_t n = static_cast<std::size_t>(a.size) * 3 * 32 * 32;
      EXPECT_TRUE(std::equal(a.images.get(), a.images.get() + n, b.images.get()))
          << "epoch " << epoch << " batch " << a.index;
    }
    EXPECT_FALSE(cached.next(&b));
  }
  // The second epoch came from the cache.
  EXPECT_GE(o.cache->stats().hits, static_cast<std::int64_t>(plain.samples_per_epoch()));
}

}  // namespace
}  // namespace midge::data
