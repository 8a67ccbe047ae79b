#include "data/pack.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <filesystem>
#include <map>
#include <memory>
#include <mutex>
#include <set>
#include <string_view>
#include <system_error>

#include "core/errors.h"
#include "core/sha256.h"
#include "core/text.h"
#include "core/versions.h"
#include "data/decode.h"
#include "data/specimens.h"
#include "io/byte_stream.h"
#include "io/hdf5.h"
#include "io/integrity.h"
#include "io/run_file.h"

namespace midge::data {
namespace fs = std::filesystem;

namespace {

constexpr const char* kFormat = "midge-pack";
constexpr std::int64_t kVersion = 1;

// One pack opened by this process: its index, where its bytes lie, and a
// descriptor kept open for the process's life (pread from any thread).
struct OpenPack {
  std::string path;
  int fd = -1;
  io::ChunkMap chunks;
  std::map<std::string, std::pair<std::uint64_t, std::uint64_t>> members;  // rel -> offset, size
  ImageSet set;
  OpenPack() = default;
  OpenPack(const OpenPack&) = delete;
  OpenPack& operator=(const OpenPack&) = delete;
  ~OpenPack() {
    if (fd >= 0) ::close(fd);
  }
};

struct Registry {
  std::mutex mutex;
  std::vector<std::shared_ptr<const OpenPack>> packs;
};

// Never destroyed: loader workers may still read while static objects
// are torn down at exit.
Registry& registry() {
  static auto* r = new Registry;
  return *r;
}

std::shared_ptr<const OpenPack> find_open(const std::string& path) {
  Registry& r = registry();
  std::lock_guard<std::mutex> lock(r.mutex);
  for (const auto& p : r.packs) {
    if (path.size() > p->path.size() + 1 && path.compare(0, p->path.size(), p->path) == 0 &&
        path[p->path.size()] == '/') {
      return p;
    }
  }
  return nullptr;
}

[[noreturn]] void not_a_pack(const std::string& path, const std::string& why) {
  throw DataError("not a midge pack: " + path + " (" + why +
                  "; data.root takes a folder of taxon folders or a file from midge pack)");
}

std::unique_ptr<OpenPack> read_pack(const std::string& path) {
  if (!looks_like_pack(path)) not_a_pack(path, "no HDF5 file written by midge");
  auto pack = std::make_unique<OpenPack>();
  pack->path = path;
  // The descriptor first, then the index by name, then the name checked to
  // be the same file still: a copy staged over it meanwhile (another job
  // renaming its copy into place) would not match this index.
  pack->fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (pack->fd < 0) {
    const int err = errno;
    throw IoError("cannot open pack " + path + ": " + std::generic_category().message(err));
  }
  struct stat opened {};
  if (::fstat(pack->fd, &opened) != 0) throw IoError("cannot stat pack " + path);
  io::H5Reader f(path);  // checks the seal: the whole file, once per process
  if (!f.has_attr("", "format") || f.attr_string("", "format") != kFormat) {
    not_a_pack(path, "an HDF5 file of another kind");
  }
  const std::int64_t version = f.attr_int64("", "version");
  if (version != kVersion) {
    throw DataError("pack " + path + " has format version " + std::to_string(version) +
                    "; this midge reads version " + std::to_string(kVersion));
  }
  const auto rel = f.read_strings("images/path");
  const auto taxon = f.read_strings("images/taxon");
  const auto specimen = f.read_strings("images/specimen");
  const auto offset = f.read_int64s("images/offset");
  const auto size = f.read_int64s("images/size");
  const auto ignored = f.read_strings("ignored");
  const std::size_t n = rel.size();
  if (taxon.size() != n || specimen.size() != n || offset.size() != n || size.size() != n) {
    throw CorruptFileError(path + ": the /images datasets differ in length");
  }
  pack->chunks = io::locate_chunks(f, "images/bytes", static_cast<std::uint64_t>(opened.st_size));
  const bool with_specimens =
      std::any_of(specimen.begin(), specimen.end(), [](const auto& s) { return !s.empty(); });
  for (std::size_t i = 0; i < n; ++i) {
    if (offset[i] < 0 || size[i] < 0 ||
        static_cast<std::uint64_t>(offset[i]) + static_cast<std::uint64_t>(size[i]) >
            pack->chunks.size) {
      throw CorruptFileError(path + ": image " + rel[i] + " lies outside /images/bytes");
    }
    if (rel[i] != taxon[i] + "/" + fs::path(rel[i]).filename().string()) {
      throw CorruptFileError(path + ": image " + rel[i] + " is not in a folder of its taxon " +
                             taxon[i]);
    }
    if (!pack->members
             .emplace(rel[i], std::make_pair(static_cast<std::uint64_t>(offset[i]),
                                             static_cast<std::uint64_t>(size[i])))
             .second) {
      throw CorruptFileError(path + ": image " + rel[i] + " is listed twice");
    }
    // The folder scan's order (taxa, then files, bytewise) is what the
    // split counts in: a pack in another order would split differently.
    if (i > 0 && !(taxon[i - 1] < taxon[i] || (taxon[i - 1] == taxon[i] && rel[i - 1] < rel[i]))) {
      throw CorruptFileError(path + ": image " + rel[i] + " is out of order (after " + rel[i - 1] +
                             "); midge pack writes taxa and files sorted");
    }
    if (pack->set.taxa.empty() || pack->set.taxa.back().name != taxon[i]) {
      pack->set.taxa.push_back(TaxonFolder{taxon[i], {}, {}, {}});
    }
    TaxonFolder& t = pack->set.taxa.back();
    t.images.push_back(path + "/" + rel[i]);
    if (with_specimens) t.specimens.push_back(specimen[i]);
  }
  pack->set.root = path;
  for (const auto& r : ignored) {
    const std::string name = r.substr(0, r.find('/'));
    for (auto& t : pack->set.taxa) {
      if (t.name == name) t.ignored.push_back(path + "/" + r);
    }
  }
  if (pack->set.taxa.empty()) throw DataError("pack without images: " + path);
  struct stat now {};
  if (::stat(path.c_str(), &now) != 0 || now.st_dev != opened.st_dev ||
      now.st_ino != opened.st_ino) {
    throw IoError("pack " + path + " was replaced while midge opened it; run again");
  }
  io::check_chunk_map(f, "images/bytes", pack->chunks, pack->fd);
  return pack;
}

std::shared_ptr<const OpenPack> open_pack(const std::string& path) {
  Registry& r = registry();
  std::lock_guard<std::mutex> lock(r.mutex);
  for (const auto& p : r.packs) {
    if (p->path == path) return p;
  }
  std::shared_ptr<const OpenPack> pack = read_pack(path);
  r.packs.push_back(pack);
  return pack;
}

// The pack that `path` lies inside: its nearest existing ancestor is a
// regular file that looks like a pack. "" when there is none.
std::string pack_containing(const std::string& path) {
  fs::path p = fs::path(path).parent_path();
  std::error_code ec;
  while (!p.empty()) {
    const auto st = fs::status(p, ec);
    if (fs::is_regular_file(st)) return looks_like_pack(p.string()) ? p.string() : "";
    if (fs::exists(st)) return "";  // a real folder
    if (p == p.parent_path()) return "";
    p = p.parent_path();
  }
  return "";
}

}  // namespace

bool looks_like_pack(const std::string& path) {
  static constexpr unsigned char kHdf5Signature[8] = {0x89, 'H', 'D', 'F', '\r', '\n', 0x1a, '\n'};
  const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) return false;
  unsigned char head[8] = {};
  const ssize_t got = ::pread(fd, head, sizeof head, static_cast<off_t>(io::kSealBytes));
  ::close(fd);
  return got == static_cast<ssize_t>(sizeof head) && std::memcmp(head, kHdf5Signature, 8) == 0;
}

