#include "io/hdf5.h"

#include <algorithm>
#include <cstring>

#include "core/errors.h"
#include "io/hdf5_checks.h"
#include "io/integrity.h"

namespace midge::io {

namespace detail {

hid_t check_id(hid_t id, const std::string& what) {
  if (id < 0) throw IoError("HDF5: " + what);
  return id;
}

void check(herr_t rc, const std::string& what) {
  if (rc < 0) throw IoError("HDF5: " + what);
}

}  // namespace detail

namespace {

using detail::check;
using detail::check_id;

// HDF5 prints an error stack on stderr by default; midge reports its own.
struct SilenceHdf5 {
  SilenceHdf5() { H5Eset_auto2(H5E_DEFAULT, nullptr, nullptr); }
};
const SilenceHdf5 kSilence;

// A read that fails on a file that opened is a file not as written.
hid_t check_read_id(hid_t id, const std::string& what) {
  if (id < 0) throw CorruptFileError(what);
  return id;
}

void check_read(herr_t rc, const std::string& what) {
  if (rc < 0) throw CorruptFileError(what);
}

// The checksum attribute every dataset midge writes carries (io/integrity.h).
constexpr const char* kCrcAttr = "crc32";

void set_crc(hid_t dataset, std::uint32_t crc, const std::string& where) {
  Handle space(check_id(H5Screate(H5S_SCALAR), "H5Screate"), H5Sclose);
  Handle a(check_id(H5Acreate2(dataset, kCrcAttr, H5T_NATIVE_UINT32, space.get(), H5P_DEFAULT,
                               H5P_DEFAULT),
                    "cannot create attribute crc32 on " + where),
           H5Aclose);
  check(H5Awrite(a.get(), H5T_NATIVE_UINT32, &crc), "write attribute crc32 on " + where);
}

Handle string_type() {
  Handle t(check_id(H5Tcopy(H5T_C_S1), "H5Tcopy"), H5Tclose);
  check(H5Tset_size(t.get(), H5T_VARIABLE), "H5Tset_size");
  check(H5Tset_cset(t.get(), H5T_CSET_UTF8), "H5Tset_cset");
  return t;
}

Handle simple_space(const std::vector<std::uint64_t>& dims) {
  std::vector<hsize_t> d(dims.begin(), dims.end());
  return Handle(
      check_id(H5Screate_simple(static_cast<int>(d.size()), d.data(), nullptr), "H5Screate_simple"),
      H5Sclose);
}

Handle scalar_space() { return Handle(check_id(H5Screate(H5S_SCALAR), "H5Screate"), H5Sclose); }

// Link creation that makes missing parent groups.
Handle parents_lcpl() {
  Handle p(check_id(H5Pcreate(H5P_LINK_CREATE), "H5Pcreate"), H5Pclose);
  check(H5Pset_create_intermediate_group(p.get(), 1), "H5Pset_create_intermediate_group");
  return p;
}

std::size_t element_count(const std::vector<std::uint64_t>& dims) {
  std::size_t n = 1;
  for (auto d : dims) n *= static_cast<std::size_t>(d);
  return n;
}

// Reads variable- or fixed-length strings of `type` from dataset/attribute.
std::vector<std::string> read_string_data(hid_t obj, bool attribute, std::size_t n,
                                          const std::string& where) {
  Handle file_type(
      check_read_id(attribute ? H5Aget_type(obj) : H5Dget_type(obj), "cannot read " + where),
      H5Tclose);
  if (H5Tget_class(file_type.get()) != H5T_STRING) {
    throw CorruptFileError(where + " is not a string");
  }
  std::vector<std::string> out;
  if (H5Tis_variable_str(file_type.get()) > 0) {
    Handle mem = string_type();
    std::vector<char*> ptrs(n, nullptr);
    herr_t rc = attribute ? H5Aread(obj, mem.get(), ptrs.data())
                          : H5Dread(obj, mem.get(), H5S_ALL, H5S_ALL, H5P_DEFAULT, ptrs.data());
    check_read(rc, "cannot read " + where);
    for (char* p : ptrs) out.emplace_back(p != nullptr ? p : "");
    Handle space(check_id(attribute ? H5Aget_space(obj) : H5Dget_space(obj), "space"), H5Sclose);
    H5Dvlen_reclaim(mem.get(), space.get(), H5P_DEFAULT, ptrs.data());
  } else {
    const std::size_t len = H5Tget_size(file_type.get());
    std::vector<char> buf(n * len + 1, '\0');
    Handle mem(check_id(H5Tcopy(H5T_C_S1), "H5Tcopy"), H5Tclose);
    check(H5Tset_size(mem.get(), len), "H5Tset_size");
    herr_t rc = attribute ? H5Aread(obj, mem.get(), buf.data())
                          : H5Dread(obj, mem.get(), H5S_ALL, H5S_ALL, H5P_DEFAULT, buf.data());
    check_read(rc, "cannot read " + where);
    for (std::size_t i = 0; i < n; ++i) {
      std::string s(buf.data() + i * len, len);
      out.push_back(s.substr(0, s.find('\0')));
    }
  }
  return out;
}

template <class T>
hid_t native_type();
template <>
hid_t native_type<float>() {
  return H5T_NATIVE_FLOAT;
}
template <>
hid_t native_type<double>() {
  return H5T_NATIVE_DOUBLE;
}
template <>
hid_t native_type<std::int64_t>() {
  return H5T_NATIVE_INT64;
}
template <>
hid_t native_type<std::uint8_t>() {
  return H5T_NATIVE_UINT8;
}

// "float32", "int64", ... of an HDF5 number type.
std::string type_name(hid_t type) {
  const H5T_class_t c = H5Tget_class(type);
  const std::string bits = std::to_string(8 * H5Tget_size(type));
  if (c == H5T_FLOAT) return "float" + bits;
  if (c == H5T_INTEGER) return (H5Tget_sign(type) == H5T_SGN_NONE ? "uint" : "int") + bits;
  if (c == H5T_STRING) return "string";
  return "type class " + std::to_string(static_cast<int>(c));
}

// The dataset's type must be the one midge writes for T: a float64 where
// float32 belongs (or a string where numbers do) is a file not as written.
template <class T>
void expect_type(hid_t dataset, const std::string& where) {
  Handle type(check_read_id(H5Dget_type(dataset), "cannot read " + where), H5Tclose);
  const hid_t want = native_type<T>();
  const bool same =
      H5Tget_class(type.get()) == H5Tget_class(want) &&
      H5Tget_size(type.get()) == H5Tget_size(want) &&
      (H5Tget_class(want) != H5T_INTEGER || H5Tget_sign(type.get()) == H5Tget_sign(want));
  if (!same) {
    throw CorruptFileError(where + " is " + type_name(type.get()) + ", expected " +
                           type_name(want));
  }
}

}  // namespace

void Handle::reset() {
  if (id_ >= 0 && close_ != nullptr) close_(id_);
  id_ = -1;
}

std::string H5Node::where(const std::string& path) const { return file_ + ":/" + path; }

bool H5Node::exists(const std::string& path) const {
  if (path.empty()) return true;
  // Check each prefix: H5Lexists fails when a parent is missing.
  std::size_t pos = 0;
  while (true) {
    pos = path.find('/', pos + 1);
    const std::string prefix = path.substr(0, pos);
    if (H5Lexists(id_, prefix.c_str(), H5P_DEFAULT) <= 0) return false;
    if (pos == std::string::npos) return true;
  }
}

hid_t H5Node::open_object(const std::string& path, Handle* holder) const {
  if (path.empty()) return id_;
  *holder = Handle(check_id(H5Oopen(id_, path.c_str(), H5P_DEFAULT), "cannot open " + where(path)),
                   H5Oclose);
  return holder->get();
}

std::vector<std::string> H5Node::children(const std::string& path) const {
  Handle holder;
  hid_t g = open_object(path, &holder);
  H5G_info_t info;
  check(H5Gget_info(g, &info), "H5Gget_info " + where(path));
  std::vector<std::string> names;
  for (hsize_t i = 0; i < info.nlinks; ++i) {
    ssize_t len =
        H5Lget_name_by_idx(g, ".", H5_INDEX_NAME, H5_ITER_INC, i, nullptr, 0, H5P_DEFAULT);
    check(static_cast<herr_t>(len < 0 ? -1 : 0), "H5Lget_name_by_idx " + where(path));
    std::string name(static_cast<std::size_t>(len) + 1, '\0');
    H5Lget_name_by_idx(g, ".", H5_INDEX_NAME, H5_ITER_INC, i, name.data(), name.size(),
                       H5P_DEFAULT);
    name.resize(static_cast<std::size_t>(len));
    names.push_back(name);
  }
  std::sort(names.begin(), names.end());
  return names;
}

namespace {

herr_t collect_dataset(hid_t /*obj*/, const char* name, const H5O_info_t* info, void* out) {
  if (info->type == H5O_TYPE_DATASET) static_cast<std::vector<std::string>*>(out)->push_back(name);
  return 0;
}

}  // namespace

std::vector<std::string> H5Node::datasets() const {
  std::vector<std::string> names;
#if H5_VERSION_GE(1, 12, 0)
  check_read(H5Ovisit3(id_, H5_INDEX_NAME, H5_ITER_INC, collect_dataset, &names, H5O_INFO_BASIC),
             "cannot list the datasets of " + file_);
#else
  check_read(H5Ovisit2(id_, H5_INDEX_NAME, H5_ITER_INC, collect_dataset, &names, H5O_INFO_BASIC),
             "cannot list the datasets of " + file_);
#endif
  std::sort(names.begin(), names.end());
  return names;
}

std::uint32_t H5Node::values_crc(const std::string& path) const {
  Handle ds(check_read_id(H5Dopen2(id_, path.c_str(), H5P_DEFAULT), "no dataset " + where(path)),
            H5Dclose);
  Handle type(check_read_id(H5Dget_type(ds.get()), "cannot read " + where(path)), H5Tclose);
  Handle space(check_read_id(H5Dget_space(ds.get()), "cannot read " + where(path)), H5Sclose);
  const auto n =
      static_cast<std::size_t>(std::max<hssize_t>(H5Sget_simple_extent_npoints(space.get()), 0));
  if (H5Tget_class(type.get()) == H5T_STRING) {
    return strings_crc(read_string_data(ds.get(), false, n, where(path)));
  }
  Handle mem(
      check_read_id(H5Tget_native_type(type.get(), H5T_DIR_ASCEND), "cannot read " + where(path)),
      H5Tclose);
  std::vector<unsigned char> bytes(n * H5Tget_size(mem.get()));
  if (n > 0) {
    check_read(H5Dread(ds.get(), mem.get(), H5S_ALL, H5S_ALL, H5P_DEFAULT, bytes.data()),
               "cannot read " + where(path));
  }
  return io::values_crc(bytes.data(), bytes.size());
}

H5Node::Kind H5Node::kind(const std::string& path) const {
  if (!exists(path)) return Kind::kMissing;
  const hid_t g = H5Gopen2(id_, path.c_str(), H5P_DEFAULT);
  if (g >= 0) {
    H5Gclose(g);
    return Kind::kGroup;
  }
  const hid_t ds = H5Dopen2(id_, path.c_str(), H5P_DEFAULT);
  if (ds < 0) return Kind::kOther;
  Handle dataset(ds, H5Dclose);
  Handle type(check_id(H5Dget_type(ds), "get_type " + where(path)), H5Tclose);
  switch (H5Tget_class(type.get())) {
    case H5T_STRING:
      return Kind::kStrings;
    case H5T_INTEGER:
    case H5T_FLOAT:
      return Kind::kNumbers;
    default:
      return Kind::kOther;
  }
}

std::vector<std::uint64_t> H5Node::shape(const std::string& path) const {
  Handle ds(check_read_id(H5Dopen2(id_, path.c_str(), H5P_DEFAULT), "no dataset " + where(path)),
            H5Dclose);
  Handle space(check_read_id(H5Dget_space(ds.get()), "cannot read " + where(path)), H5Sclose);
  const int rank = H5Sget_simple_extent_ndims(space.get());
  if (rank < 0) throw CorruptFileError("cannot read the shape of " + where(path));
  std::vector<hsize_t> d(static_cast<std::size_t>(std::max(rank, 0)));
  H5Sget_simple_extent_dims(space.get(), d.data(), nullptr);
  return {d.begin(), d.end()};
}

namespace {

// A new dataset at `path` (missing parent groups created).
Handle create_dataset(hid_t loc, const std::string& path, const std::string& where, hid_t type,
                      hid_t space) {
  Handle lcpl = parents_lcpl();
  return Handle(
      check_id(H5Dcreate2(loc, path.c_str(), type, space, lcpl.get(), H5P_DEFAULT, H5P_DEFAULT),
               "cannot create " + where),
      H5Dclose);
}

template <class T>
void write_scalar_value(hid_t loc, const std::string& path, const std::string& where, T v) {
  Handle space = scalar_space();
  Handle ds = create_dataset(loc, path, where, native_type<T>(), space.get());
  check(H5Dwrite(ds.get(), native_type<T>(), H5S_ALL, H5S_ALL, H5P_DEFAULT, &v),
        "cannot write " + where);
  set_crc(ds.get(), values_crc(&v, sizeof v), where);
}

template <class T>
void write_array(hid_t loc, const std::string& path, const std::string& where, const T* data,
                 std::size_t n, std::vector<std::uint64_t> dims) {
  if (dims.empty()) dims = {n};
  if (element_count(dims) != n) throw IoError("HDF5: shape does not match data for " + where);
  Handle space = simple_space(dims);
  Handle ds = create_dataset(loc, path, where, native_type<T>(), space.get());
  if (n > 0) {
    check(H5Dwrite(ds.get(), native_type<T>(), H5S_ALL, H5S_ALL, H5P_DEFAULT, data),
          "cannot write " + where);
  }
  set_crc(ds.get(), values_crc(data, n * sizeof(T)), where);
}

template <class T>
std::vector<T> read_array(hid_t loc, const std::string& path, const std::string& where) {
  Handle ds(check_read_id(H5Dopen2(loc, path.c_str(), H5P_DEFAULT), "no dataset " + where),
            H5Dclose);
  expect_type<T>(ds.get(), where);
  Handle space(check_read_id(H5Dget_space(ds.get()), "cannot read " + where), H5Sclose);
  const hssize_t n = H5Sget_simple_extent_npoints(space.get());
  if (n < 0) throw CorruptFileError("cannot read the size of " + where);
  std::vector<T> out(static_cast<std::size_t>(n));
  if (!out.empty()) {
    check_read(H5Dread(ds.get(), native_type<T>(), H5S_ALL, H5S_ALL, H5P_DEFAULT, out.data()),
               "cannot read " + where);
  }
  return out;
}

}  // namespace

void H5Node::write(const std::string& path, const std::vector<float>& v,
                   const std::vector<std::uint64_t>& dims) {
  write_array(id_, path, where(path), v.data(), v.size(), dims);
}
void H5Node::write(const std::string& path, const std::vector<double>& v,
                   const std::vector<std::uint64_t>& dims) {
  write_array(id_, path, where(path), v.data(), v.size(), dims);
}
void H5Node::write(const std::string& path, const std::vector<std::int64_t>& v,
                   const std::vector<std::uint64_t>& dims) {
  write_array(id_, path, where(path), v.data(), v.size(), dims);
}
void H5Node::write(const std::string& path, const std::vector<std::uint8_t>& v,
                   const std::vector<std::uint64_t>& dims) {
  write_array(id_, path, where(path), v.data(), v.size(), dims);
}

void H5Node::write(const std::string& path, const std::vector<std::string>& v,
                   const std::vector<std::uint64_t>& dims) {
  if (!dims.empty() && element_count(dims) != v.size()) {
    throw IoError("HDF5: shape does not match data for " + where(path));
  }
  Handle type = string_type();
  Handle space = simple_space(dims.empty() ? std::vector<std::uint64_t>{v.size()} : dims);
  Handle ds = create_dataset(id_, path, where(path), type.get(), space.get());
  std::vector<const char*> ptrs;
  for (const auto& s : v) ptrs.push_back(s.c_str());
  if (!v.empty()) {
    check(H5Dwrite(ds.get(), type.get(), H5S_ALL, H5S_ALL, H5P_DEFAULT, ptrs.data()),
          "cannot write " + where(path));
  }
  set_crc(ds.get(), strings_crc(v), where(path));
}

void H5Node::write_scalar(const std::string& path, double v) {
  write_scalar_value(id_, path, where(path), v);
}

void H5Node::write_scalar(const std::string& path, std::int64_t v) {
  write_scalar_value(id_, path, where(path), v);
}

void H5Node::write_scalar(const std::string& path, const std::string& v) {
  Handle type = string_type();
  Handle space = scalar_space();
  Handle ds = create_dataset(id_, path, where(path), type.get(), space.get());
  const char* p = v.c_str();
  check(H5Dwrite(ds.get(), type.get(), H5S_ALL, H5S_ALL, H5P_DEFAULT, &p),
        "cannot write " + where(path));
  set_crc(ds.get(), strings_crc({v}), where(path));
}

std::vector<float> H5Node::read_floats(const std::string& path) const {
  return read_array<float>(id_, path, where(path));
}
std::vector<double> H5Node::read_doubles(const std::string& path) const {
  return read_array<double>(id_, path, where(path));
}
std::vector<std::int64_t> H5Node::read_int64s(const std::string& path) const {
  return read_array<std::int64_t>(id_, path, where(path));
}
std::vector<std::uint8_t> H5Node::read_bytes(const std::string& path) const {
  return read_array<std::uint8_t>(id_, path, where(path));
}

std::vector<std::string> H5Node::read_strings(const std::string& path) const {
  Handle ds(check_read_id(H5Dopen2(id_, path.c_str(), H5P_DEFAULT), "no dataset " + where(path)),
            H5Dclose);
  Handle space(check_read_id(H5Dget_space(ds.get()), "cannot read " + where(path)), H5Sclose);
  const hssize_t n = H5Sget_simple_extent_npoints(space.get());
  if (n < 0) throw CorruptFileError("cannot read the size of " + where(path));
  return read_string_data(ds.get(), false, static_cast<std::size_t>(n), where(path));
}

double H5Node::read_double(const std::string& path) const {
  auto v = read_doubles(path);
  if (v.size() != 1) throw CorruptFileError(where(path) + " is not a scalar");
  return v[0];
}

std::int64_t H5Node::read_int64(const std::string& path) const {
  auto v = read_int64s(path);
  if (v.size() != 1) throw CorruptFileError(where(path) + " is not a scalar");
  return v[0];
}

std::string H5Node::read_string(const std::string& path) const {
  auto v = read_strings(path);
  if (v.size() != 1) throw CorruptFileError(where(path) + " is not a scalar string");
  return v[0];
}

namespace {

void replace_attr(hid_t obj, const std::string& name) {
  if (H5Aexists(obj, name.c_str()) > 0) H5Adelete(obj, name.c_str());
}

}  // namespace

void H5Node::set_attr(const std::string& path, const std::string& name, const std::string& v) {
  Handle holder;
  hid_t obj = open_object(path, &holder);
  replace_attr(obj, name);
  Handle type = string_type();
  Handle space = scalar_space();
  Handle a(
      check_id(H5Acreate2(obj, name.c_str(), type.get(), space.get(), H5P_DEFAULT, H5P_DEFAULT),
               "cannot create attribute " + name + " on " + where(path)),
      H5Aclose);
  const char* p = v.c_str();
  check(H5Awrite(a.get(), type.get(), &p), "write attribute " + name);
}

void H5Node::set_attr(const std::string& path, const std::string& name, double v) {
  set_attr(path, name, std::vector<double>{v});
}

void H5Node::set_attr(const std::string& path, const std::string& name, std::int64_t v) {
  Handle holder;
  hid_t obj = open_object(path, &holder);
  replace_attr(obj, name);
  Handle space = scalar_space();
  Handle a(check_id(H5Acreate2(obj, name.c_str(), H5T_NATIVE_INT64, space.get(), H5P_DEFAULT,
                               H5P_DEFAULT),
                    "cannot create attribute " + name),
           H5Aclose);
  check(H5Awrite(a.get(), H5T_NATIVE_INT64, &v), "write attribute " + name);
}

void H5Node::set_attr(const std::string& path, const std::string& name,
                      const std::vector<double>& v) {
  Handle holder;
  hid_t obj = open_object(path, &holder);
  replace_attr(obj, name);
  Handle space = v.size() == 1 ? scalar_space() : simple_space({v.size()});
  Handle a(check_id(H5Acreate2(obj, name.c_str(), H5T_NATIVE_DOUBLE, space.get(), H5P_DEFAULT,
                               H5P_DEFAULT),
                    "cannot create attribute " + name),
           H5Aclose);
  check(H5Awrite(a.get(), H5T_NATIVE_DOUBLE, v.data()), "write attribute " + name);
}

void H5Node::set_attr(const std::string& path, const std::string& name,
                      const std::vector<std::string>& v) {
  Handle holder;
  hid_t obj = open_object(path, &holder);
  replace_attr(obj, name);
  Handle type = string_type();
  Handle space = simple_space({v.size()});
  Handle a(
      check_id(H5Acreate2(obj, name.c_str(), type.get(), space.get(), H5P_DEFAULT, H5P_DEFAULT),
               "cannot create attribute " + name),
      H5Aclose);
  std::vector<const char*> ptrs;
  for (const auto& s : v) ptrs.push_back(s.c_str());
  check(H5Awrite(a.get(), type.get(), ptrs.data()), "write attribute " + name);
}

bool H5Node::has_attr(const std::string& path, const std::string& name) const {
  if (!exists(path)) return false;
  Handle holder;
  hid_t obj = open_object(path, &holder);
  return H5Aexists(obj, name.c_str()) > 0;
}

namespace {

Handle open_attr(hid_t obj, const std::string& name, const std::string& where) {
  return Handle(check_read_id(H5Aopen(obj, name.c_str(), H5P_DEFAULT),
                              "no attribute " + name + " on " + where),
                H5Aclose);
}

std::size_t attr_count(hid_t attr, const std::string& where) {
  Handle space(check_read_id(H5Aget_space(attr), "cannot read " + where), H5Sclose);
  const hssize_t n = H5Sget_simple_extent_npoints(space.get());
  if (n < 0) throw CorruptFileError("cannot read the size of " + where);
  return static_cast<std::size_t>(n);
}

// Numbers are read as numbers only: HDF5 would otherwise try to convert a
// string attribute, and a crafted file must be refused by name.
void expect_number_attr(hid_t attr, const std::string& where) {
  Handle type(check_read_id(H5Aget_type(attr), "cannot read " + where), H5Tclose);
  const H5T_class_t c = H5Tget_class(type.get());
  if (c != H5T_INTEGER && c != H5T_FLOAT) {
    throw CorruptFileError(where + " is " + type_name(type.get()) + ", expected a number");
  }
}

}  // namespace

std::string H5Node::attr_string(const std::string& path, const std::string& name) const {
  auto v = attr_strings(path, name);
  if (v.size() != 1) {
    throw CorruptFileError("attribute " + name + " on " + where(path) + " is not a string");
  }
  return v[0];
}

std::vector<std::string> H5Node::attr_strings(const std::string& path,
                                              const std::string& name) const {
  Handle holder;
  hid_t obj = open_object(path, &holder);
  Handle a = open_attr(obj, name, where(path));
  const std::string at = where(path) + "@" + name;
  return read_string_data(a.get(), true, attr_count(a.get(), at), at);
}

std::vector<double> H5Node::attr_doubles(const std::string& path, const std::string& name) const {
  Handle holder;
  hid_t obj = open_object(path, &holder);
  Handle a = open_attr(obj, name, where(path));
  const std::string at = where(path) + "@" + name;
  expect_number_attr(a.get(), at);
  std::vector<double> v(attr_count(a.get(), at));
  if (!v.empty()) check_read(H5Aread(a.get(), H5T_NATIVE_DOUBLE, v.data()), "cannot read " + at);
  return v;
}

double H5Node::attr_double(const std::string& path, const std::string& name) const {
  auto v = attr_doubles(path, name);
  if (v.size() != 1) {
    throw CorruptFileError("attribute " + name + " on " + where(path) + " is not a scalar");
  }
  return v[0];
}

std::int64_t H5Node::attr_int64(const std::string& path, const std::string& name) const {
  Handle holder;
  hid_t obj = open_object(path, &holder);
  Handle a = open_attr(obj, name, where(path));
  const std::string at = where(path) + "@" + name;
  expect_number_attr(a.get(), at);
  // One value only: H5Aread writes as many as the attribute holds.
  if (attr_count(a.get(), at) != 1) throw CorruptFileError(at + " is not a scalar");
  std::int64_t v = 0;
  check_read(H5Aread(a.get(), H5T_NATIVE_INT64, &v), "cannot read " + at);
  return v;
}

namespace {

hid_t open_checked(const std::string& path, OpenCheck check) {
  if (check == OpenCheck::kSealed) check_seal(path);
  return check_read_id(H5Fopen(path.c_str(), H5F_ACC_RDONLY, H5P_DEFAULT),
                       "cannot open " + path + " (missing, or not an HDF5 file)");
}

// A new file with room for the seal (io/integrity.h) before HDF5's data.
hid_t create_sealable(const std::string& temp) {
  Handle fcpl(check_id(H5Pcreate(H5P_FILE_CREATE), "H5Pcreate"), H5Pclose);
  check(H5Pset_userblock(fcpl.get(), kSealBytes), "H5Pset_userblock");
  return check_id(H5Fcreate(temp.c_str(), H5F_ACC_TRUNC, fcpl.get(), H5P_DEFAULT),
                  "cannot create " + temp);
}

}  // namespace

H5Reader::H5Reader(const std::string& path, OpenCheck check)
    : H5Node(open_checked(path, check), path), file_(id(), H5Fclose) {}

H5Writer::H5Writer(const std::string& target) : H5Writer(std::make_unique<AtomicFile>(target)) {}

H5Writer::H5Writer(std::unique_ptr<AtomicFile> atomic)
    : H5Node(create_sealable(atomic->temp_path().string()), atomic->target().string()),
      atomic_(std::move(atomic)),
      file_(id(), H5Fclose) {}

H5Writer::~H5Writer() { file_.reset(); }

namespace {
// The copy of `atomic`'s target under its temporary name, opened for writing.
hid_t open_copy(const AtomicFile& atomic) {
  std::error_code ec;
  std::filesystem::copy_file(atomic.target(), atomic.temp_path(),
                             std::filesystem::copy_options::overwrite_existing, ec);
  if (ec) {
    throw IoError("cannot copy " + atomic.target().string() + " to edit it: " + ec.message());
  }
  return check_id(H5Fopen(atomic.temp_path().c_str(), H5F_ACC_RDWR, H5P_DEFAULT),
                  "cannot open " + atomic.target().string() + " (not an HDF5 file?)");
}
}  // namespace

H5Editor::H5Editor(const std::string& target)
    // The file is checked before it is changed: an edit must not re-seal
    // a corrupted file as whole.
    : H5Editor(std::make_unique<AtomicFile>(target), check_seal(target) == SealState::kWhole) {}

H5Editor::H5Editor(std::unique_ptr<AtomicFile> atomic, bool sealed)
    : H5Node(open_copy(*atomic), atomic->target().string()),
      atomic_(std::move(atomic)),
      sealed_(sealed),
      file_(id(), H5Fclose) {}

H5Editor::~H5Editor() { file_.reset(); }

void H5Editor::commit() {
  check(H5Fflush(id(), H5F_SCOPE_GLOBAL), "flush " + file());
  file_.reset();
  if (sealed_) seal_file(atomic_->temp_path());
  atomic_->commit();
}

void H5Writer::commit() {
  check(H5Fflush(id(), H5F_SCOPE_GLOBAL), "flush " + file());
  file_.reset();
  seal_file(atomic_->temp_path());
  atomic_->commit();
}

void H5Writer::commit_keeping(const std::string& previous) {
  check(H5Fflush(id(), H5F_SCOPE_GLOBAL), "flush " + file());
  file_.reset();
  seal_file(atomic_->temp_path());
  atomic_->commit_keeping(previous);
}

}  // namespace midge::io
