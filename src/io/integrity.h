// Whether an HDF5 file is the one midge wrote, before anything reads it.
//
// Two checksums, each for what it does best:
// - The seal: every HDF5 file midge writes starts with a 512-byte HDF5
//   user block (HDF5 and h5py skip it) holding the SHA-256 of all the
//   bytes after it and the file's length. It is checked before HDF5 parses the file,
//   so a flipped bit anywhere (data, HDF5's own structures, attributes),
//   a truncation or a block overwritten on a bad disk is refused before
//   any of it can be used or can mislead the HDF5 library.
// - A CRC-32 of each dataset's values (attribute `crc32`), written with it:
//   when the seal does not match, these name the dataset that changed.
//   The seal alone could only say "somewhere in this file". The naming
//   parses the damaged file, so it runs in a child process: HDF5 may crash
//   on damaged structures of its own.
// Files without a seal (written before midge 0.1 had one) are read with
// one warning per file and no check.
//
// Why not HDF5's Fletcher32 filter: it needs chunked datasets, covers
// neither attributes nor HDF5's own metadata, and a mismatch surfaces as a
// bare read error. docs/results-schema.md has the costs measured.
#pragma once

#include <cstdint>
#include <filesystem>
#include <string>
#include <vector>

namespace midge::io {

// Bytes HDF5 leaves to the user at the start of each file midge writes.
inline constexpr std::uint64_t kSealBytes = 512;

// Writes the seal of a closed HDF5 file created with a kSealBytes user
// block; throws IoError.
void seal_file(const std::filesystem::path& file);

enum class SealState {
  kWhole,   // the seal matches every byte after it
  kLegacy,  // no seal: a file of an older midge (or of another program)
};

// Checks `file` against its seal. A file checked whole before in this
// process (same inode, size and time) is not read again. Throws
// CorruptFileError naming the file and what is wrong (the datasets whose
// CRC-32 no longer matches, or the truncation, or a damaged seal); a
// legacy file is logged once.
SealState check_seal(const std::filesystem::path& file);

// What `midge verify` prints for one file.
struct FileCheck {
  std::string path;
  enum class Verdict { kOk, kLegacy, kCorrupt } verdict = Verdict::kOk;
  std::string detail;  // what is corrupt, or the format of a whole file
};
FileCheck verify_file(const std::filesystem::path& file);

// The CRC-32 midge stores for values (numbers: their bytes in memory;
// strings: each one's UTF-8 bytes followed by a NUL).
std::uint32_t values_crc(const void* data, std::size_t bytes);
std::uint32_t strings_crc(const std::vector<std::string>& values);

}  // namespace midge::io
