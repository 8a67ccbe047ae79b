// A taxon image set on disk: ROOT/<taxon>/<image files>.
//
// Taxa are the sub-folders of the root (hidden ones, starting with '.', are
// skipped), sorted bytewise; within a taxon, image files are sorted bytewise
// by file name. That fixed order is what makes the every-fifth-image split
// reproducible across machines and file systems. Files that are not images
// (by extension) are counted and listed, never silently dropped; a missing
// root, a root without taxon folders and a taxon folder without images are
// errors naming the path.
#pragma once

#include <string>
#include <vector>

namespace midge::data {

// jpg, jpeg, png, tif, tiff, bmp in any letter case.
bool has_image_extension(const std::string& file_name);

struct TaxonFolder {
  std::string name;                  // folder name = taxon name
  std::vector<std::string> images;   // full paths, sorted by file name (bytewise)
  std::vector<std::string> ignored;  // full paths of non-image files
  // The specimen of each image (same order), or empty when unknown
  // (name_specimens, data/specimens.h).
  std::vector<std::string> specimens;
};

struct ImageSet {
  std::string root;
  std::vector<TaxonFolder> taxa;  // sorted by name
  std::size_t image_count() const;
  std::size_t ignored_count() const;
};

// Scans `root`; throws DataError as described above.
ImageSet scan_image_set(const std::string& root);

// Version of the OpenCV library linked in (data owns OpenCV).
std::string opencv_library_version();

}  // namespace midge::data
