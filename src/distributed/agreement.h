// Agreement: the ranks of a communicator decide together, at the same
// point, whether to go on, stop or fail, so that a failure only some ranks
// see ends every rank alike instead of leaving the others in a collective.
//
// The job: at every training step and every phase boundary (setup, each
// validation, the final report, after each rank-0-only write) each rank
// brings what it saw since the last agreement: a stop request (SIGUSR2 or
// SIGTERM, core/stop_request.h), an exception it caught (a non-finite
// loss, an unreadable file, a failed write, ...), and the number of
// unreadable images its loader found. One small allreduce (three sums)
// gives every rank the same verdict; only on a failure a second reduction
// finds the first failing rank, which broadcasts its message and exit code,
// and every rank throws the same RankFailure. In a sweep the group then
// records the trial failed and goes on (sweep/runner.h).
//
// Invariants:
//  - Between a point where a rank may fail and the next agreement, no
//    collective: the failing rank goes straight to the agreement and the
//    others meet it there (phase() packages this).
//  - Every rank calls agree() in the same order with the same `where`.
//  - The wait is bounded by dist.timeout: a rank that never arrives (gone,
//    or stuck outside midge) makes the others throw PeerLost, after which
//    the communicator cannot be used again (a request stays pending) and
//    the job must be ended (distributed/failure.h aborts it).
//  - With one rank agree() costs nothing and rethrows the rank's own
//    exception unchanged (type, message and exit code as without MPI).
#pragma once

#include <cstdint>
#include <exception>
#include <string>
#include <utility>

#include "core/errors.h"
#include "distributed/communicator.h"

namespace midge::distributed {

// A failure one rank caught, raised alike on every rank after an
// agreement. Its exit code is the failing rank's (2 for a configuration
// or usage error, 1 otherwise).
class RankFailure : public Error {
 public:
  // `rank` < 0: a failure of the ranks together (e.g. too many unreadable
  // images in all), not of one.
  RankFailure(int rank, int code, const std::string& message)
      : Error(message), rank_(rank), code_(code) {}
  int rank() const noexcept { return rank_; }
  int exit_code() const noexcept override { return code_; }

 private:
  int rank_;
  int code_;
};

// Not every rank reached an agreement within dist.timeout: a rank is gone
// or stuck. The communicator has a request pending and must not be used
// again; the job is ended.
class PeerLost : public DistError {
 public:
  using DistError::DistError;
};

// An error every rank raises alike after an agreement (all ranks computed
// it from the same verdict): a RankFailure with more than one rank, so that
// the job ends without an abort (distributed/failure.h), the error itself
// with one.
template <class E>
[[noreturn]] void raise_alike(const Communicator& comm, const std::string& message) {
  if (comm.size() == 1) throw E(message);
  throw RankFailure(-1, E(message).exit_code(), message);
}

struct Verdict {
  bool stop = false;            // some rank was asked to stop
  std::int64_t bad_images = 0;  // sum of the ranks' reported counts
};

class Agreement {
 public:
  Agreement(Communicator& comm, double timeout_seconds) : comm_(comm), timeout_(timeout_seconds) {}

  // The verdict at `where` (named in messages). `error`: what this rank
  // caught since the last agreement, or null. Throws RankFailure on every
  // rank when any rank brought an error, PeerLost when not all ranks came.
  Verdict agree(const std::string& where, bool stop, const std::exception_ptr& error,
                std::int64_t bad_images = 0);

  // Runs `body` (which must call no collective of this communicator after
  // a point where it may throw) and agrees on its outcome at `where`.
  template <class F>
  Verdict phase(const std::string& where, F&& body) {
    std::exception_ptr error;
    try {
      std::forward<F>(body)();
    } catch (...) {
      error = std::current_exception();
    }
    return agree(where, false, error);
  }

  Communicator& comm() { return comm_; }
  double timeout_seconds() const { return timeout_; }

 private:
  Communicator& comm_;
  double timeout_;
};

}  // namespace midge::distributed
