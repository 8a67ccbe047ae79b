// A small, checked layer over the HDF5 C API: RAII handles and typed
// read/write of the shapes midge stores (numeric arrays, string arrays,
// scalar and array attributes). io owns HDF5; other modules use this.
//
// Every hid_t lives in a Handle that closes it; every HDF5 call is checked
// and a failure throws IoError naming the file and object. HDF5's own error
// printing is silenced (it would spray stack dumps into Slurm logs).
// Strings are variable-length UTF-8, which h5py reads as str.
//
// Files are never written in place: H5Writer creates "<target>.tmp-PID" and
// commit() closes and renames it over the target (io/atomic_file.h), so a
// killed run leaves the previous complete file or none.
//
// Every file written carries checksums (io/integrity.h): a CRC-32 per
// dataset and a seal over the whole file, checked when H5Reader or
// H5Editor opens it. Reads check each dataset's type against the one asked
// for: a crafted file is refused by name, never read out of bounds.
#pragma once

#include <hdf5.h>

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "io/atomic_file.h"

namespace midge::io {

// Owns one HDF5 identifier; `close` is the matching H5*close function.
class Handle {
 public:
  Handle() = default;
  Handle(hid_t id, herr_t (*close)(hid_t)) : id_(id), close_(close) {}
  ~Handle() { reset(); }
  Handle(Handle&& o) noexcept : id_(o.id_), close_(o.close_) { o.id_ = -1; }
  Handle& operator=(Handle&& o) noexcept {
    if (this != &o) {
      reset();
      id_ = o.id_;
      close_ = o.close_;
      o.id_ = -1;
    }
    return *this;
  }
  Handle(const Handle&) = delete;
  Handle& operator=(const Handle&) = delete;
  hid_t get() const { return id_; }
  bool valid() const { return id_ >= 0; }
  void reset();

 private:
  hid_t id_ = -1;
  herr_t (*close_)(hid_t) = nullptr;
};

// A group or file to read from or write to. Paths may contain '/'; writing
// creates missing parent groups.
class H5Node {
 public:
  H5Node(hid_t id, std::string file) : id_(id), file_(std::move(file)) {}
  hid_t id() const { return id_; }
  const std::string& file() const { return file_; }

  bool exists(const std::string& path) const;
  // Names of the direct children of group `path` ("" = this node), sorted.
  std::vector<std::string> children(const std::string& path = "") const;
  // Paths of every dataset in the file (or below this node), sorted.
  std::vector<std::string> datasets() const;
  // The CRC-32 of dataset `path`'s values as read now (io/integrity.h).
  std::uint32_t values_crc(const std::string& path) const;
  // Dimensions of dataset `path`.
  std::vector<std::uint64_t> shape(const std::string& path) const;
  // What `path` is; kMissing when nothing is there.
  enum class Kind { kMissing, kGroup, kStrings, kNumbers, kOther };
  Kind kind(const std::string& path) const;

  void write(const std::string& path, const std::vector<float>& v,
             const std::vector<std::uint64_t>& dims = {});
  void write(const std::string& path, const std::vector<double>& v,
             const std::vector<std::uint64_t>& dims = {});
  void write(const std::string& path, const std::vector<std::int64_t>& v,
             const std::vector<std::uint64_t>& dims = {});
  void write(const std::string& path, const std::vector<std::uint8_t>& v,
             const std::vector<std::uint64_t>& dims = {});
  void write(const std::string& path, const std::vector<std::string>& v,
             const std::vector<std::uint64_t>& dims = {});
  void write_scalar(const std::string& path, double v);
  void write_scalar(const std::string& path, std::int64_t v);
  void write_scalar(const std::string& path, const std::string& v);

  std::vector<float> read_floats(const std::string& path) const;
  std::vector<double> read_doubles(const std::string& path) const;
  std::vector<std::int64_t> read_int64s(const std::string& path) const;
  std::vector<std::uint8_t> read_bytes(const std::string& path) const;
  std::vector<std::string> read_strings(const std::string& path) const;
  double read_double(const std::string& path) const;
  std::int64_t read_int64(const std::string& path) const;
  std::string read_string(const std::string& path) const;

  // Attributes on the object at `path` ("" = this node).
  void set_attr(const std::string& path, const std::string& name, const std::string& v);
  void set_attr(const std::string& path, const std::string& name, double v);
  void set_attr(const std::string& path, const std::string& name, std::int64_t v);
  void set_attr(const std::string& path, const std::string& name, const std::vector<double>& v);
  void set_attr(const std::string& path, const std::string& name,
                const std::vector<std::string>& v);
  bool has_attr(const std::string& path, const std::string& name) const;
  std::string attr_string(const std::string& path, const std::string& name) const;
  double attr_double(const std::string& path, const std::string& name) const;
  std::int64_t attr_int64(const std::string& path, const std::string& name) const;
  std::vector<double> attr_doubles(const std::string& path, const std::string& name) const;
  std::vector<std::string> attr_strings(const std::string& path, const std::string& name) const;

 private:
  hid_t open_object(const std::string& path, Handle* holder) const;
  std::string where(const std::string& path) const;
  hid_t id_;
  std::string file_;
};

// Whether opening a file checks its seal first (io/integrity.h). Only the
// integrity check itself opens files unchecked, to name what changed.
enum class OpenCheck { kSealed, kUnchecked };

// Read-only access to an existing file; throws CorruptFileError when the
// file is not whole.
class H5Reader : public H5Node {
 public:
  explicit H5Reader(const std::string& path, OpenCheck check = OpenCheck::kSealed);

 private:
  Handle file_;
};

// A new file written under a temporary name; commit() makes it the target.
class H5Writer : public H5Node {
 public:
  explicit H5Writer(const std::string& target);
  // Without commit() the temporary file is removed and the target untouched.
  ~H5Writer();
  void commit();
  // commit(), first renaming the target (if any) to `previous`: the file
  // it replaces stays as one generation back (state.h5 -> state.prev.h5).
  void commit_keeping(const std::string& previous);

 private:
  explicit H5Writer(std::unique_ptr<AtomicFile> atomic);
  std::unique_ptr<AtomicFile> atomic_;
  Handle file_;
};

// An existing file changed under a temporary name: a copy of it is opened
// for writing and commit() renames the copy over the file, so a killed
// writer leaves the old file whole. Only what is changed differs.
class H5Editor : public H5Node {
 public:
  explicit H5Editor(const std::string& target);
  // Without commit() the copy is removed and the file untouched.
  ~H5Editor();
  void commit();

 private:
  explicit H5Editor(std::unique_ptr<AtomicFile> atomic, bool sealed);
  std::unique_ptr<AtomicFile> atomic_;
  bool sealed_;  // an older file without a seal stays without one
  Handle file_;
};

}  // namespace midge::io