PackSummary write_pack(const std::string& root, const std::string& out,
                       const SpecimenPattern& pattern, std::uint64_t chunk_bytes) {
  ImageSet set = scan_image_set(root);
  name_specimens(&set, pattern);
  PackSummary summary;
  std::vector<std::string> rel, taxon, specimen, sha256, ignored;
  std::vector<std::int64_t> offset, size;
  std::set<std::string> specimens;
  io::H5Writer w(out);
  {
    io::ByteStreamWriter bytes(&w, "images/bytes", chunk_bytes);
    for (const auto& t : set.taxa) {
      for (std::size_t i = 0; i < t.images.size(); ++i) {
        const std::vector<unsigned char> data = read_image_bytes(t.images[i]);
        rel.push_back(t.name + "/" + fs::path(t.images[i]).filename().string());
        taxon.push_back(t.name);
        specimen.push_back(t.specimens.empty() ? "" : t.specimens[i]);
        if (!specimen.back().empty()) specimens.insert(specimen.back());
        sha256.push_back(
            sha256_hex(std::string_view(reinterpret_cast<const char*>(data.data()), data.size())));
        offset.push_back(static_cast<std::int64_t>(bytes.append(data.data(), data.size())));
        size.push_back(static_cast<std::int64_t>(data.size()));
      }
      for (const auto& f : t.ignored)
        ignored.push_back(t.name + "/" + fs::path(f).filename().string());
    }
    bytes.finish();
    summary.bytes = bytes.size();
  }
  w.write("images/path", rel);
  w.write("images/taxon", taxon);
  w.write("images/specimen", specimen);
  w.write("images/sha256", sha256);
  w.write("images/offset", offset);
  w.write("images/size", size);
  w.write("ignored", ignored);
  w.set_attr("", "format", std::string(kFormat));
  w.set_attr("", "version", kVersion);
  w.set_attr("", "source", root);
  w.set_attr("", "specimen_pattern", pattern.text());
  w.set_attr("", "midge_version", midge_version());
  w.commit();
  summary.images = rel.size();
  summary.taxa = set.taxa.size();
  summary.ignored = ignored.size();
  summary.specimens = specimens.size();
  return summary;
}

ImageSet scan_pack(const std::string& pack) { return open_pack(pack)->set; }

