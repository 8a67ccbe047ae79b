// Image decoding: any supported file to an 8-bit, 3-channel BGR cv::Mat.
//
// Accepts JPEG, PNG, TIFF and BMP with 8- or 16-bit samples and grey, RGB or
// RGBA pixels. 16-bit samples are scaled by 1/257 (full range to full
// range), grey is replicated to three channels, and alpha is dropped (as
// PIL's convert("RGB") does, so weights trained with torchvision pipelines
// see the same colours). EXIF orientation is applied.
//
// Speed: a JPEG at least twice as large as needed is decoded at 1/2, 1/4 or
// 1/8 resolution by libjpeg's DCT scaling, which is several times faster
// than decoding in full and shrinking afterwards.
//
// Errors are DataError naming the file and the reason: unreadable, empty,
// not an image (garbage bytes), or truncated (a JPEG whose last scan has no
// end-of-image marker: libjpeg would silently return a grey-padded image).
#pragma once

#include <cstdint>
#include <opencv2/core.hpp>
#include <string>
#include <vector>

namespace midge::data {

enum class ResizeMode { kPad, kStretch, kCrop };

// "pad" | "stretch" | "crop"; throws UsageError otherwise.
ResizeMode parse_resize_mode(const std::string& name);

struct DecodedImage {
  cv::Mat bgr;           // CV_8UC3
  int source_width = 0;  // before reduced decoding
  int source_height = 0;
  int reduction = 1;  // 1, 2, 4 or 8
};

// Width and height from a JPEG's frame header; false if not a JPEG or no
// frame header was found.
bool jpeg_dimensions(const std::vector<unsigned char>& bytes, int* width, int* height);

// Largest reduction r in {1, 2, 4, 8} such that a (w/r) x (h/r) image still
// covers a target x target output under `mode` without upsampling.
int choose_reduction(int width, int height, int target, ResizeMode mode);

// OpenCV builds its list of image codecs on first use, and two threads
// that both use it first race on it (ThreadSanitizer saw synth's encoders
// do it). Called on the spawning thread before workers that encode or
// decode start; cheap after the first call.
void prepare_codecs();

// The bytes of an image file; DataError naming the file when unreadable.
std::vector<unsigned char> read_image_bytes(const std::string& path);

// Reads and decodes `path`. target > 0 allows reduced JPEG decoding for an
// output of target x target pixels under `mode`; 0 decodes in full.
DecodedImage decode_image(const std::string& path, int target = 0,
                          ResizeMode mode = ResizeMode::kPad);

// The same from bytes in memory (`origin` names them in errors).
DecodedImage decode_image_bytes(const std::vector<unsigned char>& bytes, const std::string& origin,
                                int target = 0, ResizeMode mode = ResizeMode::kPad);

}  // namespace midge::data
