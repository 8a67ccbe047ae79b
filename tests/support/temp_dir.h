// A fresh folder per test under the system temp dir, removed afterwards.
#pragma once

#include <filesystem>
#include <string>

namespace midge::testing {

class TempDir {
 public:
  TempDir();
  ~TempDir();
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;
  const std::filesystem::path& path() const { return path_; }
  std::string str(const std::string& child = "") const;

 private:
  std::filesystem::path path_;
};

// Writes `content` to `path` (creating parent folders).
void write_text(const std::filesystem::path& path, const std::string& content);

// Writes a small real PNG (w x h, grey level `value`) with OpenCV.
void write_png(const std::filesystem::path& path, int w = 8, int h = 8, int value = 128);

}  // namespace midge::testing
