// From a decoded image to the network's input: shape (pad|stretch|crop to a
// square), random deformation for training, and normalization into
// RGB planes of floats.
//
// Two steps, so that the first can be cached (data/image_cache.h):
// shape_image() turns a decoded image into the size x size square the
// network sees (area shrink of large sources, then one warp); render_sample()
// applies the random deformation to that square and normalizes it. Without
// augmentation (evaluation) the second step is no resampling at all, so the
// input is exactly the shaped image. With augmentation the affine part
// (rotation, shift, zoom, shear, flips) is one warpAffine about the centre,
// or, with elastic deformation on, one remap that folds field and affine
// together. The colour part (brightness, contrast) is folded with the
// mean/std normalization and the BGR->RGB swap into a 256-entry table per
// channel. Cached and uncached runs take the same two steps and agree
// bitwise; augmentation starts from the shaped square (before the cache it
// warped the source in one step, so zooming out of a crop now reveals the
// padding colour instead of the cropped-away source).
//
// Conventions: pixel areas (a pixel's centre is at +0.5), so shaping an
// image that already has the target size with augmentation off is exactly
// the identity. Padding and the border revealed by a rotation or shift take
// the mean colour, which normalizes to 0. Brightness adds b in [-B, B] (as a
// fraction of full range); contrast scales about mid-grey by c in
// [1 - C, 1 + C]; no clipping. Elastic deformation displaces each pixel by a
// smooth random field (uniform noise blurred with elastic_sigma, scaled to an
// RMS of elastic_alpha pixels).
#pragma once

#include <array>
#include <cstdint>
#include <opencv2/core.hpp>

#include "core/config.h"
#include "data/decode.h"

namespace midge::data {

struct ImageSpec {
  int size = 224;
  ResizeMode resize = ResizeMode::kPad;
  std::array<float, 3> mean{0.485F, 0.456F, 0.406F};  // R, G, B
  std::array<float, 3> std{0.229F, 0.224F, 0.225F};
};

// The one builder of an ImageSpec: training and evaluation (from [data]),
// predict and gradcam (from model.h5) all shape images through it.
ImageSpec image_spec_from(const Preprocessing& preprocessing);

// One draw of the random augmentation parameters for one sample.
struct AugmentDraw {
  double angle_deg = 0;
  double shift_x = 0;  // fraction of the output side
  double shift_y = 0;
  double zoom = 1;
  double shear_deg = 0;
  bool hflip = false;
  bool vflip = false;
  double brightness = 0;
  double contrast = 1;
  double elastic_alpha = 0;  // 0 = no elastic pass
  double elastic_sigma = 0;
  std::uint64_t elastic_seed = 0;
};

// True when every [augment] key is off (the training input then equals the
// evaluation input).
bool augment_is_off(const AugmentConfig& config);

// Draws parameters from `seed` alone (the loader passes a seed derived from
// run seed, epoch and sample position).
AugmentDraw draw_augment(const AugmentConfig& config, std::uint64_t seed);

// The 2x3 matrix mapping source pixel coordinates of a w x h image to output
// coordinates: shape, then (if `draw`) the affine augmentation about the
// output's centre.
cv::Matx23d output_from_source(int w, int h, const ImageSpec& spec, const AugmentDraw* draw);

// The decoded image shaped to spec.size x spec.size (8-bit BGR), before any
// augmentation: what the image cache keeps. May share `bgr`'s pixels.
cv::Mat shape_image(const cv::Mat& bgr, const ImageSpec& spec);

// Writes 3 x size x size floats (R, G, B planes) to `out` from a shaped
// square (any other image is shaped first). `draw` = nullptr means no
// augmentation (evaluation).
void render_sample(const cv::Mat& square, const ImageSpec& spec, const AugmentDraw* draw,
                   float* out);

}  // namespace midge::data
