#include "support/temp_dir.h"

#include <unistd.h>

#include <atomic>
#include <fstream>
#include <opencv2/core.hpp>
#include <opencv2/imgcodecs.hpp>
#include <stdexcept>

namespace midge::testing {
namespace fs = std::filesystem;

TempDir::TempDir() {
  static std::atomic<int> counter{0};
  path_ = fs::temp_directory_path() /
          ("midge-test-" + std::to_string(::getpid()) + "-" + std::to_string(counter++));
  fs::remove_all(path_);
  fs::create_directories(path_);
}

TempDir::~TempDir() {
  std::error_code ec;
  fs::remove_all(path_, ec);
}

std::string TempDir::str(const std::string& child) const {
  return child.empty() ? path_.string() : (path_ / child).string();
}

void write_text(const fs::path& path, const std::string& content) {
  if (path.has_parent_path()) fs::create_directories(path.parent_path());
  std::ofstream out(path, std::ios::binary);
  out << content;
  if (!out) throw std::runtime_error("cannot write " + path.string());
}

void write_png(const fs::path& path, int w, int h, int value) {
  if (path.has_parent_path()) fs::create_directories(path.parent_path());
  cv::Mat img(h, w, CV_8UC3, cv::Scalar(value, value, value));
  if (!cv::imwrite(path.string(), img)) throw std::runtime_error("cannot write " + path.string());
}

}  // namespace midge::testing
