// ImageCache: images decoded and shaped to the training size, before any
// augmentation (data/transform.h: shape_image), so each is decoded once per
// run or once per sweep instead of once per epoch (data.cache).
//
// - memory: entries live in this process, for its lifetime, so a run's
//   epochs and stages, and the trials a sweep runs one after another in the
//   same process, share them.
// - file: the same, and entries are also written to HDF5 part files in
//   `<dir>/<shape key>/part-<writer>.h5` (each written once, whole, by one
//   rank, then renamed into place; never changed), and the parts other
//   processes wrote are read at the start of every run. So a sweep's groups
//   and later runs on the same images find them decoded.
//
// Validity: an entry is keyed by the image's path and its content (FNV-1a
// hash and size of the file's bytes). The first use of an image in a run
// reads its bytes (no decoding) and compares; a changed file is decoded
// again and replaces its entry. Entries differ by everything that shapes an
// image (size, resize mode, the padding colour from data.mean): one cache,
// and one folder of parts, per shape key.
//
// Cost: images x size^2 x 3 bytes of host memory per process (2000 images
// at 512 px: 1.6 GB). Results do not change: cached or not, the loader
// renders a sample from the same shaped image (bitwise).
//
// Thread-safe: the loader's workers call shaped() concurrently.
#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <mutex>
#include <opencv2/core.hpp>
#include <set>
#include <string>
#include <vector>

#include "data/transform.h"

namespace midge::data {

enum class CacheMode { kNone, kMemory, kFile };

// "none" | "memory" | "file"; UsageError otherwise.
CacheMode parse_cache_mode(const std::string& name);

struct CacheStats {
  std::int64_t entries = 0;
  std::int64_t hits = 0;     // images served from the cache in this run
  std::int64_t decoded = 0;  // images decoded (and added) in this run
  std::int64_t loaded = 0;   // entries read from part files, over the cache's life
  std::int64_t bytes = 0;    // pixels held
};

class ImageCache {
 public:
  // This process's cache for images shaped by `spec` (mode memory or file;
  // `dir` is the part folder's parent, used with file).
  static std::shared_ptr<ImageCache> open(const ImageSpec& spec, CacheMode mode,
                                          const std::string& dir);

  ImageCache(const ImageSpec& spec, CacheMode mode, const std::string& dir);

  // A new run: every entry is checked against its file again at first use,
  // the run's counters restart, and parts written since are loaded.
  void begin_run();

  // The shaped image of `path` (its pixels must not be modified). DataError
  // as decode_image for unreadable or corrupt files.
  cv::Mat shaped(const std::string& path);

  // With mode file: writes the entries this process decoded since its last
  // save into one new part file; returns how many (0: nothing written).
  std::size_t save();

  CacheStats stats() const;
  // `<dir>/<shape key>`: where the parts are.
  const std::string& folder() const { return folder_; }

 private:
  struct Entry {
    std::uint64_t hash = 0;
    std::int64_t bytes = 0;
    cv::Mat image;         // CV_8UC3, size x size, continuous
    bool checked = false;  // compared with its file in this run
    bool saved = true;     // in a part file already
  };
  void load_new_parts();

  ImageSpec spec_;
  CacheMode mode_;
  std::string folder_;
  mutable std::mutex mutex_;
  std::map<std::string, Entry> entries_;
  // Entries from parts whose content differs from entries_' for the path.
  std::map<std::string, std::vector<Entry>> others_;
  std::set<std::string> parts_loaded_;
  CacheStats stats_;
};

}  // namespace midge::data
