#include "data/transform.h"

#include <cmath>
#include <opencv2/imgproc.hpp>

#include "core/random.h"

namespace midge::data {

ImageSpec image_spec_from(const Preprocessing& p) {
  ImageSpec spec;
  spec.size = static_cast<int>(p.image_size);
  spec.resize = parse_resize_mode(p.resize);
  for (int c = 0; c < 3; ++c) {
    spec.mean[c] = static_cast<float>(p.mean[c]);
    spec.std[c] = static_cast<float>(p.std[c]);
  }
  return spec;
}

bool augment_is_off(const AugmentConfig& a) {
  return a.rotate_deg == 0 && a.shift == 0 && a.scale == 0 && a.shear == 0 && !a.hflip &&
         !a.vflip && a.brightness == 0 && a.contrast == 0 && a.elastic_alpha == 0;
}

AugmentDraw draw_augment(const AugmentConfig& a, std::uint64_t seed) {
  Rng rng(seed);
  AugmentDraw d;
  // Every draw is made whether or not its key is on, so turning one
  // augmentation on or off does not change the others' random numbers.
  d.angle_deg = rng.uniform(-1, 1) * a.rotate_deg;
  d.shift_x = rng.uniform(-1, 1) * a.shift;
  d.shift_y = rng.uniform(-1, 1) * a.shift;
  d.zoom = 1 + rng.uniform(-1, 1) * a.scale;
  d.shear_deg = rng.uniform(-1, 1) * a.shear;
  d.hflip = rng.bernoulli(0.5) && a.hflip;
  d.vflip = rng.bernoulli(0.5) && a.vflip;
  d.brightness = rng.uniform(-1, 1) * a.brightness;
  d.contrast = 1 + rng.uniform(-1, 1) * a.contrast;
  d.elastic_seed = rng.next();
  d.elastic_alpha = a.elastic_alpha;
  d.elastic_sigma = a.elastic_sigma;
  return d;
}

namespace {

using Mat3 = cv::Matx33d;

Mat3 translate(double x, double y) { return {1, 0, x, 0, 1, y, 0, 0, 1}; }
Mat3 scale(double sx, double sy) { return {sx, 0, 0, 0, sy, 0, 0, 0, 1}; }

// Shape only: source pixel areas onto the output square.
Mat3 shape_matrix(int w, int h, int size, ResizeMode mode) {
  double sx = 0;
  double sy = 0;
  switch (mode) {
    case ResizeMode::kPad:
      sx = sy = static_cast<double>(size) / std::max(w, h);
      break;
    case ResizeMode::kCrop:
      sx = sy = static_cast<double>(size) / std::min(w, h);
      break;
    case ResizeMode::kStretch:
      sx = static_cast<double>(size) / w;
      sy = static_cast<double>(size) / h;
      break;
  }
  // Area convention: x_out + 0.5 = sx * (x_src + 0.5) + offset, centred.
  const double ox = (size - w * sx) / 2;
  const double oy = (size - h * sy) / 2;
  return translate(ox - 0.5, oy - 0.5) * scale(sx, sy) * translate(0.5, 0.5);
}

Mat3 augment_matrix(int size, const AugmentDraw& d) {
  const double c = size / 2.0 - 0.5;  // centre in pixel coordinates
  const double a = d.angle_deg * M_PI / 180.0;
  const Mat3 rotate(std::cos(a), -std::sin(a), 0, std::sin(a), std::cos(a), 0, 0, 0, 1);
  const Mat3 shear(1, std::tan(d.shear_deg * M_PI / 180.0), 0, 0, 1, 0, 0, 0, 1);
  const Mat3 flip = scale(d.hflip ? -1 : 1, d.vflip ? -1 : 1);
  return translate(c + d.shift_x * size, c + d.shift_y * size) * rotate * shear *
         scale(d.zoom, d.zoom) * flip * translate(-c, -c);
}

cv::Matx23d top(const Mat3& m) { return {m(0, 0), m(0, 1), m(0, 2), m(1, 0), m(1, 1), m(1, 2)}; }

bool is_identity(const cv::Matx23d& m) {
  return m(0, 0) == 1 && m(0, 1) == 0 && m(0, 2) == 0 && m(1, 0) == 0 && m(1, 1) == 1 &&
         m(1, 2) == 0;
}

// Smooth displacement field of RMS 1, size x size, from `seed`. Drawn on a
// coarse grid and upsampled: the field is smooth at scale sigma anyway, and
// this is ~sigma^2 times cheaper than blurring full-resolution noise.
cv::Mat smooth_field(int size, double sigma, Rng& rng) {
  const int step = std::max(1, static_cast<int>(sigma / 2));
  const int n = size / step + 2;
  cv::Mat f(n, n, CV_32F);
  for (int y = 0; y < n; ++y) {
    auto* row = f.ptr<float>(y);
    for (int x = 0; x < n; ++x) row[x] = static_cast<float>(rng.uniform(-1, 1));
  }
  cv::GaussianBlur(f, f, cv::Size(0, 0), sigma / step);
  cv::Scalar mean;
  cv::Scalar dev;
  cv::meanStdDev(f, mean, dev);
  f = (f - mean[0]) / std::max(1e-6, dev[0]);
  cv::Mat full;
  cv::resize(f, full, cv::Size(size, size), 0, 0, cv::INTER_LINEAR);
  return full;
}

}  // namespace

cv::Matx23d output_from_source(int w, int h, const ImageSpec& spec, const AugmentDraw* draw) {
  Mat3 m = shape_matrix(w, h, spec.size, spec.resize);
  if (draw != nullptr) m = augment_matrix(spec.size, *draw) * m;
  return top(m);
}

namespace {

cv::Scalar fill_of(const ImageSpec& spec) {
  return {spec.mean[2] * 255.0, spec.mean[1] * 255.0, spec.mean[0] * 255.0};
}

}  // namespace

cv::Mat shape_image(const cv::Mat& bgr_in, const ImageSpec& spec) {
  const int size = spec.size;
  // A source more than twice the output is first shrunk with area
  // averaging, so the bilinear warp below never aliases.
  cv::Mat bgr = bgr_in;
  const double cover =
      spec.resize == ResizeMode::kPad ? std::max(bgr.cols, bgr.rows) : std::min(bgr.cols, bgr.rows);
  if (cover > 2.0 * size) {
    const double f = 2.0 * size / cover;
    cv::resize(bgr_in, bgr,
               cv::Size(std::max(1, static_cast<int>(std::lround(bgr.cols * f))),
                        std::max(1, static_cast<int>(std::lround(bgr.rows * f)))),
               0, 0, cv::INTER_AREA);
  }
  const cv::Matx23d m = output_from_source(bgr.cols, bgr.rows, spec, nullptr);
  if (bgr.cols == size && bgr.rows == size && is_identity(m)) return bgr;
  cv::Mat shaped;
  cv::warpAffine(bgr, shaped, m, cv::Size(size, size), cv::INTER_LINEAR, cv::BORDER_CONSTANT,
                 fill_of(spec));
  return shaped;
}

void render_sample(const cv::Mat& square, const ImageSpec& spec, const AugmentDraw* draw,
                   float* out) {
  const int size = spec.size;
  const cv::Scalar fill = fill_of(spec);
  // Shapes anything else first (tests and tools may pass any image).
  const cv::Mat bgr =
      square.cols == size && square.rows == size ? square : shape_image(square, spec);
  const cv::Matx23d m = output_from_source(bgr.cols, bgr.rows, spec, draw);
  cv::Mat shaped;
  if (draw != nullptr && draw->elastic_alpha > 0) {
    // Elastic and affine in one resampling: each output pixel (x, y) reads
    // the source at inverse_affine(x + dx, y + dy).
    Rng rng(draw->elastic_seed);
    cv::Mat dx = smooth_field(size, draw->elastic_sigma, rng);
    cv::Mat dy = smooth_field(size, draw->elastic_sigma, rng);
    cv::Matx23d inv;
    cv::invertAffineTransform(m, inv);
    const auto alpha = static_cast<float>(draw->elastic_alpha);
    const auto a00 = static_cast<float>(inv(0, 0));
    const auto a01 = static_cast<float>(inv(0, 1));
    const auto a02 = static_cast<float>(inv(0, 2));
    const auto a10 = static_cast<float>(inv(1, 0));
    const auto a11 = static_cast<float>(inv(1, 1));
    const auto a12 = static_cast<float>(inv(1, 2));
    for (int y = 0; y < size; ++y) {
      auto* px = dx.ptr<float>(y);
      auto* py = dy.ptr<float>(y);
      for (int x = 0; x < size; ++x) {
        const float u = static_cast<float>(x) + alpha * px[x];
        const float v = static_cast<float>(y) + alpha * py[x];
        px[x] = a00 * u + a01 * v + a02;
        py[x] = a10 * u + a11 * v + a12;
      }
    }
    cv::remap(bgr, shaped, dx, dy, cv::INTER_LINEAR, cv::BORDER_CONSTANT, fill);
  } else if (bgr.cols == size && bgr.rows == size && is_identity(m)) {
    shaped = bgr;
  } else {
    cv::warpAffine(bgr, shaped, m, cv::Size(size, size), cv::INTER_LINEAR, cv::BORDER_CONSTANT,
                   fill);
  }
  // Colour and normalization by table: out = ((v/255 - 0.5) * c + 0.5 + b - mean) / std.
  const double b = draw != nullptr ? draw->brightness : 0.0;
  const double c = draw != nullptr ? draw->contrast : 1.0;
  float lut[3][256];
  for (int ch = 0; ch < 3; ++ch) {
    for (int v = 0; v < 256; ++v) {
      const double x = (v / 255.0 - 0.5) * c + 0.5 + b;
      lut[ch][v] = static_cast<float>((x - spec.mean[ch]) / spec.std[ch]);
    }
  }
  const std::size_t plane = static_cast<std::size_t>(size) * size;
  float* r = out;
  float* g = out + plane;
  float* bl = out + 2 * plane;
  for (int y = 0; y < size; ++y) {
    const unsigned char* p = shaped.ptr<unsigned char>(y);
    const std::size_t o = static_cast<std::size_t>(y) * size;
    for (int x = 0; x < size; ++x) {
      bl[o + x] = lut[2][p[3 * x]];
      g[o + x] = lut[1][p[3 * x + 1]];
      r[o + x] = lut[0][p[3 * x + 2]];
    }
  }
}

}  // namespace midge::data
