#include "io/file_lock.h"

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include "core/errors.h"

namespace midge::io {

FileLock::FileLock(const std::string& path) {
  fd_ = ::open(path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0644);
  if (fd_ < 0) throw IoError("cannot open lock file " + path + ": " + std::strerror(errno));
  struct flock whole {};
  whole.l_type = F_WRLCK;
  whole.l_whence = SEEK_SET;
  int rc = 0;
  do {
    rc = ::fcntl(fd_, F_SETLKW, &whole);
  } while (rc != 0 && errno == EINTR);
  if (rc != 0) {
    const int err = errno;
    ::close(fd_);
    throw IoError("cannot lock " + path + ": " + std::strerror(err) +
                  (err == ENOSYS || err == ENOLCK || err == EINVAL
                       ? " (the filesystem does not support POSIX locks; put --out on one that "
                         "does, e.g. Lustre mounted with -o flock)"
                       : ""));
  }
}

FileLock::~FileLock() {
  // Closing the descriptor releases the lock.
  if (fd_ >= 0) ::close(fd_);
}

}  // namespace midge::io
