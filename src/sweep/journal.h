// The journal of a sweep, `<out>/sweep.h5`: what the sweep is (its spec,
// base configuration and seed) and where each trial stands. Rewritten
// atomically by world rank 0 whenever a trial starts or ends, so h5dump or
// h5py shows the sweep's state at any time, and a rerun of the same command
// knows which trials to skip. Schema: docs/results-schema.md.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

namespace midge::sweep {

struct TrialRecord {
  std::string id;
  std::string slug;
  std::string state = "pending";  // pending|running|complete|failed|stopped
  std::int64_t group = -1;        // rank group that ran it (-1: none yet)
  std::string started;            // UTC ISO 8601, empty if never started
  std::string finished;
  double seconds = 0;
  double accuracy = -1;  // validation accuracy of the final model (-1: none)
  double balanced_accuracy = -1;
  std::string error;  // why it failed
};

struct Journal {
  std::string spec_path;
  std::string spec_text;
  std::string base_config;  // resolved INI of the base configuration
  std::int64_t sweep_seed = 0;
  std::int64_t world_size = 1;
  std::int64_t ranks_per_trial = 1;
  std::string status = "running";  // running|complete
  std::string started;
  std::string finished;
  std::vector<TrialRecord> trials;  // in expansion order
};

void write_journal(const std::string& path, const Journal& journal);
Journal read_journal(const std::string& path);

}  // namespace midge::sweep
