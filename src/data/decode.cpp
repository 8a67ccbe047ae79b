#include "data/decode.h"

#include <cerrno>
#include <cstring>
#include <fstream>
#include <opencv2/imgcodecs.hpp>
#include <opencv2/imgproc.hpp>

#include "core/errors.h"
#include "data/pack.h"

namespace midge::data {

ResizeMode parse_resize_mode(const std::string& name) {
  if (name == "pad") return ResizeMode::kPad;
  if (name == "stretch") return ResizeMode::kStretch;
  if (name == "crop") return ResizeMode::kCrop;
  throw UsageError("resize mode must be pad|stretch|crop, got '" + name + "'");
}

namespace {

bool is_jpeg(const std::vector<unsigned char>& b) {
  return b.size() >= 3 && b[0] == 0xFF && b[1] == 0xD8 && b[2] == 0xFF;
}

// In entropy-coded JPEG data every 0xFF byte is followed by 0x00 or a
// restart marker, so scanning back from the end, the first end-of-image
// (FF D9) or start-of-scan (FF DA) marker met tells whether the last scan
// was completed. Usually that is the last two bytes.
bool jpeg_has_end_after_last_scan(const std::vector<unsigned char>& b) {
  for (std::size_t i = b.size(); i >= 2; --i) {
    if (b[i - 2] != 0xFF) continue;
    if (b[i - 1] == 0xD9) return true;
    if (b[i - 1] == 0xDA) return false;
  }
  return false;
}

// cv::imdecode with OpenCV's own failures (a header claiming more pixels
// than CV_IO_MAX_IMAGE_PIXELS) and a failed allocation as DataError naming
// the file, so that one image never stops the others.
cv::Mat imdecode_checked(const std::vector<unsigned char>& bytes, int flags,
                         const std::string& origin) {
  try {
    return cv::imdecode(bytes, flags);
  } catch (const cv::Exception& e) {
    throw DataError("cannot decode image " + origin + ": OpenCV refused it (" + e.err + ")");
  } catch (const std::bad_alloc&) {
    // A header below OpenCV's pixel limit can still ask for gigabytes.
    throw DataError("cannot decode image " + origin + ": not enough memory for its pixels");
  }
}

// Any depth and channel count to 8-bit BGR.
cv::Mat to_bgr8(const cv::Mat& img) {
  cv::Mat eight;
  switch (img.depth()) {
    case CV_8U:
      eight = img;
      break;
    case CV_16U:
      img.convertTo(eight, CV_8U, 1.0 / 257.0);
      break;
    case CV_32F:
    case CV_64F:
      img.convertTo(eight, CV_8U, 255.0);
      break;  // float images are in [0, 1]
    default:
      img.convertTo(eight, CV_8U);
      break;
  }
  cv::Mat bgr;
  switch (eight.channels()) {
    case 1:
      cv::cvtColor(eight, bgr, cv::COLOR_GRAY2BGR);
      break;
    case 3:
      bgr = eight;
      break;
    case 4:
      cv::cvtColor(eight, bgr, cv::COLOR_BGRA2BGR);
      break;
    default: {
      std::vector<cv::Mat> planes;
      cv::split(eight, planes);
      planes.resize(3, planes.front());
      cv::merge(planes, bgr);
    }
  }
  return bgr;
}

}  // namespace

void prepare_codecs() { (void)cv::haveImageWriter(".png"); }

std::vector<unsigned char> read_image_bytes(const std::string& path) {
  std::vector<unsigned char> packed;
  if (read_packed_image(path, &packed)) return packed;
  std::ifstream in(path, std::ios::binary | std::ios::ate);
  if (!in) throw DataError("cannot read image " + path + ": " + std::strerror(errno));
  const std::streamsize n = in.tellg();
  in.seekg(0);
  std::vector<unsigned char> bytes(static_cast<std::size_t>(std::max<std::streamsize>(n, 0)));
  if (n > 0 && !in.read(reinterpret_cast<char*>(bytes.data()), n)) {
    throw DataError("cannot read image " + path + ": read failed");
  }
  return bytes;
}

bool jpeg_dimensions(const std::vector<unsigned char>& b, int* width, int* height) {
  if (!is_jpeg(b)) return false;
  std::size_t i = 2;
  while (i + 9 < b.size()) {
    if (b[i] != 0xFF) return false;
    const unsigned char marker = b[i + 1];
    if (marker == 0xFF) {  // fill byte
      ++i;
      continue;
    }
    const std::size_t len = (static_cast<std::size_t>(b[i + 2]) << 8) | b[i + 3];
    // SOF0..SOF15 except DHT (C4), JPG (C8) and DAC (CC) carry the size.
    if (marker >= 0xC0 && marker <= 0xCF && marker != 0xC4 && marker != 0xC8 && marker != 0xCC) {
      *height = (b[i + 5] << 8) | b[i + 6];
      *width = (b[i + 7] << 8) | b[i + 8];
      return *width > 0 && *height > 0;
    }
    if (marker == 0xDA || len < 2) return false;  // scan before frame: malformed
    i += 2 + len;
  }
  return false;
}

int choose_reduction(int width, int height, int target, ResizeMode mode) {
  if (target <= 0) return 1;
  // pad fits the longer side to target; stretch and crop need both sides.
  const int side = mode == ResizeMode::kPad ? std::max(width, height) : std::min(width, height);
  int r = 1;
  while (r < 8 && side / (r * 2) >= target) r *= 2;
  return r;
}

DecodedImage decode_image_bytes(const std::vector<unsigned char>& bytes, const std::string& origin,
                                int target, ResizeMode mode) {
  if (bytes.empty()) throw DataError("cannot decode image " + origin + ": empty file");
  DecodedImage out;
  cv::Mat raw;
  if (is_jpeg(bytes)) {
    if (!jpeg_has_end_after_last_scan(bytes)) {
      throw DataError("cannot decode image " + origin +
                      ": truncated JPEG (no end-of-image marker)");
    }
    int w = 0;
    int h = 0;
    if (!jpeg_dimensions(bytes, &w, &h)) {
      throw DataError("cannot decode image " + origin + ": JPEG without a frame header");
    }
    out.source_width = w;
    out.source_height = h;
    out.reduction = choose_reduction(w, h, target, mode);
    const int flags = out.reduction == 8   ? cv::IMREAD_REDUCED_COLOR_8
                      : out.reduction == 4 ? cv::IMREAD_REDUCED_COLOR_4
                      : out.reduction == 2 ? cv::IMREAD_REDUCED_COLOR_2
                                           : cv::IMREAD_COLOR;
    raw = imdecode_checked(bytes, flags, origin);
  } else {
    // ANYDEPTH keeps 16-bit samples for our own scaling; ANYCOLOR keeps grey.
    raw = imdecode_checked(bytes, cv::IMREAD_ANYDEPTH | cv::IMREAD_ANYCOLOR, origin);
  }
  if (raw.empty()) {
    throw DataError("cannot decode image " + origin +
                    ": not a readable JPEG, PNG, TIFF or BMP file (corrupt or another format)");
  }
  out.bgr = to_bgr8(raw);
  if (out.source_width == 0) {
    out.source_width = out.bgr.cols;
    out.source_height = out.bgr.rows;
  }
  return out;
}

DecodedImage decode_image(const std::string& path, int target, ResizeMode mode) {
  return decode_image_bytes(read_image_bytes(path), path, target, mode);
}

}  // namespace midge::data
