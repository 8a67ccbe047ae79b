#include "io/file_lock.h"

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include "core/errors.h"

namespace midge::io {

FileLock::FileLock(const std::string& path) {
  bool granted = false;
  FileLock wait_for_it(path, true, &granted);
  std::swap(fd_, wait_for_it.fd_);
}

std::unique_ptr<FileLock> FileLock::try_lock(const std::string& path) {
  bool granted = false;
  std::unique_ptr<FileLock> lock(new FileLock(path, false, &granted));
  if (!granted) return nullptr;
  return lock;
}

FileLock::FileLock(const std::string& path, bool wait, bool* granted) {
  fd_ = ::open(path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0644);
  if (fd_ < 0) throw IoError("cannot open lock file " + path + ": " + std::strerror(errno));
  struct flock whole {};
  whole.l_type = F_WRLCK;
  whole.l_whence = SEEK_SET;
  int rc = 0;
  do {
    rc = ::fcntl(fd_, wait ? F_SETLKW : F_SETLK, &whole);
  } while (rc != 0 && errno == EINTR);
  if (rc != 0 && !wait && (errno == EAGAIN || errno == EACCES)) {
    ::close(fd_);
    fd_ = -1;
    return;  // held by another process
  }
  if (rc != 0) {
    const int err = errno;
    ::close(fd_);
    fd_ = -1;
    throw IoError("cannot lock " + path + ": " + std::strerror(err) +
                  (err == ENOSYS || err == ENOLCK || err == EINVAL
                       ? " (the filesystem does not support POSIX locks; put --out on one that "
                         "does, e.g. Lustre mounted with -o flock)"
                       : ""));
  }
  *granted = true;
}

FileLock::~FileLock() {
  // Closing the descriptor releases the lock.
  if (fd_ >= 0) ::close(fd_);
}

}  // namespace midge::io
