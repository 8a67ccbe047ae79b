#include "io/atomic_file.h"

#include <fcntl.h>
#include <signal.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <fstream>
#include <sstream>

#include "core/errors.h"

namespace midge::io {
namespace fs = std::filesystem;

AtomicFile::AtomicFile(fs::path target) : target_(std::move(target)) {
  std::error_code ec;
  if (target_.has_parent_path()) {
    fs::create_directories(target_.parent_path(), ec);
    if (ec) {
      throw IoError("cannot create folder " + target_.parent_path().string() + ": " + ec.message());
    }
  }
  // pid in the name: ranks or processes writing side by side never collide.
  temp_ = target_;
  temp_ += ".tmp-" + std::to_string(::getpid());
}

AtomicFile::~AtomicFile() {
  if (!committed_) {
    std::error_code ec;
    fs::remove(temp_, ec);  // never throw from a destructor
  }
}

void AtomicFile::sync_temp() const {
  int fd = ::open(temp_.c_str(), O_RDONLY);
  if (fd < 0) throw IoError("cannot open " + temp_.string() + ": " + errno_text());
  const bool synced = ::fsync(fd) == 0;
  ::close(fd);
  if (!synced) throw IoError("cannot flush " + temp_.string() + ": " + errno_text());
}

void AtomicFile::rename_into_place() {
  if (std::rename(temp_.c_str(), target_.c_str()) != 0) {
    throw IoError("cannot rename " + temp_.string() + " to " + target_.string() + ": " +
                  errno_text());
  }
  committed_ = true;
}

void AtomicFile::commit() {
  sync_temp();
  rename_into_place();
}

void AtomicFile::commit_keeping(const fs::path& previous) {
  sync_temp();
  std::error_code ec;
  if (fs::exists(target_, ec) && std::rename(target_.c_str(), previous.c_str()) != 0) {
    throw IoError("cannot rename " + target_.string() + " to " + previous.string() + ": " +
                  errno_text());
  }
  rename_into_place();
}

void write_file_atomic(const fs::path& path, const std::string& content) {
  AtomicFile file(path);
  {
    std::ofstream out(file.temp_path(), std::ios::binary | std::ios::trunc);
    if (!out) throw IoError("cannot write " + file.temp_path().string() + ": " + errno_text());
    out.write(content.data(), static_cast<std::streamsize>(content.size()));
    out.flush();
    if (!out) throw IoError("write failed for " + file.temp_path().string());
  }
  file.commit();
}

int remove_stale_temporaries(const fs::path& dir) {
  int removed = 0;
  std::error_code ec;
  if (!fs::is_directory(dir, ec)) return 0;
  for (const auto& entry : fs::directory_iterator(dir, ec)) {
    const std::string name = entry.path().filename().string();
    const auto pos = name.rfind(".tmp-");
    if (pos == std::string::npos) continue;
    const std::string pid_text = name.substr(pos + 5);
    if (pid_text.empty() || pid_text.find_first_not_of("0123456789") != std::string::npos) continue;
    const auto pid = static_cast<pid_t>(std::stol(pid_text));
    if (::kill(pid, 0) == 0 || errno != ESRCH) continue;  // writer still alive
    if (fs::remove(entry.path(), ec)) ++removed;
  }
  return removed;
}

std::string read_file(const fs::path& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) throw IoError("cannot read " + path.string() + ": " + errno_text());
  std::ostringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

}  // namespace midge::io
