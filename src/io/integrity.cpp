#include "io/integrity.h"

#include <fcntl.h>
#include <poll.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <array>
#include <cerrno>
#include <chrono>
#include <csignal>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <mutex>
#include <set>
#include <sstream>
#include <tuple>

#include "core/crc32.h"
#include "core/errors.h"
#include "core/log.h"
#include "core/sha256.h"
#include "io/hdf5.h"

namespace midge::io {
namespace fs = std::filesystem;
namespace {

// The seal is text, so `head -c 512 model.h5` shows it.
constexpr const char* kMagic = "midge-checksum 1\n";
constexpr std::array<unsigned char, 8> kHdf5Signature = {0x89, 'H',  'D',  'F',
                                                         '\r', '\n', 0x1a, '\n'};

struct Seal {
  std::string sha256;
  std::uint64_t bytes = 0;
};

std::string seal_text(const Seal& s) {
  return std::string(kMagic) + "sha256 " + s.sha256 + "\nbytes " + std::to_string(s.bytes) + "\n";
}

// The seal in the first kSealBytes, or false when they are not one exactly
// (every byte after the text must be zero, so a flipped bit anywhere in
// the block is seen).
bool parse_seal(const std::string& block, Seal* out) {
  if (block.size() != kSealBytes || block.rfind(kMagic, 0) != 0) return false;
  std::istringstream in(block.substr(std::strlen(kMagic)));
  std::string key1;
  std::string key2;
  if (!(in >> key1 >> out->sha256 >> key2 >> out->bytes) || key1 != "sha256" || key2 != "bytes") {
    return false;
  }
  if (out->sha256.size() != 64 ||
      out->sha256.find_first_not_of("0123456789abcdef") != std::string::npos) {
    return false;
  }
  const std::string text = seal_text(*out);
  if (block.compare(0, text.size(), text) != 0) return false;
  return block.find_first_not_of('\0', text.size()) == std::string::npos;
}

// SHA-256 of the bytes of `in` from its current position to the end.
std::string hash_rest(std::istream& in) {
  Sha256 h;
  std::vector<char> buf(1 << 20);
  while (in) {
    in.read(buf.data(), static_cast<std::streamsize>(buf.size()));
    const std::streamsize got = in.gcount();
    if (got > 0) h.update(buf.data(), static_cast<std::size_t>(got));
  }
  return h.hex();
}

// Files this process found whole, by identity and time of last change:
// a file opened twice (model.h5 for its metadata, then its weights) is
// hashed once; a file replaced in between is checked again.
// The change time is in it too: unlike the modification time it cannot be
// set back (cp -p, rsync -t).
using FileStamp =
    std::tuple<dev_t, ino_t, off_t, std::int64_t, std::int64_t, std::int64_t, std::int64_t>;
std::mutex memo_mutex;
std::set<FileStamp> whole_files;
std::set<std::string> warned_legacy;

FileStamp stamp_of(const struct stat& st) {
  return {st.st_dev,
          st.st_ino,
          st.st_size,
          static_cast<std::int64_t>(st.st_mtim.tv_sec),
          static_cast<std::int64_t>(st.st_mtim.tv_nsec),
          static_cast<std::int64_t>(st.st_ctim.tv_sec),
          static_cast<std::int64_t>(st.st_ctim.tv_nsec)};
}

// What changed in a file whose seal does not match: the datasets whose
// CRC-32 no longer matches their values, else "outside the values". The
// file is opened without its seal check, only to name the damage.
std::string diagnose(const fs::path& file) {
  try {
    H5Reader f(file.string(), OpenCheck::kUnchecked);
    std::vector<std::string> changed;
    for (const auto& name : f.datasets()) {
      if (!f.has_attr(name, "crc32")) continue;
      const auto stored = static_cast<std::uint32_t>(f.attr_int64(name, "crc32"));
      if (f.values_crc(name) != stored) changed.push_back("/" + name);
    }
    if (changed.empty()) {
      return "changed outside the datasets' values (HDF5 structures or attributes)";
    }
    std::string list = changed.front();
    for (std::size_t i = 1; i < changed.size() && i < 5; ++i) list += ", " + changed[i];
    if (changed.size() > 5) list += ", ... (" + std::to_string(changed.size()) + " in all)";
    return (changed.size() == 1 ? "dataset " : "datasets ") + list +
           (changed.size() == 1 ? " does" : " do") + " not match its CRC-32";
  } catch (const std::exception& e) {
    return std::string("HDF5 structures damaged (") + e.what() + ")";
  }
}

// diagnose() in a child process: HDF5 trusts its own structures, and a
// damaged one can crash it. A crash (or a child that hangs past 30 s)
// costs only the naming of the damage, never the process that asked.
std::string diagnose_isolated(const fs::path& file) {
  const std::string unknown = "HDF5 structures damaged (the file cannot be parsed)";
  int fds[2];
  // Close-on-exec: no program another thread starts inherits the pipe.
  if (::pipe2(fds, O_CLOEXEC) != 0) return unknown;
  std::fflush(nullptr);
  const pid_t pid = ::fork();
  if (pid < 0) {
    ::close(fds[0]);
    ::close(fds[1]);
    return unknown;
  }
  if (pid == 0) {
    ::close(fds[0]);
    const std::string text = diagnose(file);
    std::size_t done = 0;
    while (done < text.size()) {
      const ssize_t n = ::write(fds[1], text.data() + done, text.size() - done);
      if (n <= 0) break;
      done += static_cast<std::size_t>(n);
    }
    ::_exit(0);
  }
  ::close(fds[1]);
  std::string text;
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(30);
  bool timed_out = false;
  for (;;) {
    const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
                          deadline - std::chrono::steady_clock::now())
                          .count();
    if (left <= 0) {
      timed_out = true;
      break;
    }
    pollfd p{fds[0], POLLIN, 0};
    const int ready = ::poll(&p, 1, static_cast<int>(left));
    if (ready < 0 && errno == EINTR) continue;
    if (ready <= 0) continue;
    char buf[4096];
    const ssize_t n = ::read(fds[0], buf, sizeof buf);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) break;
    text.append(buf, static_cast<std::size_t>(n));
  }
  ::close(fds[0]);
  if (timed_out) ::kill(pid, SIGKILL);
  int status = 0;
  while (::waitpid(pid, &status, 0) < 0 && errno == EINTR) {
  }
  if (timed_out || !WIFEXITED(status) || WEXITSTATUS(status) != 0 || text.empty()) return unknown;
  return text;
}

