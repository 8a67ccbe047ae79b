#include "io/run_schema.h"

#include <algorithm>

#include "core/errors.h"

namespace midge::io {
namespace {

// The run.h5 schema's lengths (docs/results-schema.md): columns that
// describe the same images or taxa have the same length, and indices are
// in range. A crafted or damaged file is refused naming the dataset; no
// reader indexes past what was read.
class SchemaCheck {
 public:
  explicit SchemaCheck(const std::string& path) : path_(path) {}
  void length(const std::string& name, std::size_t got, std::size_t want, const char* because) {
    if (got != want) {
      throw CorruptFileError(path_ + " is corrupt: dataset /" + name + " has " +
                             std::to_string(got) + " values, " + std::to_string(want) +
                             " expected (" + because + ")");
    }
  }
  // Indices into `count` taxa; `lowest` is -1 where -1 stands for an image
  // that could not be read (eval/predicted).
  void indices(const std::string& name, const std::vector<std::int64_t>& v, std::size_t count,
               std::int64_t lowest = 0) {
    for (const auto x : v) {
      if (x < lowest || (x >= 0 && static_cast<std::size_t>(x) >= count)) {
        throw CorruptFileError(path_ + " is corrupt: dataset /" + name + " holds " +
                               std::to_string(x) + ", outside " + std::to_string(lowest) + ".." +
                               std::to_string(static_cast<std::int64_t>(count) - 1));
      }
    }
  }
  void history(const std::string& group, const History& h) {
    const std::size_t n = h.epoch.size();
    const char* why = "one per epoch";
    length(group + "/train_loss", h.train_loss.size(), n, why);
    length(group + "/train_acc", h.train_acc.size(), n, why);
    length(group + "/val_loss", h.val_loss.size(), n, why);
    length(group + "/val_acc", h.val_acc.size(), n, why);
    length(group + "/lr", h.lr.size(), n, why);
    length(group + "/seconds", h.seconds.size(), n, why);
    length(group + "/images_per_second", h.images_per_second.size(), n, why);
    length(group + "/data_wait_seconds", h.data_wait_seconds.size(), n, why);
  }

