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
//
// Groups validated on the same images (the same paths, taxa and, for files
// of schema 2, content hashes) are compared with the best of them, seed by
// seed, by stats::McNemar's exact test on per-image correctness: it says whether
// a configuration is distinguishable from the best on this data.
#pragma once

#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include "io/hdf5.h"
#include "stats/describe.h"
#include "stats/mcnemar.h"

namespace midge::collect {

struct RunSummary {
  std::string path;
  std::string group_key;  // resolved config without run.seed
  long long seed = 0;
  std::vector<std::string> classes;
  std::vector<std::int64_t> confusion;  // C x C
  double accuracy = 0;
  double balanced_accuracy = 0;
  // Issue #28's figures; NaN where the run does not record them (an older
  // file; specimens unknown; predict.coverage = 0).
  double macro_f1 = 0;
  double top3_accuracy = 0;
  double specimen_accuracy = 0;
  double set_coverage_target = 0;
  double set_coverage = 0;  // leave-one-out, run.h5 /eval/sets
  double set_mean_size = 0;
  double specimen_set_coverage = 0;  // run.h5 /eval/specimens/sets
  double specimen_set_mean_size = 0;
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
  // The validation images, for paired comparison: SHA-256 over one line
  // "path<TAB>taxon" per image, in order (val_set), and over the images'
  // content hashes (val_content; empty for files of schema 1, which record
  // none); and whether each image was classified correctly.
  std::string val_set;
  std::string val_content;
  std::vector<bool> correct;
  // Cross-validation (data.split_every = k folds, this run fold
  // data.split_offset): the configuration without run.seed and
  // data.split_offset, and the run's validation images and predictions
  // for pooling the folds (cross_validation.cpp).
  std::string cv_key;
  long long folds = 0;
  long long fold = 0;
  std::vector<std::string> eval_paths;
  std::vector<std::int64_t> eval_labels;
  std::vector<std::int64_t> eval_predicted;  // -1: the image could not be read
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

// One seed-matched pair of runs: a group against the best group validated
// on the same images (McNemar's exact test, stats/mcnemar.h).
struct Comparison {
  std::size_t group = 0;  // index into Collection::groups
  std::size_t best = 0;   // the best group of its validation set
  long long seed = 0;
  stats::McNemar test;  // a_only: images only the best got right; b_only: only `group`
};

// One configuration's k folds (one seed) pooled: each image predicted once
// by the fold's model that did not train on it (out of fold). Pooled only
// when the k runs cover folds 0..k-1 once each and their validation images
// are disjoint; otherwise `problem` says why.
struct PooledFolds {
  std::string cv_key;
  long long seed = 0;
  long long folds = 0;
  std::vector<std::string> runs;  // run.h5 of fold 0..k-1
  std::vector<std::string> classes;
  std::vector<std::string> paths;  // every image, sorted
  std::vector<bool> correct;       // same order
  std::vector<std::int64_t> confusion;
  std::int64_t images = 0;
  std::int64_t unread = 0;  // images no fold could read
  double accuracy = 0;      // correct / images read
  double balanced_accuracy = 0;
  double macro_f1 = 0;
  stats::Interval interval;  // 95% Wilson interval of the accuracy
  std::string problem;
};

// A pooled configuration against the best pooled one on the same images
// (McNemar's exact test on the pooled per-image correctness).
struct PooledComparison {
  std::size_t pooled = 0;
  std::size_t best = 0;
  stats::McNemar test;
};

struct Collection {
  std::vector<Group> groups;
  std::vector<PooledFolds> pooled;  // sorted by accuracy, best first
  std::vector<PooledComparison> pooled_paired;
  std::vector<std::string> skipped;  // "path: reason"
  // Every group against the best one (highest mean accuracy, then balanced
  // accuracy) of the groups validated on the same images, run by run for
  // each seed both have; groups on other images are not compared.
  std::vector<Comparison> paired;
  std::vector<std::string> paired_notes;  // why some pairs were not compared
};

// "indistinguishable" (p >= alpha for every seed), "worse" (p < alpha and
// the best ahead for every seed), "better" (p < alpha and `group` ahead for
// every seed: possible when the best leads on seeds `group` lacks),
// "mixed", or "" when `group` has no comparison (it is the best, or was not
// compared).
std::string verdict_against_best(const Collection& c, std::size_t group, double alpha = 0.05);

// Right predictions and images of taxon k in a run's confusion matrix.
std::int64_t diag(const RunSummary& r, std::size_t k);
std::int64_t support(const RunSummary& r, std::size_t k);

// The content key of a group's runs: the one all its hashed runs share
// ("" when none is hashed); false when they disagree or name other images.
bool group_content(const Group& g, std::string* content);

// Fills Collection::paired: each validation set's groups against its best.
void compare_with_best(Collection* c);

// Fills Collection::pooled and pooled_paired from the runs of every group
// with data.split_every folds (cross_validation.cpp).
void pool_folds(Collection* c);
std::string cross_validation_text(const Collection& c);

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