[[noreturn]] void corrupt(const fs::path& file, const std::string& what) {
  throw CorruptFileError(file.string() + " is corrupt: " + what +
                         "; it is not used (midge verify checks files; restore it or run again)");
}

}  // namespace

std::uint32_t values_crc(const void* data, std::size_t bytes) {
  return crc32_update(0, data, bytes);
}

std::uint32_t strings_crc(const std::vector<std::string>& values) {
  std::uint32_t c = 0;
  const char nul = '\0';
  for (const auto& v : values) {
    c = crc32_update(c, v.data(), v.size());
    c = crc32_update(c, &nul, 1);
  }
  return c;
}

void seal_file(const fs::path& file) {
  std::fstream io(file, std::ios::in | std::ios::out | std::ios::binary);
  if (!io) throw IoError("cannot open " + file.string() + " to seal it: " + errno_text());
  io.seekg(0, std::ios::end);
  Seal s;
  s.bytes = static_cast<std::uint64_t>(io.tellg());
  if (s.bytes < kSealBytes) throw IoError(file.string() + " has no room for its seal");
  io.seekg(static_cast<std::streamoff>(kSealBytes));
  s.sha256 = hash_rest(io);
  io.clear();
  std::string block = seal_text(s);
  block.resize(kSealBytes, '\0');
  io.seekp(0);
  io.write(block.data(), static_cast<std::streamsize>(block.size()));
  io.flush();
  if (!io) throw IoError("cannot write the seal of " + file.string() + ": " + errno_text());
}

