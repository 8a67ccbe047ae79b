// run.h5: everything one training run produced, in the schema documented
// field by field in docs/results-schema.md.
//
// The trainer fills a RunRecord and rewrites run.h5 after every epoch
// (atomically: write to a temporary file, rename), so at any moment the file
// on disk is complete and its root attribute `status` says how far the run
// got: running, paused (a sweep trial waiting at a successive-halving
// rung), stopped (a trial halving ended there), complete or failed (with
// `error`). Plain vectors only: io knows nothing of models or tensors.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

namespace midge::io {

// 2: /eval/open_set, /split/holdout, /split/*/sha256 (older files are
// still read: what they lack reads as absent).
inline constexpr std::int64_t kRunSchemaVersion = 2;

// Per-epoch columns of one stage.
struct History {
  std::vector<std::int64_t> epoch;
  std::vector<double> train_loss;
  std::vector<double> train_acc;
  std::vector<double> val_loss;
  std::vector<double> val_acc;
  std::vector<double> lr;
  std::vector<double> seconds;
  std::vector<double> images_per_second;
  // Seconds the training loop waited for the loader (mean over ranks): near
  // zero when the loader keeps the device fed.
  std::vector<double> data_wait_seconds;
  std::size_t size() const { return epoch.size(); }
};

// One open-set score (stats/open_set.h) on the validation images and, with
// held-out taxa, on theirs.
struct OpenSetScore {
  std::string method;            // msp|energy
  double threshold = 0;          // accept score >= threshold
  double accepted_share = 0;     // of the read validation images
  double accuracy_accepted = 0;  // accuracy on the accepted validation images
  std::vector<double> known;     // per validation image (NaN: unreadable)
  bool has_holdout = false;      // the rest needs held-out taxa
  double auroc = 0;              // known vs held-out
  double fpr_at_accept = 0;      // share of held-out images accepted
  std::vector<double> holdout;   // per held-out image (NaN: unreadable)
};

struct OpenSetRecord {
  std::string method;  // predict.open_set: msp|energy|off
  double accept_rate = 0;
  std::vector<OpenSetScore> scores;  // msp, then energy
  // The score predict.open_set chose; null for off.
  const OpenSetScore* selected() const {
    for (const auto& s : scores)
      if (s.method == method) return &s;
    return nullptr;
  }
};

struct EvalRecord {
  std::vector<std::int64_t> confusion;     // C x C, rows = true taxon
  std::vector<double> per_class_accuracy;  // recall
  std::vector<double> precision;
  std::vector<double> f1;
  std::vector<std::int64_t> support;
  double accuracy = 0;
  double balanced_accuracy = 0;
  // Absent from files written before issue #28 (read as -1).
  double macro_f1 = -1;
  double top3_accuracy = -1;  // true taxon among the 3 most probable
  double loss = 0;
  std::vector<std::int64_t> labels;     // N, file order of /split/val
  std::vector<std::int64_t> predicted;  // N
  std::vector<float> probabilities;     // N x C
  std::vector<std::string> paths;       // N
  // Calibration (stats/calibration.h), absent from files written before it:
  // the fitted temperature, and the 15-bin reliability table and expected
  // calibration error of the probabilities before and after dividing the
  // logits by it.
  bool has_calibration = false;
  double temperature = 1;
  double ece_before = 0;
  double ece_after = 0;
  std::vector<double> bin_upper;
  std::vector<std::int64_t> bin_count_before;
  std::vector<double> bin_confidence_before;
  std::vector<double> bin_accuracy_before;
  std::vector<std::int64_t> bin_count_after;
  std::vector<double> bin_confidence_after;
  std::vector<double> bin_accuracy_after;
  bool has_open_set = false;
  OpenSetRecord open_set;
  // Per specimen (stats/fusion.h), when the validation images' specimens
  // are known: S specimens in the order of their first image.
  bool has_specimens = false;
  std::vector<std::string> specimen_names;
  std::vector<std::int64_t> specimen_labels;
  std::vector<std::int64_t> specimen_predicted;  // -1: none of its images readable
  std::vector<std::int64_t> specimen_images;
  std::vector<double> specimen_log_probabilities;  // S x C, mean over its images
  std::vector<std::int64_t> specimen_confusion;    // C x C
  std::vector<double> specimen_per_class_accuracy;
  double specimen_accuracy = 0;
  double specimen_balanced_accuracy = 0;
  double specimen_macro_f1 = 0;
  // Conformal prediction sets (stats/conformal.h) at predict.coverage, on
  // the calibrated probabilities: the threshold from every validation
  // image, and coverage and mean set size of each image's set from the
  // threshold of the others (leave one out), overall and per taxon.
  bool has_sets = false;
  double set_coverage_target = 0;
  double set_threshold = 0;
  double set_coverage = 0;
  double set_mean_size = 0;
  std::vector<double> set_coverage_per_taxon;
  std::vector<double> set_mean_size_per_taxon;
  // The same for specimens (with has_specimens and has_sets): the LAC
  // threshold from the validation specimens' fused calibrated
  // probabilities (stats::fused_probabilities), leave-one-out coverage and
  // mean set size over the specimens. +infinity: too few specimens for the
  // coverage asked (every taxon in every set).
  bool has_specimen_sets = false;
  double specimen_set_threshold = 0;
  double specimen_set_coverage = 0;
  double specimen_set_mean_size = 0;
  std::vector<double> specimen_set_coverage_per_taxon;
  std::vector<double> specimen_set_mean_size_per_taxon;
};

struct GradcamRecord {
  std::string layer;
  std::string target = "predicted";  // whose evidence: the predicted or the true taxon
  std::int64_t input_size = 0;
  std::int64_t height = 0;  // heatmap size
  std::int64_t width = 0;
  std::vector<float> heatmaps;  // N x height x width, in [0, 1]
  std::vector<std::string> paths;
  std::vector<std::int64_t> labels;
  std::vector<std::int64_t> predicted;
};

// How far a run got: root attribute `status`, a string only in the file.
enum class RunStatus { kRunning, kComplete, kFailed, kInterrupted, kPaused, kStopped };
// "running", "complete", "failed", "interrupted", "paused", "stopped".
const char* run_status_name(RunStatus status);
// Throws IoError naming `file` and the known names for any other text.
RunStatus parse_run_status(const std::string& text, const std::string& file);

struct RunRecord {
  // Root attributes.
  std::string config;  // resolved INI text
  RunStatus status = RunStatus::kRunning;
  std::string error;
  std::int64_t world_size = 1;
  std::string started;   // ISO 8601 UTC
  std::string finished;  // empty while running
  std::string host;
  std::string versions;  // "LibTorch 1.13.0; OpenCV 4.6.0; HDF5 1.10.8; MPI ..."
  std::string amp;       // the precision trained in: off|bf16|fp16 (run.amp resolved)
  std::string device;    // rank 0's device: "cpu: <model> (N threads)" or "cuda:0 (...)"
  // Where each rank ran (/ranks, one entry per rank in rank order): host
  // name, rank among the job's processes on that node, threads, device
  // ("cpu", "cuda:1"). Empty in files written before midge had it.
  std::vector<std::string> rank_hosts;
  std::vector<std::int64_t> rank_local_ranks;
  std::vector<std::int64_t> rank_threads;
  std::vector<std::string> rank_devices;
  // As read back (writing always stamps kRunSchemaVersion and this build).
  std::int64_t schema_version = kRunSchemaVersion;
  std::string midge_version;
  // High-water marks so far, maximum over ranks (train/progress.h).
  std::int64_t peak_rss_bytes = 0;
  std::int64_t peak_cuda_bytes = 0;  // 0 on CPU
  // Data.
  std::vector<std::string> classes;
  std::vector<std::string> train_paths;
  std::vector<std::int64_t> train_labels;
  std::vector<std::string> val_paths;
  std::vector<std::int64_t> val_labels;
  // Held-out taxa (data.holdout_taxa) and their images, labels indexing
  // holdout_taxa; empty without.
  std::vector<std::string> holdout_taxa;
  std::vector<std::string> holdout_paths;
  std::vector<std::int64_t> holdout_labels;
  // SHA-256 (hex) of each image's file as training found it, same order
  // as the paths ("" for one that could not be read); empty in files
  // written before schema 2. `midge replay` checks them.
  std::vector<std::string> train_sha256;
  std::vector<std::string> val_sha256;
  std::vector<std::string> holdout_sha256;
  // The specimen of each image (data.specimen_pattern or the manifest's
  // column), same order as the paths; empty when no image's is known.
  std::vector<std::string> train_specimens;
  std::vector<std::string> val_specimens;
  std::vector<std::string> holdout_specimens;
  std::string split_unit;  // data.split_unit as applied: image|specimen|group
  // Other files the run read (data.manifest, data.taxonomy,
  // model.pretrained when set): configuration key, path and SHA-256.
  std::vector<std::string> input_keys;
  std::vector<std::string> input_paths;
  std::vector<std::string> input_sha256;
  std::vector<std::string> skipped;          // paths of unreadable images
  std::vector<std::string> skipped_reasons;  // same order
  // Training.
  History stage1;
  History stage2;
  bool has_eval = false;
  EvalRecord eval;
  bool has_gradcam = false;
  GradcamRecord gradcam;
};

class H5Node;
// A History as a group of column datasets (also used by checkpoints).
void write_history(H5Node& node, const std::string& group, const History& history);
History read_history(const H5Node& node, const std::string& group);

void write_run_file(const std::string& path, const RunRecord& run);
RunRecord read_run_file(const std::string& path);

// Sets the status (and, unless empty, `finished`) of an existing run.h5 and
// changes nothing else in it: no dataset is rewritten and the version
// attributes stay those of the midge that wrote it. Atomic like every
// write (an edited copy renamed over the file).
void set_run_status(const std::string& path, RunStatus status, const std::string& finished);

// "2026-11-27T07:14:24Z"
std::string utc_timestamp();
std::string host_name();

}  // namespace midge::io
