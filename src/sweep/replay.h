// `midge replay RUN_DIR --out NEW`: runs a finished run again, exactly as
// recorded, and says whether the result is bitwise the same.
//
// The recorded run.h5 holds everything needed: the resolved configuration,
// the split, and the SHA-256 of every image as training found it. Replay
// first hashes every image again: a changed or missing image is named and
// nothing is trained (unless `force`). It then trains with the recorded
// configuration into NEW (on the ranks it is started with) and compares,
// value for value, the new run.h5 with the old (classes, split, every
// history column except timings, /eval, /gradcam) and the new model.h5's
// weights with the old. Differences are listed with what may explain them:
// other library versions, other hardware or precision, another number of
// ranks, run.deterministic = false, a changed image. On the CPU with
// run.deterministic = true, on the same machine and ranks, a replay is
// bitwise equal.
//
// A collective: every rank calls replay_run.
#pragma once

#include <string>
#include <vector>

#include "distributed/communicator.h"

namespace midge::sweep {

struct ReplayOptions {
  bool force = false;  // train even when images changed
};

struct ReplayReport {
  bool trained = false;                     // false: stopped at the image check
  bool equal = false;                       // bitwise equal (only when trained)
  std::vector<std::string> changed_images;  // "path: why"
  std::size_t images_checked = 0;
  std::size_t datasets_compared = 0;
  std::vector<std::string> differences;  // "file:dataset: what"
  std::vector<std::string> reasons;      // what differs in the setting
  std::string text;                      // the report as printed (also NEW/replay.txt)
};

ReplayReport replay_run(const std::string& run_dir, const std::string& out,
                        distributed::Communicator& world, const ReplayOptions& options = {});

}  // namespace midge::sweep
