#include "data/image_cache.h"

#include <unistd.h>

#include <atomic>
#include <filesystem>
#include <vector>

#include "core/errors.h"
#include "core/log.h"
#include "core/random.h"
#include "core/text.h"
#include "data/decode.h"
#include "io/hdf5.h"
#include "io/run_file.h"

namespace midge::data {
namespace fs = std::filesystem;
namespace {

const char* resize_name(ResizeMode m) {
  switch (m) {
    case ResizeMode::kPad:
      return "pad";
    case ResizeMode::kStretch:
      return "stretch";
    case ResizeMode::kCrop:
      return "crop";
  }
  return "pad";
}

// Everything shape_image depends on: size, resize mode, padding colour.
std::string shape_key(const ImageSpec& s) {
  return text::format("%dpx-%s-mean%.6g_%.6g_%.6g", s.size, resize_name(s.resize), s.mean[0],
                      s.mean[1], s.mean[2]);
}

}  // namespace

CacheMode parse_cache_mode(const std::string& name) {
  if (name == "none") return CacheMode::kNone;
  if (name == "memory") return CacheMode::kMemory;
  if (name == "file") return CacheMode::kFile;
  throw UsageError("data.cache must be none, memory or file, not '" + name + "'");
}

std::shared_ptr<ImageCache> ImageCache::open(const ImageSpec& spec, CacheMode mode,
                                             const std::string& dir) {
  // Kept for the process's lifetime: the next run (a sweep's next trial)
  // finds its images decoded.
  static std::mutex registry_mutex;
  static std::map<std::string, std::shared_ptr<ImageCache>> registry;
  const std::string key = std::to_string(static_cast<int>(mode)) + "|" +
                          (mode == CacheMode::kFile ? dir : std::string()) + "|" + shape_key(spec);
  std::lock_guard<std::mutex> lock(registry_mutex);
  // One shape at a time: a sweep over data.image_size would otherwise keep
  // every size's images (a cache in use elsewhere lives on with its user).
  for (auto it = registry.begin(); it != registry.end();) {
    it = it->first == key ? std::next(it) : registry.erase(it);
  }
  auto& cache = registry[key];
  if (!cache) cache = std::make_shared<ImageCache>(spec, mode, dir);
  return cache;
}

ImageCache::ImageCache(const ImageSpec& spec, CacheMode mode, const std::string& dir)
    : spec_(spec), mode_(mode) {
  if (mode_ == CacheMode::kNone) throw UsageError("ImageCache: mode none caches nothing");
  if (mode_ == CacheMode::kFile) folder_ = (fs::path(dir) / shape_key(spec_)).string();
}

void ImageCache::begin_run() {
  std::lock_guard<std::mutex> lock(mutex_);
  for (auto& [path, e] : entries_) e.checked = false;
  stats_.hits = 0;
  stats_.decoded = 0;
  if (mode_ == CacheMode::kFile) load_new_parts();
}

void ImageCache::load_new_parts() {
  std::error_code ec;
  if (!fs::is_directory(folder_, ec)) return;
  std::vector<std::string> parts;
  for (const auto& f : fs::directory_iterator(folder_)) {
    const std::string name = f.path().filename().string();
    if (name.rfind("part-", 0) == 0 && f.path().extension() == ".h5" &&
        parts_loaded_.count(name) == 0) {
      parts.push_back(name);
    }
  }
  std::sort(parts.begin(), parts.end());
  for (const auto& name : parts) {
    const std::string file = (fs::path(folder_) / name).string();
    parts_loaded_.insert(name);
    try {
      io::H5Reader f(file);
      if (f.attr_int64("", "size") != spec_.size) {
        throw DataError("its images are " + std::to_string(f.attr_int64("", "size")) + " px");
      }
      const auto paths = f.read_strings("paths");
      const auto hashes = f.read_int64s("hashes");
      const auto sizes = f.read_int64s("bytes");
      const auto pixels = f.read_bytes("images");
      const std::size_t one = 3U * static_cast<std::size_t>(spec_.size) * spec_.size;
      if (hashes.size() != paths.size() || sizes.size() != paths.size() ||
          pixels.size() != one * paths.size()) {
        throw DataError("its datasets disagree in length");
      }
      for (std::size_t i = 0; i < paths.size(); ++i) {
        auto known = entries_.find(paths[i]);
        if (known != entries_.end() &&
            known->second.hash == static_cast<std::uint64_t>(hashes[i])) {
          continue;
        }
        Entry e;
        e.hash = static_cast<std::uint64_t>(hashes[i]);
        e.bytes = sizes[i];
        e.image = cv::Mat(spec_.size, spec_.size, CV_8UC3);
        std::copy(pixels.begin() + static_cast<std::ptrdiff_t>(i * one),
                  pixels.begin() + static_cast<std::ptrdiff_t>((i + 1) * one), e.image.data);
        stats_.bytes += static_cast<std::int64_t>(one);
        ++stats_.loaded;
        if (known == entries_.end()) {
          entries_.emplace(paths[i], std::move(e));
        } else {
          // Another content for the same path (the image changed between
          // parts): kept aside, the file decides at first use.
          others_[paths[i]].push_back(std::move(e));
        }
      }
    } catch (const std::exception& e) {
      // A cache is an optimization: a bad part costs decoding, not the run.
      log::warn("image cache: ignoring " + file + ": " + e.what());
    }
  }
}

cv::Mat ImageCache::shaped(const std::string& path) {
  {
    std::lock_guard<std::mutex> lock(mutex_);
    auto it = entries_.find(path);
    if (it != entries_.end() && it->second.checked) {
      ++stats_.hits;
      return it->second.image;
    }
  }
  // First use in this run: the file's bytes decide whether the entry holds.
  const std::vector<unsigned char> bytes = read_image_bytes(path);
  const std::uint64_t hash = fnv1a(bytes.data(), bytes.size());
  const auto size = static_cast<std::int64_t>(bytes.size());
  {
    std::lock_guard<std::mutex> lock(mutex_);
    auto it = entries_.find(path);
    if (it != entries_.end() && !(it->second.hash == hash && it->second.bytes == size)) {
      // A part may hold the file's current content under the same path.
      auto alt = others_.find(path);
      if (alt != others_.end()) {
        for (auto& e : alt->second) {
          if (e.hash == hash && e.bytes == size) {
            std::swap(e, it->second);
            break;
          }
        }
      }
    }
    if (it != entries_.end() && it->second.hash == hash && it->second.bytes == size) {
      it->second.checked = true;
      ++stats_.hits;
      return it->second.image;
    }
  }
  const DecodedImage img = decode_image_bytes(bytes, path, spec_.size, spec_.resize);
  Entry e;
  e.hash = hash;
  e.bytes = size;
  e.image = shape_image(img.bgr, spec_).clone();
  e.checked = true;
  e.saved = false;
  std::lock_guard<std::mutex> lock(mutex_);
  ++stats_.decoded;
  auto it = entries_.find(path);
  if (it == entries_.end()) {
    stats_.bytes += static_cast<std::int64_t>(e.image.total() * e.image.elemSize());
    it = entries_.emplace(path, std::move(e)).first;
  } else {
    it->second = std::move(e);  // the file changed since it was cached
  }
  return it->second.image;
}

std::size_t ImageCache::save() {
  if (mode_ != CacheMode::kFile) return 0;
  std::vector<std::string> paths;
  std::vector<std::int64_t> hashes;
  std::vector<std::int64_t> sizes;
  std::vector<std::uint8_t> pixels;
  std::string name;
  {
    std::lock_guard<std::mutex> lock(mutex_);
    for (auto& [path, e] : entries_) {
      if (e.saved) continue;
      paths.push_back(path);
      hashes.push_back(static_cast<std::int64_t>(e.hash));
      sizes.push_back(e.bytes);
      pixels.insert(pixels.end(), e.image.data, e.image.data + e.image.total() * 3);
      e.saved = true;
    }
    if (paths.empty()) return 0;
    // Unique among every process that writes to the folder, and among the
    // caches of this one.
    static std::atomic<int> saves{0};
    name = text::format("part-%s-%ld-%d.h5", io::host_name().c_str(), static_cast<long>(::getpid()),
                        saves++);
    parts_loaded_.insert(name);  // its entries are here already
  }
  fs::create_directories(folder_);
  const auto n = static_cast<std::uint64_t>(paths.size());
  const auto side = static_cast<std::uint64_t>(spec_.size);
  io::H5Writer f((fs::path(folder_) / name).string());
  f.set_attr("", "format", std::string("midge-image-cache"));
  f.set_attr("", "size", static_cast<std::int64_t>(spec_.size));
  f.set_attr("", "resize", std::string(resize_name(spec_.resize)));
  f.set_attr("", "mean", std::vector<double>(spec_.mean.begin(), spec_.mean.end()));
  f.write("paths", paths);
  f.write("hashes", hashes);
  f.write("bytes", sizes);
  f.write("images", pixels, {n, side, side, 3});
  f.commit();
  return paths.size();
}

CacheStats ImageCache::stats() const {
  std::lock_guard<std::mutex> lock(mutex_);
  CacheStats s = stats_;
  s.entries = static_cast<std::int64_t>(entries_.size());
  return s;
}

}  // namespace midge::data
