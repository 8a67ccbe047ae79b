// A packed image set: one HDF5 file holding every image of a taxon folder
// set (`midge pack DATA --out images.h5`), for clusters that ask jobs not
// to open thousands of small files on the shared file system, and to copy
// data to node-local scratch first (slurm/*.sbatch, MIDGE_STAGE=1).
//
// data.root may name a pack instead of a folder, and a run from it is the
// run from the folder, bitwise: the pack keeps the folder scan's taxa,
// images and order (data/image_set.h), and its images' bytes unchanged.
// Inside a run an image of a pack is the path "<pack>/<taxon>/<file>", as
// if the pack were the folder: specimen patterns, manifests, run.h5's
// /split paths, the image cache, content hashes and replay all see paths
// and bytes as they would from the folder.
//
// Layout (docs/data.md): /images/{path, taxon, specimen, sha256, offset,
// size} per image, in scan order, and /images/bytes, the encoded files one
// after another in chunks of 1 MiB (io/byte_stream.h). Written sealed like
// every file midge writes (io/integrity.h): a pack is checked whole when a
// process first opens it, so a bad copy is refused before training.
//
// Reading: a process opens a pack once (its index and where its chunks
// lie) and keeps one file descriptor; images are then read with pread(),
// from any thread, without HDF5. Opening happens on the thread that scans
// data.root or lists predict's inputs, before the loader's workers start.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "data/image_set.h"

namespace midge::data {

class SpecimenPattern;

inline constexpr std::uint64_t kPackChunkBytes = 1 << 20;

struct PackSummary {
  std::size_t images = 0;
  std::size_t taxa = 0;
  std::size_t ignored = 0;    // non-image files of the folder, not packed
  std::size_t specimens = 0;  // distinct specimens named (0: unknown)
  std::uint64_t bytes = 0;    // encoded image bytes packed
};

// Packs the image set at folder `root` (scanned as scan_image_set does)
// into `out`, naming specimens by `pattern` when it is not empty. Throws
// DataError as the scan does, or naming an image that cannot be read.
PackSummary write_pack(const std::string& root, const std::string& out,
                       const SpecimenPattern& pattern, std::uint64_t chunk_bytes = kPackChunkBytes);

// Whether `path` is a file that starts like a midge pack (an HDF5 file
// after the seal); a cheap test of 8 bytes, not a check of the contents.
bool looks_like_pack(const std::string& path);

// The image set of pack `pack` (opened if this process has not yet):
// taxa and images as the folder packed was scanned, each image
// "<pack>/<taxon>/<file>", with the specimens named at packing when there
// were. CorruptFileError for a pack that is not whole, DataError for a
// file that is not a pack.
ImageSet scan_pack(const std::string& pack);

// If `path` lies inside a pack this process has opened: the image's
// bytes into `out`, and true (DataError naming it when the pack has no
// such image). False when `path` is not inside an open pack.
bool read_packed_image(const std::string& path, std::vector<unsigned char>* out);

// The images of open packs whose path starts with `prefix` (a pack, a
// taxon in it, or one image), sorted; the pack containing `prefix` is
// opened first when one does. Empty when `prefix` is not inside a pack.
std::vector<std::string> packed_images_under(const std::string& prefix);

// A copy of `pack` on node-local disk, for MIDGE_STAGE=1 (slurm/*.sbatch,
// `midge stage`): <dir>/midge-stage-<uid>-<hash>/<pack's file name>, <hash> the
// first 12 hex digits of the SHA-256 of the pack's absolute path, so the
// path is the same for every job and node (a requeued or resubmitted run
// resumes with the same data.root) and two packs never share one. Copied
// only when missing or when its size or modification time differ from the
// pack's; written under a temporary name, checked against its seal and
// renamed into place, so that two jobs staging on one node at once never
// see half a copy (temporary copies of stagers of this host that died are
// removed). Per user (<uid>): another user's copy in a shared /tmp is not
// theirs to replace. IoError naming both paths when the copy fails.
struct StagedPack {
  std::string path;
  bool copied = false;
};
StagedPack stage_pack(const std::string& pack, const std::string& dir);

// Opens the packs that any of `paths` (images of a manifest) lie in, so
// that the loader's workers find them open.
void open_packs_of(const std::vector<std::string>& paths);

}  // namespace midge::data