bool read_packed_image(const std::string& path, std::vector<unsigned char>* out) {
  const auto pack = find_open(path);
  if (pack == nullptr) return false;
  const std::string rel = path.substr(pack->path.size() + 1);
  const auto it = pack->members.find(rel);
  if (it == pack->members.end()) {
    throw DataError("cannot read image " + path + ": pack " + pack->path + " has no image " + rel);
  }
  const auto [offset, size] = it->second;
  out->resize(size);
  const std::uint64_t chunk = pack->chunks.chunk_bytes;
  std::uint64_t done = 0;
  while (done < size) {
    const std::uint64_t at = offset + done;
    const std::uint64_t within = at % chunk;
    const std::uint64_t take = std::min(size - done, chunk - within);
    const std::uint64_t file_at = pack->chunks.file_offsets[at / chunk] + within;
    const ssize_t got = ::pread(pack->fd, out->data() + done, take, static_cast<off_t>(file_at));
    if (got <= 0) {
      const int err = errno;
      throw DataError("cannot read image " + path + ": " +
                      (got < 0 ? std::generic_category().message(err) : "the pack ends early"));
    }
    done += static_cast<std::uint64_t>(got);
  }
  return true;
}

std::vector<std::string> packed_images_under(const std::string& prefix) {
  std::error_code ec;
  std::string pack;
  if (fs::is_regular_file(prefix, ec)) {
    if (!looks_like_pack(prefix)) return {};
    pack = prefix;
  } else {
    pack = pack_containing(prefix);
    if (pack.empty()) return {};
  }
  std::vector<std::string> out;
  for (const auto& t : open_pack(pack)->set.taxa) {
    for (const auto& image : t.images) {
      if (image == prefix || pack == prefix || text::starts_with(image, prefix + "/")) {
        out.push_back(image);
      }
    }
  }
  std::sort(out.begin(), out.end());
  return out;
}

namespace {

// Temporary copies left by stagers that were killed (a preempted job):
// "<name>.tmp-<host>-<pid>" of this host whose process is gone.
void remove_stale_copies(const fs::path& folder, const std::string& name, const std::string& host) {
  std::error_code ec;
  const std::string prefix = name + ".tmp-" + host + "-";
  for (const auto& e : fs::directory_iterator(folder, ec)) {
    const std::string file = e.path().filename().string();
    if (!text::starts_with(file, prefix)) continue;
    const std::string pid = file.substr(prefix.size());
    if (!pid.empty() && pid.find_first_not_of("0123456789") == std::string::npos &&
        !fs::exists("/proc/" + pid, ec)) {
      fs::remove(e.path(), ec);
    }
  }
}

}  // namespace

StagedPack stage_pack(const std::string& pack, const std::string& dir) {
  if (!fs::is_regular_file(pack) || !looks_like_pack(pack)) {
    not_a_pack(pack, "staging copies a pack; a folder is read where it is");
  }
  // Per user: another user's copy in a shared /tmp cannot be replaced.
  const std::string absolute = fs::absolute(pack).lexically_normal().string();
  const fs::path folder = fs::path(dir) / ("midge-stage-" + std::to_string(::getuid()) + "-" +
                                           sha256_hex(absolute).substr(0, 12));
  const std::string name = fs::path(pack).filename().string();
  StagedPack staged{(folder / name).string(), false};
  std::error_code ec;
  const auto source_time = fs::last_write_time(pack);
  const auto source_size = fs::file_size(pack);
  if (fs::is_regular_file(staged.path, ec) && fs::file_size(staged.path, ec) == source_size &&
      fs::last_write_time(staged.path, ec) == source_time) {
    return staged;  // staged before, by this job's earlier run or another job
  }
  fs::create_directories(folder, ec);
  if (ec) {
    throw IoError("cannot create " + folder.string() + " to stage " + pack + ": " + ec.message());
  }
  const std::string host = io::host_name();
  remove_stale_copies(folder, name, host);
  const std::string temp =
      staged.path + ".tmp-" + host + "-" + std::to_string(static_cast<long>(::getpid()));
  auto fail = [&](const std::string& what, const std::error_code& error) {
    const std::string message = what + ": " + error.message();
    std::error_code ignored;
    fs::remove(temp, ignored);
    throw IoError(message);
  };
  fs::copy_file(pack, temp, fs::copy_options::overwrite_existing, ec);
  if (ec) fail("cannot copy " + pack + " to " + temp, ec);
  fs::last_write_time(temp, source_time, ec);
  if (ec) fail("cannot set the time of " + temp, ec);
  try {
    io::check_seal(temp);
  } catch (...) {
    fs::remove(temp, ec);
    throw;
  }
  fs::rename(temp, staged.path, ec);
  if (ec) fail("cannot rename " + temp + " to " + staged.path, ec);
  staged.copied = true;
  return staged;
}

void open_packs_of(const std::vector<std::string>& paths) {
  std::set<std::string> folders;  // checked already
  for (const auto& path : paths) {
    const std::string folder = fs::path(path).parent_path().string();
    if (!folders.insert(folder).second) continue;
    const std::string pack = pack_containing(path);
    if (!pack.empty()) open_pack(pack);
  }
}

}  // namespace midge::data
