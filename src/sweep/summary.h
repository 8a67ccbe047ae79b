// The sweep's ranking: trials that differ only in run.seed form one
// configuration ("point"); points are ranked by their mean validation
// accuracy over seeds. Written into `<out>/summary.h5` (group /sweep, next to
// the collector's /groups) and `<out>/ranking.csv`, and printed at the end
// of `midge sweep`. Each trial's accuracy carries its 95% Wilson interval
// (over its validation images); the best point's per-taxon accuracy is
// pooled over its seeds. A sweep with [folds] is also ranked by each
// configuration's pooled out-of-fold accuracy (collect::PooledFolds), the
// figure to choose by: it rests on every image, not one fold's fifth.
// Schema: docs/results-schema.md.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "collect/summary.h"
#include "sweep/spec.h"

namespace midge::sweep {

struct TrialResult {
  std::string id;
  long long seed = 0;
  double accuracy = 0;
  stats::Interval ci;
  std::size_t point = 0;  // index into SweepSummary::points
};

struct Point {
  std::string parameters;           // the trials' slug without run.seed
  std::vector<std::string> values;  // per SweepSummary::keys
  std::vector<std::size_t> trials;  // into SweepSummary::trials
  double accuracy_mean = 0;
  double accuracy_sd = 0;  // over seeds (0 with one)
  double balanced_mean = 0;
  std::int64_t group = 0;  // its /groups/<n> in summary.h5
  // Against the best point on the same validation images, by McNemar's
  // exact test per seed (collect::verdict_against_best): "best",
  // "indistinguishable", "worse", "better", "mixed", or "not compared".
  std::string versus_best;
  double smallest_p = 1;  // over its seeds' tests (1 and 0 when not compared)
  double largest_p = 0;
};

// A configuration's k folds pooled (one seed), best first.
struct FoldedPoint {
  std::string parameters;  // the trials' slug without run.seed and the fold keys
  long long seed = 0;
  long long folds = 0;
  double accuracy = 0;
  stats::Interval ci;
  std::int64_t images = 0;
  std::string versus_best;  // "best", "indistinguishable", "different", "not compared"
  double p_value = 1;
};

struct SweepSummary {
  std::vector<FoldedPoint> folded;  // empty without [folds]
  std::vector<std::string> keys;    // swept keys other than run.seed
  std::vector<Point> points;        // best first
  std::vector<TrialResult> trials;
  // The best point, per taxon, over all its seeds' validation images; with
  // [folds], the best cross-validated configuration's pooled out-of-fold
  // predictions instead (best_folds > 0), so that the table agrees with
  // the ranking to choose by.
  std::string best_parameters;
  long long best_folds = 0;
  std::vector<std::string> taxa;
  std::vector<std::int64_t> correct;
  std::vector<std::int64_t> support;
};

// From the collected complete trials (runs in `<out>/trials/<id>/`).
SweepSummary summarize_sweep(const std::vector<Trial>& trials, const collect::Collection& c);

// The same for the sweep whose journal is `<dir>/sweep.h5` (its trials
// expanded again from the spec and seed the journal holds), e.g. for `midge
// collect DIR` after the parts of a job array; nullopt when `dir` holds no
// journal.
std::optional<SweepSummary> summarize_sweep_folder(const std::string& dir,
                                                   const collect::Collection& c);

void write_sweep_group(const SweepSummary& s, io::H5Node& file);
void write_ranking_csv(const SweepSummary& s, const std::string& path);
// Points by accuracy, then the best point per taxon.
std::string ranking_text(const SweepSummary& s);

}  // namespace midge::sweep