namespace {

struct stat stat_of(const fs::path& file) {
  struct stat st {};
  if (::stat(file.c_str(), &st) != 0) {
    throw IoError("cannot open " + file.string() + ": " + errno_text());
  }
  if (!S_ISREG(st.st_mode)) throw IoError("cannot open " + file.string() + ": not a file");
  return st;
}

// check_seal of the file `st` describes (found at `file` just before).
SealState check_seal_of(const fs::path& file, const struct stat& st) {
  {
    std::lock_guard<std::mutex> lock(memo_mutex);
    if (whole_files.count(stamp_of(st)) != 0) return SealState::kWhole;
  }
  if (st.st_size == 0) corrupt(file, "it is empty (0 bytes)");
  std::ifstream in(file, std::ios::binary);
  if (!in) throw IoError("cannot open " + file.string() + ": " + errno_text());
  std::string block(kSealBytes, '\0');
  in.read(block.data(), static_cast<std::streamsize>(block.size()));
  block.resize(static_cast<std::size_t>(in.gcount()));
  const auto signature_at = [&](std::size_t offset, const std::string& bytes) {
    return bytes.size() >= offset + kHdf5Signature.size() &&
           std::memcmp(bytes.data() + offset, kHdf5Signature.data(), kHdf5Signature.size()) == 0;
  };
  if (signature_at(0, block)) {
    std::lock_guard<std::mutex> lock(memo_mutex);
    if (warned_legacy.insert(fs::absolute(file).lexically_normal().string()).second) {
      log::warn(file.string() +
                " has no checksums (written by an older midge or another program): read "
                "unchecked");
    }
    return SealState::kLegacy;
  }
  Seal seal;
  if (!parse_seal(block, &seal)) {
    std::string after(kHdf5Signature.size(), '\0');
    in.clear();
    in.seekg(static_cast<std::streamoff>(kSealBytes));
    in.read(after.data(), static_cast<std::streamsize>(after.size()));
    if (block.rfind(kMagic, 0) == 0 || signature_at(0, after)) {
      corrupt(file, "its seal (the checksum in the first 512 bytes) is damaged");
    }
    corrupt(file, "not an HDF5 file midge wrote (no HDF5 signature, no seal)");
  }
  const auto size = static_cast<std::uint64_t>(st.st_size);
  if (size != seal.bytes) {
    corrupt(file, size < seal.bytes ? "truncated: " + std::to_string(size) + " of " +
                                          std::to_string(seal.bytes) + " bytes written"
                                    : "longer than written: " + std::to_string(size) + " bytes, " +
                                          std::to_string(seal.bytes) + " written");
  }
  in.clear();
  in.seekg(static_cast<std::streamoff>(kSealBytes));
  const std::string now = hash_rest(in);
  if (now != seal.sha256) {
    corrupt(file, diagnose_isolated(file) + " (SHA-256 " + seal.sha256.substr(0, 12) +
                      "... written, " + now.substr(0, 12) + "... now)");
  }
  return SealState::kWhole;
}

}  // namespace

SealState check_seal(const fs::path& file) {
  // midge renames a new run.h5 over the old one every epoch: a file
  // replaced while it was being checked is checked again (what was read
  // may mix the two), and only a file unchanged from first to last read
  // is remembered as whole.
  for (int attempt = 0;; ++attempt) {
    const struct stat before = stat_of(file);
    SealState state = SealState::kWhole;
    try {
      state = check_seal_of(file, before);
    } catch (const CorruptFileError&) {
      struct stat after {};
      if (attempt < 3 && ::stat(file.c_str(), &after) == 0 && stamp_of(after) != stamp_of(before)) {
        continue;
      }
      throw;
    }
    struct stat after {};
    if (state == SealState::kWhole && ::stat(file.c_str(), &after) == 0 &&
        stamp_of(after) == stamp_of(before)) {
      std::lock_guard<std::mutex> lock(memo_mutex);
      whole_files.insert(stamp_of(before));
    }
    return state;
  }
}

FileCheck verify_file(const fs::path& file) {
  FileCheck c;
  c.path = file.string();
  try {
    if (check_seal(file) == SealState::kLegacy) {
      c.verdict = FileCheck::Verdict::kLegacy;
      c.detail = "old format without checksums";
      return c;
    }
    H5Reader f(file.string());
    // run.h5 has no format attribute (schema 1 had none); its status says what it is.
    c.detail = f.has_attr("", "format")   ? f.attr_string("", "format")
               : f.has_attr("", "status") ? std::string("midge-run")
                                          : std::string("HDF5");
    c.detail += ", " + std::to_string(f.datasets().size()) + " datasets";
  } catch (const std::exception& e) {
    c.verdict = FileCheck::Verdict::kCorrupt;
    c.detail = e.what();
  }
  return c;
}

}  // namespace midge::io
