// FileLock: an exclusive POSIX record lock (fcntl) on a file, held for the
// object's lifetime, between processes, also on other nodes of a shared
// filesystem that supports POSIX locks (NFSv4, GPFS, BeeGFS, Lustre mounted
// with -o flock).
//
// The sweep's rank groups take it around every read-modify-write of the
// journal (sweep/runner.cpp): it is how groups agree on the next trial. The
// kernel drops the lock when its process dies, so a killed sweep never
// leaves a stale lock behind. Locks are per process: two FileLocks on the
// same file in one process do not exclude each other.
#pragma once

#include <memory>
#include <string>

namespace midge::io {

class FileLock {
 public:
  // Creates `path` if missing, then waits until the lock is granted.
  // IoError naming the path when the file cannot be opened or the
  // filesystem refuses locks.
  explicit FileLock(const std::string& path);
  // The lock if no other process holds it now, else null (never waits).
  static std::unique_ptr<FileLock> try_lock(const std::string& path);
  ~FileLock();
  FileLock(const FileLock&) = delete;
  FileLock& operator=(const FileLock&) = delete;

 private:
  FileLock(const std::string& path, bool wait, bool* granted);
  int fd_ = -1;
};

}  // namespace midge::io
