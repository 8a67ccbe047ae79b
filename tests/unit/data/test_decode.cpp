#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <opencv2/imgcodecs.hpp>
#include <opencv2/imgproc.hpp>

#include "core/errors.h"
#include "data/decode.h"
#include "data/synth.h"
#include "io/atomic_file.h"
#include "support/temp_dir.h"

namespace midge::data {
namespace {
namespace fs = std::filesystem;
using midge::testing::TempDir;

std::string decode_error(const std::string& path) {
  try {
    decode_image(path);
  } catch (const DataError& e) {
    return e.what();
  }
  return "";
}

std::vector<unsigned char> bytes_of(const std::string& path) {
  std::string s = io::read_file(path);
  return {s.begin(), s.end()};
}

// A real 1024x768 specimen photo-like JPEG from the synthesizer.
std::string synth_jpeg(const TempDir& dir) {
  SynthOptions o;
  o.out = dir.str("s");
  o.taxa = 1;
  o.per_taxon = 1;
  o.width = 1024;
  o.height = 768;
  o.format = "jpg";
  synthesize(o);
  return dir.str("s/Dentimentum_alpha/Dentimentum_alpha_0000.jpg");
}

TEST(Decode, ReductionKeepsEnoughResolutionForTheMode) {
  EXPECT_EQ(choose_reduction(1024, 768, 512, ResizeMode::kPad), 2);
  EXPECT_EQ(choose_reduction(1024, 768, 512, ResizeMode::kCrop), 1);  // 768/2 < 512
  EXPECT_EQ(choose_reduction(1024, 768, 224, ResizeMode::kStretch), 2);
  EXPECT_EQ(choose_reduction(4000, 3000, 224, ResizeMode::kPad), 8);
  EXPECT_EQ(choose_reduction(300, 300, 224, ResizeMode::kPad), 1);
  EXPECT_EQ(choose_reduction(4000, 3000, 0, ResizeMode::kPad), 1);
}

TEST(Decode, LargeJpegIsDecodedAtReducedResolution) {
  TempDir dir;
  const std::string path = synth_jpeg(dir);
  int w = 0;
  int h = 0;
  ASSERT_TRUE(jpeg_dimensions(bytes_of(path), &w, &h));
  EXPECT_EQ(w, 1024);
  EXPECT_EQ(h, 768);
  DecodedImage half = decode_image(path, 512, ResizeMode::kPad);
  EXPECT_EQ(half.reduction, 2);
  EXPECT_EQ(half.source_width, 1024);
  EXPECT_EQ(half.bgr.cols, 512);
  EXPECT_EQ(half.bgr.rows, 384);
  EXPECT_EQ(half.bgr.type(), CV_8UC3);
  DecodedImage full = decode_image(path);
  EXPECT_EQ(full.reduction, 1);
  EXPECT_EQ(full.bgr.cols, 1024);
  // The reduced image is the full one at half size (up to DCT-scaling error).
  cv::Mat shrunk;
  cv::resize(full.bgr, shrunk, half.bgr.size(), 0, 0, cv::INTER_AREA);
  EXPECT_LT(cv::norm(shrunk, half.bgr, cv::NORM_L1) / shrunk.total() / 3, 3.0);
}

TEST(Decode, SixteenBitTiffAndPngAreScaledToEightBits) {
  TempDir dir;
  cv::Mat tiff(20, 30, CV_16UC3, cv::Scalar(65535, 32896, 0));  // 32896 = 128 * 257
  ASSERT_TRUE(cv::imwrite(dir.str("a.tif"), tiff));
  DecodedImage t = decode_image(dir.str("a.tif"));
  ASSERT_EQ(t.bgr.type(), CV_8UC3);
  EXPECT_EQ(t.bgr.at<cv::Vec3b>(5, 5), cv::Vec3b(255, 128, 0));
  cv::Mat grey16(10, 10, CV_16UC1, cv::Scalar(257 * 40));
  ASSERT_TRUE(cv::imwrite(dir.str("g.png"), grey16));
  DecodedImage g = decode_image(dir.str("g.png"));
  ASSERT_EQ(g.bgr.type(), CV_8UC3);
  EXPECT_EQ(g.bgr.at<cv::Vec3b>(0, 0), cv::Vec3b(40, 40, 40));
}

TEST(Decode, RgbaDropsAlphaAndGreyIsReplicated) {
  TempDir dir;
  cv::Mat rgba(12, 12, CV_8UC4, cv::Scalar(10, 20, 30, 0));  // fully transparent
  ASSERT_TRUE(cv::imwrite(dir.str("a.png"), rgba));
  DecodedImage a = decode_image(dir.str("a.png"));
  ASSERT_EQ(a.bgr.type(), CV_8UC3);
  EXPECT_EQ(a.bgr.at<cv::Vec3b>(3, 3), cv::Vec3b(10, 20, 30));
  cv::Mat grey(12, 12, CV_8UC1, cv::Scalar(77));
  ASSERT_TRUE(cv::imwrite(dir.str("g.jpg"), grey));
  ASSERT_TRUE(cv::imwrite(dir.str("g.bmp"), grey));
  for (const char* f : {"g.jpg", "g.bmp"}) {
    DecodedImage g = decode_image(dir.str(f));
    ASSERT_EQ(g.bgr.type(), CV_8UC3) << f;
    const cv::Vec3b p = g.bgr.at<cv::Vec3b>(6, 6);
    EXPECT_EQ(p[0], p[1]) << f;
    EXPECT_EQ(p[1], p[2]) << f;
    EXPECT_NEAR(p[0], 77, 1) << f;
  }
}

TEST(Decode, GarbageTruncatedEmptyAndMissingFilesAreNamedErrors) {
  TempDir dir;
  midge::testing::write_text(dir.path() / "garbage.jpg", std::string(5000, 'x') + "not a jpeg");
  std::string msg = decode_error(dir.str("garbage.jpg"));
  EXPECT_NE(msg.find("cannot decode image " + dir.str("garbage.jpg")), std::string::npos) << msg;
  EXPECT_NE(msg.find("not a readable JPEG, PNG, TIFF or BMP"), std::string::npos) << msg;

  const std::string jpeg = synth_jpeg(dir);
  std::string whole = io::read_file(jpeg);
  midge::testing::write_text(dir.path() / "cut.jpg", whole.substr(0, whole.size() * 6 / 10));
  msg = decode_error(dir.str("cut.jpg"));
  EXPECT_NE(msg.find(dir.str("cut.jpg") + ": truncated JPEG"), std::string::npos) << msg;

  midge::testing::write_text(dir.path() / "empty.png", "");
  EXPECT_NE(decode_error(dir.str("empty.png")).find("empty file"), std::string::npos);
  EXPECT_NE(
      decode_error(dir.str("missing.png")).find("cannot read image " + dir.str("missing.png")),
      std::string::npos);

  // A PNG cut in half.
  cv::Mat img(64, 64, CV_8UC3, cv::Scalar(1, 2, 3));
  cv::randu(img, 0, 255);
  ASSERT_TRUE(cv::imwrite(dir.str("full.png"), img));
  std::string png = io::read_file(dir.str("full.png"));
  midge::testing::write_text(dir.path() / "half.png", png.substr(0, png.size() / 2));
  EXPECT_NE(decode_error(dir.str("half.png")).find("cannot decode image"), std::string::npos);
}

}  // namespace
}  // namespace midge::data
