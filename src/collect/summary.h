// `midge collect`: per-taxon accuracy across runs.
//
// Finds every run.h5 below the given folders; runs that are not complete
// (running or failed) are reported and left out. Runs whose configurations
// differ only in run.seed form a group of repeats. Per group and taxon it
// reports the validation support, each run's accuracy (recall) with its 95%
// Wilson score interval - with a few dozen validation images per taxon a
// bare percentage hides an uncertainty of +-10 points or more - and the mean
// and standard deviation across runs; then overall and balanced accuracy.
// With a taxonomy (the runs' data.taxonomy, or --taxonomy) accuracy at each
// higher level is computed from the species-level confusion matrix: a
// prediction counts as right at genus level when the predicted species is
// in the true species' genus, as the paper reported species, genus and
// subfamily accuracy.
#pragma once

#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include "io/hdf5.h"

namespace midge::collect {

struct Interval {
  double low = 0;
  double high = 0;
};

// 95% (z = 1.96) Wilson score interval for k successes in n trials.
Interval wilson(std::int64_t k, std::int64_t n, double z = 1.96);

struct RunSummary {
  std::string path;
  std::string group_key;  // resolved config without run.seed
  long long seed = 0;
  std::vector<std::string> classes;
  std::vector<std::int64_t> confusion;  // C x C
  double accuracy = 0;
  double balanced_accuracy = 0;
  std::string taxonomy;  // data.taxonomy of the run
  // Expected calibration error of the validation probabilities, before and
  // after temperature scaling (run.h5 /eval/calibration); NaN for a run
  // written before midge recorded it.
  double ece_before = 0;
  double ece_after = 0;
  // Open set (run.h5 /eval/open_set) under the run's predict.open_set:
  // accepted share of the validation images, accuracy on them and, with
  // held-out taxa, the AUROC of known against held-out images and the share
  // of held-out images accepted. NaN where the run has none of it (an older
  // file, predict.open_set = off, no held-out taxa).
  std::string open_set;  // msp|energy|off; empty when not recorded
  double accepted_share = 0;
  double accuracy_accepted = 0;
  double auroc = 0;
  double fpr_at_accept = 0;
};

struct LevelAccuracy {
  std::string level;
  std::vector<double> per_run;  // accuracy at that level, per run of the group
};

struct Group {
  std::string key;
  std::vector<std::string> classes;
  std::vector<RunSummary> runs;
  std::vector<LevelAccuracy> levels;
};

struct Collection {
  std::vector<Group> groups;
  std::vector<std::string> skipped;  // "path: reason"
};

// Scans `dirs`; `taxonomy` (optional) is used for runs without data.taxonomy.
Collection collect_runs(const std::vector<std::string>& dirs, const std::string& taxonomy = "");

// Accuracy when classes are merged by `mapping` (class index -> group name).
double merged_accuracy(const std::vector<std::int64_t>& confusion,
                       const std::vector<std::string>& mapping);

std::string format_tables(const Collection& c);
void write_summary_csv(const Collection& c, const std::string& path);
// `extra`, when given, adds its own groups to the file before it is
// committed (the sweep's ranking, sweep/summary.h).
void write_summary_h5(const Collection& c, const std::string& path,
                      const std::function<void(io::H5Node&)>& extra = {});

}  // namespace midge::collect
