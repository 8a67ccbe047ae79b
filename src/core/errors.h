// Error types of midge and the process exit codes they map to.
//
// The library throws; only main (src/apps) catches, reports and exits. The
// exception type decides the exit code, so a user or a Slurm script can tell
// "you asked for something invalid" (2) from "the run itself failed" (1)
// without parsing messages. Messages name the offending key, file or rank.
#pragma once

#include <stdexcept>
#include <string>

namespace midge {

// Process exit codes (documented in README.md).
inline constexpr int kExitSuccess = 0;
inline constexpr int kExitRunFailed = 1;
inline constexpr int kExitUsage = 2;
// Stopped on request (SIGUSR2/SIGTERM, core/stop_request.h) with everything
// needed to go on written: rerunning the same command resumes. 75 is
// sysexits.h's EX_TEMPFAIL ("try again later"); slurm/*.sbatch requeue on it.
inline constexpr int kExitResumable = 75;

// Base of every error midge raises on purpose.
class Error : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
  // Exit code a process should end with when this error reaches main.
  virtual int exit_code() const noexcept { return kExitRunFailed; }
};

// Bad command line or configuration: detected before any work starts.
class UsageError : public Error {
 public:
  using Error::Error;
  int exit_code() const noexcept override { return kExitUsage; }
};

// A configuration key or value is wrong; the message names the key.
class ConfigError : public UsageError {
 public:
  using UsageError::UsageError;
};

// Input data is missing or unusable (missing root, empty taxon folder, ...).
class DataError : public Error {
 public:
  using Error::Error;
};

// A file could not be read or written.
class IoError : public Error {
 public:
  using Error::Error;
};

// An input file is not what midge wrote: its checksum does not match, it
// is truncated, or a dataset has another shape or type than the format
// says. The message names the file and, where it can, the dataset. Exit 2:
// like a bad configuration, the input must be replaced before a rerun can
// succeed (io/integrity.h).
class CorruptFileError : public IoError {
 public:
  using IoError::IoError;
  int exit_code() const noexcept override { return kExitUsage; }
};

// Training went wrong (NaN loss, a checkpoint that does not fit the run).
class TrainError : public Error {
 public:
  using Error::Error;
};

// A communication call failed or a peer rank failed.
class DistError : public Error {
 public:
  using Error::Error;
};

// Exit code for any exception reaching main: midge errors carry their own,
// anything else (std::bad_alloc, a library's exception) is a failed run.
int exit_code_of(const std::exception& e) noexcept;

// The text of the last system call's error (strerror(errno)), for messages
// that name a file a system call failed on.
std::string errno_text();

}  // namespace midge
