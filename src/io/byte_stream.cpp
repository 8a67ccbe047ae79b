#include "io/byte_stream.h"

#include <unistd.h>

#include <algorithm>
#include <cstring>

#include "core/crc32.h"
#include "core/errors.h"
#include "io/hdf5_checks.h"
#include "io/integrity.h"

namespace midge::io {
using detail::check;
using detail::check_id;

ByteStreamWriter::ByteStreamWriter(H5Node* file, const std::string& path, std::uint64_t chunk_bytes)
    : file_(file), path_(path), chunk_bytes_(std::max<std::uint64_t>(chunk_bytes, 1)) {
  const std::string where = file_->file() + ":/" + path_;
  hsize_t dims = 0;
  hsize_t max_dims = H5S_UNLIMITED;
  Handle space(check_id(H5Screate_simple(1, &dims, &max_dims), "H5Screate_simple"), H5Sclose);
  Handle dcpl(check_id(H5Pcreate(H5P_DATASET_CREATE), "H5Pcreate"), H5Pclose);
  hsize_t chunk = chunk_bytes_;
  check(H5Pset_chunk(dcpl.get(), 1, &chunk), "H5Pset_chunk " + where);
  Handle lcpl(check_id(H5Pcreate(H5P_LINK_CREATE), "H5Pcreate"), H5Pclose);
  check(H5Pset_create_intermediate_group(lcpl.get(), 1), "H5Pset_create_intermediate_group");
  dataset_ = Handle(check_id(H5Dcreate2(file_->id(), path_.c_str(), H5T_NATIVE_UINT8, space.get(),
                                        lcpl.get(), dcpl.get(), H5P_DEFAULT),
                             "cannot create " + where),
                    H5Dclose);
  buffer_.reserve(chunk_bytes_);
}

ByteStreamWriter::~ByteStreamWriter() = default;

std::uint64_t ByteStreamWriter::append(const void* data, std::size_t n) {
  if (finished_) throw IoError("HDF5: " + path_ + " appended to after finish()");
  const std::uint64_t at = size_;
  const auto* p = static_cast<const unsigned char*>(data);
  crc_ = crc32_update(crc_, p, n);
  while (n > 0) {
    const std::size_t take = std::min<std::size_t>(n, chunk_bytes_ - buffer_.size());
    buffer_.insert(buffer_.end(), p, p + take);
    p += take;
    n -= take;
    size_ += take;
    if (buffer_.size() == chunk_bytes_) flush();
  }
  return at;
}

void ByteStreamWriter::flush() {
  if (buffer_.empty()) return;
  const std::string where = file_->file() + ":/" + path_;
  // Whole chunks, each written once: HDF5 writes them straight to the file.
  hsize_t new_size = written_ + buffer_.size();
  check(H5Dset_extent(dataset_.get(), &new_size), "cannot extend " + where);
  Handle file_space(check_id(H5Dget_space(dataset_.get()), "H5Dget_space " + where), H5Sclose);
  hsize_t start = written_;
  hsize_t count = buffer_.size();
  check(H5Sselect_hyperslab(file_space.get(), H5S_SELECT_SET, &start, nullptr, &count, nullptr),
        "H5Sselect_hyperslab " + where);
  Handle mem_space(check_id(H5Screate_simple(1, &count, nullptr), "H5Screate_simple"), H5Sclose);
  check(H5Dwrite(dataset_.get(), H5T_NATIVE_UINT8, mem_space.get(), file_space.get(), H5P_DEFAULT,
                 buffer_.data()),
        "cannot write " + where);
  written_ = new_size;
  buffer_.clear();
}

void ByteStreamWriter::finish() {
  if (finished_) return;
  flush();
  // The same checksum attribute as every dataset midge writes (hdf5.cpp).
  const std::string where = file_->file() + ":/" + path_;
  Handle space(check_id(H5Screate(H5S_SCALAR), "H5Screate"), H5Sclose);
  Handle a(check_id(H5Acreate2(dataset_.get(), "crc32", H5T_NATIVE_UINT32, space.get(), H5P_DEFAULT,
                               H5P_DEFAULT),
                    "cannot create attribute crc32 on " + where),
           H5Aclose);
  check(H5Awrite(a.get(), H5T_NATIVE_UINT32, &crc_), "write attribute crc32 on " + where);
  dataset_.reset();
  finished_ = true;
}

ChunkMap locate_chunks(const H5Node& file, const std::string& path, std::uint64_t file_bytes) {
  const std::string where = file.file() + ":/" + path;
  auto bad = [&](const std::string& what) { return CorruptFileError(where + ": " + what); };
  Handle ds(H5Dopen2(file.id(), path.c_str(), H5P_DEFAULT), H5Dclose);
  if (!ds.valid()) throw bad("no such dataset");
  Handle type(H5Dget_type(ds.get()), H5Tclose);
  if (!type.valid() || H5Tget_class(type.get()) != H5T_INTEGER || H5Tget_size(type.get()) != 1) {
    throw bad("not a byte array");
  }
  Handle space(H5Dget_space(ds.get()), H5Sclose);
  hsize_t size = 0;
  if (!space.valid() || H5Sget_simple_extent_ndims(space.get()) != 1 ||
      H5Sget_simple_extent_dims(space.get(), &size, nullptr) < 0) {
    throw bad("not one-dimensional");
  }
  Handle dcpl(H5Dget_create_plist(ds.get()), H5Pclose);
  hsize_t chunk = 0;
  if (!dcpl.valid() || H5Pget_layout(dcpl.get()) != H5D_CHUNKED ||
      H5Pget_chunk(dcpl.get(), 1, &chunk) != 1 || chunk == 0) {
    throw bad("not stored in chunks");
  }
  if (H5Pget_nfilters(dcpl.get()) != 0) throw bad("filtered (compressed) chunks");
  // Where HDF5 puts the user block (the seal) in the chunk addresses it
  // reports: before 1.14.4 they count from its end, from 1.14.4 on from
  // the file's start (HDFGroup/hdf5#4236). Checked below on chunk 0.
  hsize_t base = 0;
#if !H5_VERSION_GE(1, 14, 4)
  Handle fcpl(H5Fget_create_plist(file.id()), H5Pclose);
  if (!fcpl.valid() || H5Pget_userblock(fcpl.get(), &base) < 0) throw bad("no file header");
#endif

  ChunkMap map;
  map.chunk_bytes = chunk;
  map.size = size;
  const std::uint64_t chunks = (size + chunk - 1) / chunk;
  map.file_offsets.resize(chunks);
  // By coordinate: one lookup in the chunk index each (by number, HDF5
  // walks the index from its start for every chunk).
  for (std::uint64_t i = 0; i < chunks; ++i) {
    hsize_t offset = i * chunk;
    unsigned filters = 0;
    haddr_t address = HADDR_UNDEF;
    hsize_t bytes = 0;
    if (H5Dget_chunk_info_by_coord(ds.get(), &offset, &filters, &address, &bytes) < 0 ||
        address == HADDR_UNDEF) {
      throw bad("chunk " + std::to_string(i) + " of " + std::to_string(chunks) + " is missing");
    }
    const std::uint64_t at = base + address;
    if (bytes != chunk || at + bytes > file_bytes) {
      throw bad("chunk " + std::to_string(i) + " lies outside the file");
    }
    map.file_offsets[i] = at;
  }
  return map;
}

void check_chunk_map(const H5Node& file, const std::string& path, const ChunkMap& map, int fd) {
  if (map.size == 0) return;
  const std::string where = file.file() + ":/" + path;
  Handle ds(H5Dopen2(file.id(), path.c_str(), H5P_DEFAULT), H5Dclose);
  Handle space(ds.valid() ? H5Dget_space(ds.get()) : -1, H5Sclose);
  hsize_t start = 0;
  hsize_t count = std::min<std::uint64_t>({map.size, map.chunk_bytes, 4096});
  std::vector<unsigned char> through_hdf5(count);
  std::vector<unsigned char> direct(count);
  Handle mem(H5Screate_simple(1, &count, nullptr), H5Sclose);
  const bool read =
      space.valid() && mem.valid() &&
      H5Sselect_hyperslab(space.get(), H5S_SELECT_SET, &start, nullptr, &count, nullptr) >= 0 &&
      H5Dread(ds.get(), H5T_NATIVE_UINT8, mem.get(), space.get(), H5P_DEFAULT,
              through_hdf5.data()) >= 0;
  if (!read) throw CorruptFileError(where + ": unreadable");
  const ssize_t got = ::pread(fd, direct.data(), count, static_cast<off_t>(map.file_offsets[0]));
  if (got != static_cast<ssize_t>(count) || direct != through_hdf5) {
    throw CorruptFileError(where + ": its first chunk is not where HDF5 " H5_VERS_INFO
                                   " says it is");
  }
}

}  // namespace midge::io