 private:
  std::string path_;
};

// The number of dimensions each dataset of run.h5 is written with: the
// confusion matrix and probabilities are tables, the heatmaps a stack of
// images, single figures are scalars, everything else a list.
std::size_t written_rank(const std::string& name) {
  if (name == "eval/confusion" || name == "eval/probabilities" ||
      name == "eval/specimens/confusion" || name == "eval/specimens/log_probabilities") {
    return 2;
  }
  if (name == "gradcam/heatmaps") return 3;
  static const char* const kScalars[] = {"eval/accuracy",
                                         "eval/balanced_accuracy",
                                         "eval/macro_f1",
                                         "eval/top3_accuracy",
                                         "eval/specimens/accuracy",
                                         "eval/specimens/balanced_accuracy",
                                         "eval/specimens/macro_f1",
                                         "eval/sets/coverage_target",
                                         "eval/sets/threshold",
                                         "eval/sets/coverage",
                                         "eval/sets/mean_size",
                                         "eval/specimens/sets/threshold",
                                         "eval/specimens/sets/coverage",
                                         "eval/specimens/sets/mean_size",
                                         "eval/loss",
                                         "eval/calibration/temperature",
                                         "eval/calibration/ece_before",
                                         "eval/calibration/ece_after"};
  for (const char* scalar : kScalars) {
    if (name == scalar) return 0;
  }
  // The open-set figures are scalars, apart from the per-image scores.
  if (name.rfind("eval/open_set/", 0) == 0 && name.find("_scores") == std::string::npos) return 0;
  return 1;
}

void check_ranks(const H5Reader& f, const std::string& path) {
  for (const auto& name : f.datasets()) {
    const auto dims = f.shape(name);
    const std::size_t want = written_rank(name);
    if (dims.size() != want) {
      throw CorruptFileError(path + " is corrupt: dataset /" + name + " has " +
                             std::to_string(dims.size()) + " dimension(s), " +
                             std::to_string(want) + " expected");
    }
  }
}

void check_schema(const std::string& path, const RunRecord& r) {
  SchemaCheck s(path);
  const std::size_t c = r.classes.size();
  s.length("split/train/labels", r.train_labels.size(), r.train_paths.size(), "one per image");
  s.length("split/val/labels", r.val_labels.size(), r.val_paths.size(), "one per image");
  s.indices("split/train/labels", r.train_labels, c);
  s.indices("split/val/labels", r.val_labels, c);
  if (!r.train_sha256.empty()) {
    s.length("split/train/sha256", r.train_sha256.size(), r.train_paths.size(), "one per image");
  }
  if (!r.val_sha256.empty()) {
    s.length("split/val/sha256", r.val_sha256.size(), r.val_paths.size(), "one per image");
  }
  if (!r.train_specimens.empty() || !r.val_specimens.empty()) {
    s.length("split/train/specimens", r.train_specimens.size(), r.train_paths.size(),
             "one per image");
    s.length("split/val/specimens", r.val_specimens.size(), r.val_paths.size(), "one per image");
    if (!r.holdout_paths.empty()) {
      s.length("split/holdout/specimens", r.holdout_specimens.size(), r.holdout_paths.size(),
               "one per image");
    }
  }
  s.length("split/holdout/labels", r.holdout_labels.size(), r.holdout_paths.size(),
           "one per image");
  s.indices("split/holdout/labels", r.holdout_labels, r.holdout_taxa.size());
  if (!r.holdout_sha256.empty()) {
    s.length("split/holdout/sha256", r.holdout_sha256.size(), r.holdout_paths.size(),
             "one per image");
  }
  s.length("inputs/paths", r.input_paths.size(), r.input_keys.size(), "one per input");
  if (!r.rank_hosts.empty()) {
    const std::size_t n = r.rank_hosts.size();
    s.length("ranks/host", n, static_cast<std::size_t>(r.world_size), "one per rank");
    s.length("ranks/local_rank", r.rank_local_ranks.size(), n, "one per rank");
    s.length("ranks/threads", r.rank_threads.size(), n, "one per rank");
    s.length("ranks/device", r.rank_devices.size(), n, "one per rank");
  }
  s.length("inputs/sha256", r.input_sha256.size(), r.input_keys.size(), "one per input");
  s.length("data/skipped_reasons", r.skipped_reasons.size(), r.skipped.size(), "one per file");
  s.history("stage1/history", r.stage1);
  s.history("stage2/history", r.stage2);
  if (r.has_eval) {
    const EvalRecord& e = r.eval;
    const std::size_t n = e.labels.size();
    s.length("eval/confusion", e.confusion.size(), c * c, "taxa x taxa");
    s.length("eval/per_class_accuracy", e.per_class_accuracy.size(), c, "one per taxon");
    s.length("eval/precision", e.precision.size(), c, "one per taxon");
    s.length("eval/f1", e.f1.size(), c, "one per taxon");
    s.length("eval/support", e.support.size(), c, "one per taxon");
    s.length("eval/predicted", e.predicted.size(), n, "one per image of eval/labels");
    s.length("eval/paths", e.paths.size(), n, "one per image of eval/labels");
    s.length("eval/probabilities", e.probabilities.size(), n * c, "images x taxa");
    s.indices("eval/labels", e.labels, c);
    s.indices("eval/predicted", e.predicted, c, -1);  // -1: the image could not be read
    if (e.has_sets) {
      s.length("eval/sets/coverage_per_taxon", e.set_coverage_per_taxon.size(), c, "one per taxon");
      s.length("eval/sets/mean_size_per_taxon", e.set_mean_size_per_taxon.size(), c,
               "one per taxon");
    }
    if (e.has_specimens) {
      const std::size_t m = e.specimen_names.size();
      const char* why = "one per specimen of eval/specimens/names";
      s.length("eval/specimens/labels", e.specimen_labels.size(), m, why);
      s.length("eval/specimens/predicted", e.specimen_predicted.size(), m, why);
      s.length("eval/specimens/images", e.specimen_images.size(), m, why);
      s.length("eval/specimens/log_probabilities", e.specimen_log_probabilities.size(), m * c,
               "specimens x taxa");
      s.length("eval/specimens/confusion", e.specimen_confusion.size(), c * c, "taxa x taxa");
      s.length("eval/specimens/per_class_accuracy", e.specimen_per_class_accuracy.size(), c,
               "one per taxon");
      s.indices("eval/specimens/labels", e.specimen_labels, c);
      s.indices("eval/specimens/predicted", e.specimen_predicted, c, -1);
      if (e.has_specimen_sets) {
        s.length("eval/specimens/sets/coverage_per_taxon", e.specimen_set_coverage_per_taxon.size(),
                 c, "one per taxon");
        s.length("eval/specimens/sets/mean_size_per_taxon",
                 e.specimen_set_mean_size_per_taxon.size(), c, "one per taxon");
      }
    }
    if (e.has_calibration) {
      const std::size_t b = e.bin_upper.size();
      const char* why = "one per bin";
      s.length("eval/calibration/bins/count_before", e.bin_count_before.size(), b, why);
      s.length("eval/calibration/bins/confidence_before", e.bin_confidence_before.size(), b, why);
      s.length("eval/calibration/bins/accuracy_before", e.bin_accuracy_before.size(), b, why);
      s.length("eval/calibration/bins/count_after", e.bin_count_after.size(), b, why);
      s.length("eval/calibration/bins/confidence_after", e.bin_confidence_after.size(), b, why);
      s.length("eval/calibration/bins/accuracy_after", e.bin_accuracy_after.size(), b, why);
    }
  }
  if (r.has_gradcam) {
    const auto& g = r.gradcam;
    const std::size_t k = g.paths.size();
    s.length("gradcam/labels", g.labels.size(), k, "one per image of gradcam/paths");
    s.length("gradcam/predicted", g.predicted.size(), k, "one per image of gradcam/paths");
    s.length("gradcam/heatmaps", g.heatmaps.size(),
             k * static_cast<std::size_t>(std::max<std::int64_t>(g.height, 0)) *
                 static_cast<std::size_t>(std::max<std::int64_t>(g.width, 0)),
             "images x height x width");
  }
}

}  // namespace

void check_run_schema(const H5Reader& f, const std::string& path, const RunRecord& r) {
  check_ranks(f, path);
  check_schema(path, r);
  if (r.has_eval) {
    const auto dims = f.shape("eval/probabilities");
    if (dims[1] != r.classes.size()) {
      throw CorruptFileError(path + " is corrupt: dataset /eval/probabilities has " +
                             std::to_string(dims[1]) + " columns for " +
                             std::to_string(r.classes.size()) + " taxa");
    }
  }
}

}  // namespace midge::io
