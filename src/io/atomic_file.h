// Atomic file replacement: write to a temporary name in the same folder, then
// rename over the target.
//
// rename(2) within one file system is atomic, so a reader (or a resumed run
// after kill -9) sees either the old complete file or the new complete file,
// never a half-written one. Every file midge writes goes through here.
#pragma once

#include <filesystem>
#include <string>

namespace midge::io {

// Holds a temporary path next to `target`; commit() renames it over the
// target. If commit() is never called (an exception unwound past it), the
// destructor removes the temporary file and the target is untouched.
class AtomicFile {
 public:
  explicit AtomicFile(std::filesystem::path target);
  ~AtomicFile();
  AtomicFile(const AtomicFile&) = delete;
  AtomicFile& operator=(const AtomicFile&) = delete;

  // Where to write (e.g. "run.h5.tmp-1234"); the parent folder exists.
  const std::filesystem::path& temp_path() const { return temp_; }
  const std::filesystem::path& target() const { return target_; }
  // Flushes the temporary file to disk and renames it; throws IoError.
  void commit();
  // commit(), first renaming an existing target to `previous` (replacing
  // an older one there). Killed between the two renames, the folder holds
  // `previous` and no target: readers that know the pair look at both.
  void commit_keeping(const std::filesystem::path& previous);

 private:
  void sync_temp() const;
  void rename_into_place();
  std::filesystem::path target_;
  std::filesystem::path temp_;
  bool committed_ = false;
};

// Writes `content` to `path` atomically (creating parent folders).
void write_file_atomic(const std::filesystem::path& path, const std::string& content);

// Removes "<name>.tmp-<pid>" files in `dir` left by processes that no longer
// run (a writer killed mid-write); returns how many were removed. The
// targets themselves are never touched.
int remove_stale_temporaries(const std::filesystem::path& dir);

// Whole file as a string; throws IoError naming the path.
std::string read_file(const std::filesystem::path& path);

}  // namespace midge::io
