#include <gtest/gtest.h>

#include <cmath>
#include <opencv2/core.hpp>

#include "core/config.h"
#include "data/transform.h"

namespace midge::data {
namespace {

ImageSpec spec_of(int size, ResizeMode mode = ResizeMode::kPad) {
  ImageSpec s;
  s.size = size;
  s.resize = mode;
  return s;
}

cv::Mat random_image(int w, int h, int seed) {
  cv::Mat img(h, w, CV_8UC3);
  cv::RNG rng(static_cast<std::uint64_t>(seed));
  rng.fill(img, cv::RNG::UNIFORM, 0, 256);
  return img;
}

std::vector<float> render(const cv::Mat& img, const ImageSpec& spec, const AugmentDraw* d) {
  std::vector<float> out(3U * spec.size * spec.size);
  render_sample(img, spec, d, out.data());
  return out;
}

AugmentConfig all_off() {
  AugmentConfig a;  // every member zero / false
  return a;
}

TEST(Transform, SameSizeWithoutAugmentationIsExactNormalization) {
  const ImageSpec spec = spec_of(16);
  cv::Mat img = random_image(16, 16, 1);
  auto out = render(img, spec, nullptr);
  const std::size_t plane = 16U * 16U;
  for (int y = 0; y < 16; ++y) {
    for (int x = 0; x < 16; ++x) {
      const cv::Vec3b p = img.at<cv::Vec3b>(y, x);  // B, G, R
      const std::size_t i = static_cast<std::size_t>(y) * 16 + x;
      for (int c = 0; c < 3; ++c) {
        const float expect = (p[2 - c] / 255.0F - spec.mean[c]) / spec.std[c];
        ASSERT_NEAR(out[c * plane + i], expect, 1e-5) << "channel " << c;
      }
    }
  }
}

TEST(Transform, AugmentationOffIsTheIdentity) {
  AugmentConfig off = all_off();
  EXPECT_TRUE(augment_is_off(off));
  const AugmentDraw d = draw_augment(off, 12345);
  const ImageSpec spec = spec_of(24);
  cv::Mat img = random_image(40, 30, 2);
  EXPECT_EQ(render(img, spec, &d), render(img, spec, nullptr));
  AugmentConfig on = off;
  on.hflip = true;
  EXPECT_FALSE(augment_is_off(on));
}

TEST(Transform, FlipsAreExactMirrors) {
  AugmentDraw d;
  d.hflip = true;
  const ImageSpec spec = spec_of(8);
  cv::Mat img = random_image(8, 8, 3);
  auto plain = render(img, spec, nullptr);
  auto flipped = render(img, spec, &d);
  for (int c = 0; c < 3; ++c) {
    for (int y = 0; y < 8; ++y) {
      for (int x = 0; x < 8; ++x) {
        ASSERT_EQ(flipped[(c * 8 + y) * 8 + x], plain[(c * 8 + y) * 8 + (7 - x)]);
      }
    }
  }
}

TEST(Transform, PadKeepsAspectRatioAndFillsWithTheMean) {
  const ImageSpec spec = spec_of(32, ResizeMode::kPad);
  cv::Mat wide(16, 64, CV_8UC3, cv::Scalar(255, 255, 255));  // 4:1, white
  auto out = render(wide, spec, nullptr);
  // Rows 0..11 and 20..31 are padding (mean colour ~ 0), rows 12..19 image.
  EXPECT_NEAR(out[0 * 32 + 16], 0.0F, 0.02F);
  EXPECT_NEAR(out[31 * 32 + 16], 0.0F, 0.02F);
  EXPECT_NEAR(out[16 * 32 + 16], (1.0F - spec.mean[0]) / spec.std[0], 1e-4F);
  const cv::Matx23d m = output_from_source(64, 16, spec, nullptr);
  EXPECT_NEAR(m(0, 0), 0.5, 1e-12);  // 64 -> 32
  EXPECT_NEAR(m(1, 2), 12 - 0.25, 1e-12);
}

TEST(Transform, CropAndStretchFillTheSquare) {
  const cv::Matx23d crop = output_from_source(64, 32, spec_of(32, ResizeMode::kCrop), nullptr);
  EXPECT_NEAR(crop(0, 0), 1.0, 1e-12);
  EXPECT_NEAR(crop(0, 2), -16.0, 1e-12);  // the centre 32 columns
  const cv::Matx23d st = output_from_source(64, 16, spec_of(32, ResizeMode::kStretch), nullptr);
  EXPECT_NEAR(st(0, 0), 0.5, 1e-12);
  EXPECT_NEAR(st(1, 1), 2.0, 1e-12);
}

TEST(Transform, RandomDeformationIsSeededFiniteAndChangesTheImage) {
  AugmentConfig a = all_off();
  a.rotate_deg = 20;
  a.shift = 0.1;
  a.scale = 0.1;
  a.shear = 5;
  a.hflip = a.vflip = true;
  a.brightness = 0.1;
  a.contrast = 0.1;
  a.elastic_alpha = 4;
  a.elastic_sigma = 6;
  const ImageSpec spec = spec_of(48);
  cv::Mat img = random_image(80, 60, 4);
  const AugmentDraw d1 = draw_augment(a, 7);
  const AugmentDraw d2 = draw_augment(a, 8);
  auto o1 = render(img, spec, &d1);
  const AugmentDraw d1_again = draw_augment(a, 7);
  EXPECT_EQ(o1, render(img, spec, &d1_again));
  EXPECT_NE(o1, render(img, spec, &d2));
  EXPECT_NE(o1, render(img, spec, nullptr));
  for (float v : o1) ASSERT_TRUE(std::isfinite(v));
  EXPECT_LE(std::abs(d1.angle_deg), 20.0);
  EXPECT_GE(d1.zoom, 0.9);
  EXPECT_LE(d1.zoom, 1.1);
  // Elastic alone moves pixels but keeps the image's overall content.
  AugmentConfig e = all_off();
  e.elastic_alpha = 2;
  e.elastic_sigma = 6;
  const AugmentDraw de = draw_augment(e, 9);
  auto elastic = render(img, spec, &de);
  auto plain = render(img, spec, nullptr);
  EXPECT_NE(elastic, plain);
  double mean_e = 0;
  double mean_p = 0;
  for (std::size_t i = 0; i < plain.size(); ++i) {
    mean_e += elastic[i];
    mean_p += plain[i];
  }
  EXPECT_NEAR(mean_e / plain.size(), mean_p / plain.size(), 0.05);
}

// Where the bright mark on black lands: the intensity centroid of the
// output (R plane). With mean 0 and std 1 the fill is black too, so borders
// revealed by a shift or shear add nothing.
cv::Point2d mark_centre(const std::vector<float>& out, int size) {
  double sx = 0;
  double sy = 0;
  double sw = 0;
  for (int y = 0; y < size; ++y) {
    for (int x = 0; x < size; ++x) {
      const double w = out[static_cast<std::size_t>(y * size + x)];
      sx += w * x;
      sy += w * y;
      sw += w;
    }
  }
  return {sx / sw, sy / sw};
}

// Each affine augmentation moves a marked pixel where its geometry says, in
// pixel coordinates (y down) about the centre c = 31.5 of a 64-pixel side:
// out = c + shift * 64 + R(angle) Shear(s) zoom (src - c), with
// R = [cos -sin; sin cos] and Shear = [1 tan(s); 0 1].
TEST(Transform, AffineAugmentationMovesAMarkWhereItsGeometrySays) {
  ImageSpec spec = spec_of(64);
  spec.mean = {0, 0, 0};
  spec.std = {1, 1, 1};
  struct Case {
    const char* name;
    AugmentDraw draw;
    cv::Point src;
    cv::Point2d expect;
  };
  AugmentDraw rot;
  rot.angle_deg = 90;  // (dx, dy) -> (-dy, dx)
  AugmentDraw shift;
  shift.shift_x = 0.25;    // +16 px
  shift.shift_y = -0.125;  // -8 px
  AugmentDraw zoom;
  zoom.zoom = 2;  // distances from the centre doubled
  AugmentDraw shear;
  shear.shear_deg = 45;  // dx -> dx + dy
  const std::vector<Case> cases = {
      {"rotate 90", rot, {40, 20}, {31.5 + 11.5, 31.5 + 8.5}},
      {"shift", shift, {10, 30}, {26, 22}},
      {"zoom 2", zoom, {40, 20}, {31.5 + 17, 31.5 - 23}},
      {"shear 45", shear, {40, 36}, {31.5 + 13, 36}},
  };
  for (const auto& c : cases) {
    cv::Mat img(64, 64, CV_8UC3, cv::Scalar(0, 0, 0));
    img.at<cv::Vec3b>(c.src) = cv::Vec3b(255, 255, 255);
    const cv::Point2d at = mark_centre(render(img, spec, &c.draw), spec.size);
    EXPECT_NEAR(at.x, c.expect.x, 0.3) << c.name;
    EXPECT_NEAR(at.y, c.expect.y, 0.3) << c.name;
    // And the matrix the loader composes says the same.
    const cv::Matx23d m = output_from_source(64, 64, spec, &c.draw);
    EXPECT_NEAR(m(0, 0) * c.src.x + m(0, 1) * c.src.y + m(0, 2), c.expect.x, 1e-9) << c.name;
    EXPECT_NEAR(m(1, 0) * c.src.x + m(1, 1) * c.src.y + m(1, 2), c.expect.y, 1e-9) << c.name;
  }
}

// Brightness adds b (fraction of full range) and contrast scales about
// mid-grey by c, before normalization, without clipping:
// out = ((v / 255 - 0.5) * c + 0.5 + b - mean) / std.
TEST(Transform, ColourAugmentationIsTheDocumentedLinearMap) {
  const ImageSpec spec = spec_of(8);
  cv::Mat img(8, 8, CV_8UC3, cv::Scalar(30, 120, 220));  // B, G, R
  AugmentDraw d;
  d.brightness = 0.1;
  d.contrast = 1.5;
  const auto out = render(img, spec, &d);
  const double rgb[3] = {220, 120, 30};
  for (int c = 0; c < 3; ++c) {
    const double expect = ((rgb[c] / 255.0 - 0.5) * 1.5 + 0.5 + 0.1 - spec.mean[c]) / spec.std[c];
    for (int i = 0; i < 64; ++i)
      ASSERT_NEAR(out[static_cast<std::size_t>(c * 64 + i)], expect, 1e-5);
  }
}

TEST(Transform, ImageSpecFollowsTheConfig) {
  Config c = resolve_config(std::nullopt,
                            {"data.image_size=96", "data.resize=crop", "data.mean=0.5,0.5,0.5"});
  ImageSpec s = image_spec_from(preprocessing_of(c.data));
  EXPECT_EQ(s.size, 96);
  EXPECT_EQ(s.resize, ResizeMode::kCrop);
  EXPECT_FLOAT_EQ(s.mean[2], 0.5F);
}

}  // namespace
}  // namespace midge::data
