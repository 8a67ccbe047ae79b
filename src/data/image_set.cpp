#include "data/image_set.h"

#include <algorithm>
#include <filesystem>
#include <opencv2/core/version.hpp>

#include "core/errors.h"
#include "core/log.h"
#include "core/text.h"
#include "data/pack.h"

namespace midge::data {
namespace fs = std::filesystem;

bool has_image_extension(const std::string& file_name) {
  const std::string ext = text::to_lower(fs::path(file_name).extension().string());
  return ext == ".jpg" || ext == ".jpeg" || ext == ".png" || ext == ".tif" || ext == ".tiff" ||
         ext == ".bmp";
}

std::size_t ImageSet::image_count() const {
  std::size_t n = 0;
  for (const auto& t : taxa) n += t.images.size();
  return n;
}

std::size_t ImageSet::ignored_count() const {
  std::size_t n = 0;
  for (const auto& t : taxa) n += t.ignored.size();
  return n;
}

ImageSet scan_image_set(const std::string& root) {
  std::error_code ec;
  if (!fs::exists(root, ec)) throw DataError("image folder not found: " + root);
  if (fs::is_regular_file(root, ec)) return scan_pack(root);  // data/pack.h
  if (!fs::is_directory(root, ec)) throw DataError("not a folder: " + root);

  ImageSet set;
  set.root = root;
  for (const auto& entry : fs::directory_iterator(root)) {
    const std::string name = entry.path().filename().string();
    std::error_code dir_error;
    const bool is_dir = entry.is_directory(dir_error);
    if (dir_error) log::warn("ignoring " + entry.path().string() + ": " + dir_error.message());
    if (!is_dir || text::starts_with(name, ".")) continue;
    TaxonFolder taxon;
    taxon.name = name;
    for (const auto& f : fs::directory_iterator(entry.path())) {
      const std::string fname = f.path().filename().string();
      if (text::starts_with(fname, ".")) continue;  // .DS_Store, editor swap files
      // The non-throwing test: a symlink loop or a dangling link is an
      // entry to report, not a reason to stop the scan.
      std::error_code status_error;
      const bool regular = f.is_regular_file(status_error);
      if (status_error) {
        log::warn("ignoring " + f.path().string() + ": " + status_error.message());
        taxon.ignored.push_back(f.path().string());
      } else if (!regular && has_image_extension(fname)) {
        log::warn("ignoring " + f.path().string() + ": named like an image, but not a file");
        taxon.ignored.push_back(f.path().string());
      } else if (regular && has_image_extension(fname)) {
        taxon.images.push_back(f.path().string());
      } else {
        taxon.ignored.push_back(f.path().string());
      }
    }
    // std::string compares bytewise (char_traits<char> orders as unsigned char).
    std::sort(taxon.images.begin(), taxon.images.end());
    std::sort(taxon.ignored.begin(), taxon.ignored.end());
    set.taxa.push_back(std::move(taxon));
  }
  if (set.taxa.empty()) {
    throw DataError("no taxon folders in " + root +
                    " (expected one sub-folder of images per taxon)");
  }
  std::sort(set.taxa.begin(), set.taxa.end(),
            [](const TaxonFolder& a, const TaxonFolder& b) { return a.name < b.name; });
  for (const auto& t : set.taxa) {
    if (t.images.empty()) {
      throw DataError("taxon folder without images: " + (fs::path(root) / t.name).string() +
                      (t.ignored.empty()
                           ? " (empty)"
                           : " (" + std::to_string(t.ignored.size()) + " non-image files)"));
    }
  }
  return set;
}

std::string opencv_library_version() { return CV_VERSION; }

}  // namespace midge::data
