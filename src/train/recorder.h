// run.h5 of a run as it goes (io/run_file.h): the record, its status
// changes, and its writing. Rank 0 writes it, after every epoch and at
// every status change, and every write is followed by an agreement of all
// ranks (a failed write ends every rank alike; the verdict also carries a
// stop request). On the failure path rank 0 writes alone, since its peers
// may be gone.
//
// /data/skipped lists every unreadable image: the training loader's list
// (every rank's, exchanged at epoch ends: train/session.h share_skipped),
// the validation images no rank could read (rows the final evaluation left
// empty) and the held-out ones.
#pragma once

#include <string>

#include "distributed/agreement.h"
#include "io/run_file.h"
#include "train/session.h"

namespace midge::train {

class Recorder {
 public:
  explicit Recorder(Session& s) : s_(s) {}
  io::RunRecord& record() { return record_; }
  const io::RunRecord& record() const { return record_; }

  // The run's identity (configuration, ranks, start, host, library
  // versions), before anything is set up.
  void begin();
  // What the session set up: taxa, split, device, precision.
  void describe_session();

  distributed::Verdict write();
  distributed::Verdict write(io::RunStatus status);
  void write_alone();

 private:
  void fill_skipped();
  Session& s_;
  io::RunRecord record_;
};

}  // namespace midge::train
