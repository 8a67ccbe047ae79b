// One long byte array in an HDF5 file (a pack's encoded images,
// data/pack.h), written and read without holding it whole.
//
// Written: appended piece by piece into a chunked, extendible uint8
// dataset, a chunk at a time, so that packing a large image set needs one
// chunk of memory. Unfiltered: the images are compressed already.
//
// Read: the file offset of every chunk is looked up once (HDF5's chunk
// index); after that any byte range is read with pread() on one file
// descriptor, on any number of threads at once. Debian's HDF5 is the
// serial build, which must never be entered by two threads at the same
// time, and the loader's workers read images while the main thread may be
// writing run.h5 or state.h5: so the loader's reads stay out of HDF5.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "io/hdf5.h"

namespace midge::io {

class ByteStreamWriter {
 public:
  // Creates dataset `path` in `file` (missing parent groups made) with
  // chunks of `chunk_bytes`.
  ByteStreamWriter(H5Node* file, const std::string& path, std::uint64_t chunk_bytes);
  ByteStreamWriter(const ByteStreamWriter&) = delete;
  ByteStreamWriter& operator=(const ByteStreamWriter&) = delete;
  ~ByteStreamWriter();

  // Appends `n` bytes; returns the offset of the first one in the array.
  std::uint64_t append(const void* data, std::size_t n);
  // Writes what is buffered and the dataset's crc32 attribute
  // (io/integrity.h); nothing may be appended after it.
  void finish();
  std::uint64_t size() const { return size_; }

 private:
  void flush();

  H5Node* file_;
  std::string path_;
  std::uint64_t chunk_bytes_;
  Handle dataset_;
  std::vector<unsigned char> buffer_;
  std::uint64_t written_ = 0;  // bytes in the dataset
  std::uint64_t size_ = 0;     // bytes appended
  std::uint32_t crc_ = 0;
  bool finished_ = false;
};

// Where the bytes of a ByteStreamWriter's dataset lie in its file.
struct ChunkMap {
  std::uint64_t chunk_bytes = 0;
  std::uint64_t size = 0;                   // bytes in the array
  std::vector<std::uint64_t> file_offsets;  // of chunk 0, 1, ... (from the file's start)
};

// The chunk map of dataset `path` of `file`. CorruptFileError naming the
// dataset when it is not a one-dimensional uint8 array of unfiltered
// chunks, or a chunk is missing or lies outside the file (`file_bytes`).
ChunkMap locate_chunks(const H5Node& file, const std::string& path, std::uint64_t file_bytes);

// Reads the start of the array through HDF5 and through `fd` (the same
// file) at the map's offset: CorruptFileError unless they are the same
// bytes. So a chunk map is never trusted untested, whatever HDF5 version
// reported it.
void check_chunk_map(const H5Node& file, const std::string& path, const ChunkMap& map, int fd);

}  // namespace midge::io
