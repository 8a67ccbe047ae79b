#include "io/run_file.h"

#include <unistd.h>

#include <ctime>

#include "core/errors.h"
#include "core/versions.h"
#include "io/hdf5.h"
#include "io/hdf5_library.h"
#include "io/run_schema.h"

namespace midge::io {

void write_history(H5Node& f, const std::string& group, const History& h) {
  f.write(group + "/epoch", h.epoch);
  f.write(group + "/train_loss", h.train_loss);
  f.write(group + "/train_acc", h.train_acc);
  f.write(group + "/val_loss", h.val_loss);
  f.write(group + "/val_acc", h.val_acc);
  f.write(group + "/lr", h.lr);
  f.write(group + "/seconds", h.seconds);
  f.write(group + "/images_per_second", h.images_per_second);
  f.write(group + "/data_wait_seconds", h.data_wait_seconds);
}

History read_history(const H5Node& f, const std::string& group) {
  History h;
  if (!f.exists(group)) return h;
  h.epoch = f.read_int64s(group + "/epoch");
  h.train_loss = f.read_doubles(group + "/train_loss");
  h.train_acc = f.read_doubles(group + "/train_acc");
  h.val_loss = f.read_doubles(group + "/val_loss");
  h.val_acc = f.read_doubles(group + "/val_acc");
  h.lr = f.read_doubles(group + "/lr");
  h.seconds = f.read_doubles(group + "/seconds");
  h.images_per_second = f.read_doubles(group + "/images_per_second");
  // Files of midge 0.1.0 before this column existed: unknown, read as 0.
  h.data_wait_seconds = f.exists(group + "/data_wait_seconds")
                            ? f.read_doubles(group + "/data_wait_seconds")
                            : std::vector<double>(h.epoch.size(), 0.0);
  return h;
}

namespace {

// The figures of one score; `base` is /eval/open_set/<method>, or
// /eval/open_set itself for the chosen score's summary (no per-image rows).
void write_open_set_figures(H5Node& f, const std::string& base, const OpenSetScore& s, bool rows) {
  f.write_scalar(base + "/threshold", s.threshold);
  f.write_scalar(base + "/accepted_share", s.accepted_share);
  f.write_scalar(base + "/accuracy_accepted", s.accuracy_accepted);
  if (rows) f.write(base + "/known_scores", s.known);
  if (!s.has_holdout) return;
  f.write_scalar(base + "/auroc", s.auroc);
  f.write_scalar(base + "/fpr_at_accept", s.fpr_at_accept);
  if (rows) f.write(base + "/holdout_scores", s.holdout);
}

OpenSetScore read_open_set_figures(const H5Node& f, const std::string& base) {
  OpenSetScore s;
  s.threshold = f.read_double(base + "/threshold");
  s.accepted_share = f.read_double(base + "/accepted_share");
  s.accuracy_accepted = f.read_double(base + "/accuracy_accepted");
  s.known = f.read_doubles(base + "/known_scores");
  s.has_holdout = f.exists(base + "/auroc");
  if (s.has_holdout) {
    s.auroc = f.read_double(base + "/auroc");
    s.fpr_at_accept = f.read_double(base + "/fpr_at_accept");
    s.holdout = f.read_doubles(base + "/holdout_scores");
  }
  return s;
}

void write_open_set(H5Node& f, const OpenSetRecord& o) {
  f.write_scalar("eval/open_set/method", o.method);
  f.write_scalar("eval/open_set/accept_rate", o.accept_rate);
  for (const auto& s : o.scores) write_open_set_figures(f, "eval/open_set/" + s.method, s, true);
  if (const OpenSetScore* chosen = o.selected()) {
    write_open_set_figures(f, "eval/open_set", *chosen, false);
  }
}

OpenSetRecord read_open_set(const H5Node& f) {
  OpenSetRecord o;
  o.method = f.read_string("eval/open_set/method");
  o.accept_rate = f.read_double("eval/open_set/accept_rate");
  for (const char* m : {"msp", "energy"}) {
    const std::string base = std::string("eval/open_set/") + m;
    if (!f.exists(base)) continue;
    o.scores.push_back(read_open_set_figures(f, base));
    o.scores.back().method = m;
  }
  return o;
}

}  // namespace

void write_run_file(const std::string& path, const RunRecord& r) {
  H5Writer f(path);
  f.set_attr("", "schema_version", kRunSchemaVersion);
  f.set_attr("", "midge_version", midge_version());
  f.set_attr("", "config", r.config);
  f.set_attr("", "status", std::string(run_status_name(r.status)));
  f.set_attr("", "error", r.error);
  f.set_attr("", "world_size", r.world_size);
  f.set_attr("", "started", r.started);
  f.set_attr("", "finished", r.finished);
  f.set_attr("", "host", r.host);
  f.set_attr("", "versions", r.versions);
  f.set_attr("", "amp", r.amp);
  f.set_attr("", "device", r.device);
  f.set_attr("", "peak_rss_bytes", r.peak_rss_bytes);
  f.set_attr("", "peak_cuda_bytes", r.peak_cuda_bytes);
  f.write("classes", r.classes);
  if (!r.rank_hosts.empty()) {
    f.write("ranks/host", r.rank_hosts);
    f.write("ranks/local_rank", r.rank_local_ranks);
    f.write("ranks/threads", r.rank_threads);
    f.write("ranks/device", r.rank_devices);
  }
  f.write("split/train/paths", r.train_paths);
  f.write("split/train/labels", r.train_labels);
  f.write("split/val/paths", r.val_paths);
  f.write("split/val/labels", r.val_labels);
  if (!r.input_keys.empty()) {
    f.write("inputs/keys", r.input_keys);
    f.write("inputs/paths", r.input_paths);
    f.write("inputs/sha256", r.input_sha256);
  }
  if (!r.train_sha256.empty()) f.write("split/train/sha256", r.train_sha256);
  if (!r.val_sha256.empty()) f.write("split/val/sha256", r.val_sha256);
  if (!r.holdout_taxa.empty()) {
    f.write("split/holdout/taxa", r.holdout_taxa);
    f.write("split/holdout/paths", r.holdout_paths);
    f.write("split/holdout/labels", r.holdout_labels);
    if (!r.holdout_sha256.empty()) f.write("split/holdout/sha256", r.holdout_sha256);
  }
  if (!r.train_specimens.empty()) {
    f.write("split/train/specimens", r.train_specimens);
    f.write("split/val/specimens", r.val_specimens);
    if (!r.holdout_taxa.empty()) f.write("split/holdout/specimens", r.holdout_specimens);
  }
  if (!r.split_unit.empty()) f.set_attr("split", "unit", r.split_unit);
  f.write("data/skipped", r.skipped);
  f.write("data/skipped_reasons", r.skipped_reasons);
  write_history(f, "stage1/history", r.stage1);
  write_history(f, "stage2/history", r.stage2);
  if (r.has_eval) {
    const auto c = static_cast<std::uint64_t>(r.classes.size());
    const auto n = static_cast<std::uint64_t>(r.eval.labels.size());
    f.write("eval/confusion", r.eval.confusion, {c, c});
    f.write("eval/per_class_accuracy", r.eval.per_class_accuracy);
    f.write("eval/precision", r.eval.precision);
    f.write("eval/f1", r.eval.f1);
    f.write("eval/support", r.eval.support);
    f.write_scalar("eval/accuracy", r.eval.accuracy);
    f.write_scalar("eval/balanced_accuracy", r.eval.balanced_accuracy);
    if (r.eval.macro_f1 >= 0) f.write_scalar("eval/macro_f1", r.eval.macro_f1);
    if (r.eval.top3_accuracy >= 0) f.write_scalar("eval/top3_accuracy", r.eval.top3_accuracy);
    if (r.eval.has_sets) {
      const auto& e = r.eval;
      f.write_scalar("eval/sets/coverage_target", e.set_coverage_target);
      f.write_scalar("eval/sets/threshold", e.set_threshold);
      f.write_scalar("eval/sets/coverage", e.set_coverage);
      f.write_scalar("eval/sets/mean_size", e.set_mean_size);
      f.write("eval/sets/coverage_per_taxon", e.set_coverage_per_taxon);
      f.write("eval/sets/mean_size_per_taxon", e.set_mean_size_per_taxon);
    }
    if (r.eval.has_specimens) {
      const auto& e = r.eval;
      const auto n_s = static_cast<hsize_t>(e.specimen_names.size());
      f.write("eval/specimens/names", e.specimen_names);
      f.write("eval/specimens/labels", e.specimen_labels);
      f.write("eval/specimens/predicted", e.specimen_predicted);
      f.write("eval/specimens/images", e.specimen_images);
      f.write("eval/specimens/log_probabilities", e.specimen_log_probabilities, {n_s, c});
      f.write("eval/specimens/confusion", e.specimen_confusion, {c, c});
      f.write("eval/specimens/per_class_accuracy", e.specimen_per_class_accuracy);
      f.write_scalar("eval/specimens/accuracy", e.specimen_accuracy);
      f.write_scalar("eval/specimens/balanced_accuracy", e.specimen_balanced_accuracy);
      f.write_scalar("eval/specimens/macro_f1", e.specimen_macro_f1);
      if (e.has_specimen_sets) {
        f.write_scalar("eval/specimens/sets/threshold", e.specimen_set_threshold);
        f.write_scalar("eval/specimens/sets/coverage", e.specimen_set_coverage);
        f.write_scalar("eval/specimens/sets/mean_size", e.specimen_set_mean_size);
        f.write("eval/specimens/sets/coverage_per_taxon", e.specimen_set_coverage_per_taxon);
        f.write("eval/specimens/sets/mean_size_per_taxon", e.specimen_set_mean_size_per_taxon);
      }
    }
    f.write_scalar("eval/loss", r.eval.loss);
    f.write("eval/labels", r.eval.labels);
    f.write("eval/predicted", r.eval.predicted);
    f.write("eval/probabilities", r.eval.probabilities, {n, c});
    f.write("eval/paths", r.eval.paths);
    if (r.eval.has_calibration) {
      const EvalRecord& e = r.eval;
      f.write_scalar("eval/calibration/temperature", e.temperature);
      f.write_scalar("eval/calibration/ece_before", e.ece_before);
      f.write_scalar("eval/calibration/ece_after", e.ece_after);
      f.write("eval/calibration/bins/upper", e.bin_upper);
      f.write("eval/calibration/bins/count_before", e.bin_count_before);
      f.write("eval/calibration/bins/confidence_before", e.bin_confidence_before);
      f.write("eval/calibration/bins/accuracy_before", e.bin_accuracy_before);
      f.write("eval/calibration/bins/count_after", e.bin_count_after);
      f.write("eval/calibration/bins/confidence_after", e.bin_confidence_after);
      f.write("eval/calibration/bins/accuracy_after", e.bin_accuracy_after);
    }
    if (r.eval.has_open_set) write_open_set(f, r.eval.open_set);
  }
  if (r.has_gradcam) {
    const auto& g = r.gradcam;
    const auto n = static_cast<std::uint64_t>(g.paths.size());
    f.write("gradcam/heatmaps", g.heatmaps,
            {n, static_cast<std::uint64_t>(g.height), static_cast<std::uint64_t>(g.width)});
    f.set_attr("gradcam/heatmaps", "layer", g.layer);
    f.set_attr("gradcam/heatmaps", "target", g.target);
    f.set_attr("gradcam/heatmaps", "input_size", g.input_size);
    f.write("gradcam/paths", g.paths);
    f.write("gradcam/labels", g.labels);
    f.write("gradcam/predicted", g.predicted);
  }
  f.commit();
}

namespace {
constexpr const char* kRunStatusNames[] = {"running",     "complete", "failed",
                                           "interrupted", "paused",   "stopped"};
}  // namespace

const char* run_status_name(RunStatus status) { return kRunStatusNames[static_cast<int>(status)]; }

RunStatus parse_run_status(const std::string& text, const std::string& file) {
  for (int i = 0; i < 6; ++i) {
    if (text == kRunStatusNames[i]) return static_cast<RunStatus>(i);
  }
  throw IoError(file + ": unknown run status '" + text +
                "' (running, complete, failed, interrupted, paused or stopped)");
}

void set_run_status(const std::string& path, RunStatus status, const std::string& finished) {
  H5Editor f(path);
  if (!f.has_attr("", "status")) throw IoError(path + " is not a midge run file (no status)");
  f.set_attr("", "status", std::string(run_status_name(status)));
  if (!finished.empty()) f.set_attr("", "finished", finished);
  f.commit();
}

RunRecord read_run_file(const std::string& path) {
  H5Reader f(path);
  RunRecord r;
  if (!f.has_attr("", "status")) throw IoError(path + " is not a midge run file (no status)");
  r.config = f.attr_string("", "config");
  r.status = parse_run_status(f.attr_string("", "status"), path);
  r.error = f.attr_string("", "error");
  r.world_size = f.attr_int64("", "world_size");
  r.started = f.attr_string("", "started");
  r.finished = f.attr_string("", "finished");
  r.host = f.attr_string("", "host");
  if (f.has_attr("", "versions")) r.versions = f.attr_string("", "versions");
  if (f.has_attr("", "amp")) r.amp = f.attr_string("", "amp");
  if (f.has_attr("", "device")) r.device = f.attr_string("", "device");
  if (f.has_attr("", "peak_rss_bytes")) r.peak_rss_bytes = f.attr_int64("", "peak_rss_bytes");
  if (f.has_attr("", "peak_cuda_bytes")) r.peak_cuda_bytes = f.attr_int64("", "peak_cuda_bytes");
  r.classes = f.read_strings("classes");
  if (f.exists("ranks/host")) {
    r.rank_hosts = f.read_strings("ranks/host");
    r.rank_local_ranks = f.read_int64s("ranks/local_rank");
    r.rank_threads = f.read_int64s("ranks/threads");
    r.rank_devices = f.read_strings("ranks/device");
  }
  r.train_paths = f.read_strings("split/train/paths");
  r.train_labels = f.read_int64s("split/train/labels");
  r.val_paths = f.read_strings("split/val/paths");
  r.val_labels = f.read_int64s("split/val/labels");
  r.schema_version = f.has_attr("", "schema_version") ? f.attr_int64("", "schema_version") : 1;
  if (f.has_attr("", "midge_version")) r.midge_version = f.attr_string("", "midge_version");
  if (f.exists("inputs/keys")) {
    r.input_keys = f.read_strings("inputs/keys");
    r.input_paths = f.read_strings("inputs/paths");
    r.input_sha256 = f.read_strings("inputs/sha256");
  }
  if (f.exists("split/train/sha256")) r.train_sha256 = f.read_strings("split/train/sha256");
  if (f.exists("split/val/sha256")) r.val_sha256 = f.read_strings("split/val/sha256");
  if (f.exists("split/holdout/taxa")) {
    r.holdout_taxa = f.read_strings("split/holdout/taxa");
    r.holdout_paths = f.read_strings("split/holdout/paths");
    r.holdout_labels = f.read_int64s("split/holdout/labels");
    if (f.exists("split/holdout/sha256")) {
      r.holdout_sha256 = f.read_strings("split/holdout/sha256");
    }
  }
  if (f.exists("split/train/specimens")) {
    r.train_specimens = f.read_strings("split/train/specimens");
    r.val_specimens = f.read_strings("split/val/specimens");
    if (f.exists("split/holdout/specimens")) {
      r.holdout_specimens = f.read_strings("split/holdout/specimens");
    }
  }
  if (f.has_attr("split", "unit")) r.split_unit = f.attr_string("split", "unit");
  r.skipped = f.read_strings("data/skipped");
  r.skipped_reasons = f.read_strings("data/skipped_reasons");
  r.stage1 = read_history(f, "stage1/history");
  r.stage2 = read_history(f, "stage2/history");
  r.has_eval = f.exists("eval/confusion");
  if (r.has_eval) {
    r.eval.confusion = f.read_int64s("eval/confusion");
    r.eval.per_class_accuracy = f.read_doubles("eval/per_class_accuracy");
    r.eval.precision = f.read_doubles("eval/precision");
    r.eval.f1 = f.read_doubles("eval/f1");
    r.eval.support = f.read_int64s("eval/support");
    r.eval.accuracy = f.read_double("eval/accuracy");
    r.eval.balanced_accuracy = f.read_double("eval/balanced_accuracy");
    if (f.exists("eval/macro_f1")) r.eval.macro_f1 = f.read_double("eval/macro_f1");
    if (f.exists("eval/top3_accuracy")) r.eval.top3_accuracy = f.read_double("eval/top3_accuracy");
    r.eval.has_sets = f.exists("eval/sets/threshold");
    if (r.eval.has_sets) {
      auto& e = r.eval;
      e.set_coverage_target = f.read_double("eval/sets/coverage_target");
      e.set_threshold = f.read_double("eval/sets/threshold");
      e.set_coverage = f.read_double("eval/sets/coverage");
      e.set_mean_size = f.read_double("eval/sets/mean_size");
      e.set_coverage_per_taxon = f.read_doubles("eval/sets/coverage_per_taxon");
      e.set_mean_size_per_taxon = f.read_doubles("eval/sets/mean_size_per_taxon");
    }
    r.eval.has_specimens = f.exists("eval/specimens/names");
    if (r.eval.has_specimens) {
      auto& e = r.eval;
      e.specimen_names = f.read_strings("eval/specimens/names");
      e.specimen_labels = f.read_int64s("eval/specimens/labels");
      e.specimen_predicted = f.read_int64s("eval/specimens/predicted");
      e.specimen_images = f.read_int64s("eval/specimens/images");
      e.specimen_log_probabilities = f.read_doubles("eval/specimens/log_probabilities");
      e.specimen_confusion = f.read_int64s("eval/specimens/confusion");
      e.specimen_per_class_accuracy = f.read_doubles("eval/specimens/per_class_accuracy");
      e.specimen_accuracy = f.read_double("eval/specimens/accuracy");
      e.specimen_balanced_accuracy = f.read_double("eval/specimens/balanced_accuracy");
      e.specimen_macro_f1 = f.read_double("eval/specimens/macro_f1");
      e.has_specimen_sets = f.exists("eval/specimens/sets/threshold");
      if (e.has_specimen_sets) {
        e.specimen_set_threshold = f.read_double("eval/specimens/sets/threshold");
        e.specimen_set_coverage = f.read_double("eval/specimens/sets/coverage");
        e.specimen_set_mean_size = f.read_double("eval/specimens/sets/mean_size");
        e.specimen_set_coverage_per_taxon =
            f.read_doubles("eval/specimens/sets/coverage_per_taxon");
        e.specimen_set_mean_size_per_taxon =
            f.read_doubles("eval/specimens/sets/mean_size_per_taxon");
      }
    }
    r.eval.loss = f.read_double("eval/loss");
    r.eval.labels = f.read_int64s("eval/labels");
    r.eval.predicted = f.read_int64s("eval/predicted");
    r.eval.probabilities = f.read_floats("eval/probabilities");
    r.eval.paths = f.read_strings("eval/paths");
    r.eval.has_calibration = f.exists("eval/calibration/temperature");
    if (r.eval.has_calibration) {
      EvalRecord& e = r.eval;
      e.temperature = f.read_double("eval/calibration/temperature");
      e.ece_before = f.read_double("eval/calibration/ece_before");
      e.ece_after = f.read_double("eval/calibration/ece_after");
      e.bin_upper = f.read_doubles("eval/calibration/bins/upper");
      e.bin_count_before = f.read_int64s("eval/calibration/bins/count_before");
      e.bin_confidence_before = f.read_doubles("eval/calibration/bins/confidence_before");
      e.bin_accuracy_before = f.read_doubles("eval/calibration/bins/accuracy_before");
      e.bin_count_after = f.read_int64s("eval/calibration/bins/count_after");
      e.bin_confidence_after = f.read_doubles("eval/calibration/bins/confidence_after");
      e.bin_accuracy_after = f.read_doubles("eval/calibration/bins/accuracy_after");
    }
    r.eval.has_open_set = f.exists("eval/open_set/method");
    if (r.eval.has_open_set) r.eval.open_set = read_open_set(f);
  }
  r.has_gradcam = f.exists("gradcam/heatmaps");
  if (r.has_gradcam) {
    auto dims = f.shape("gradcam/heatmaps");
    r.gradcam.heatmaps = f.read_floats("gradcam/heatmaps");
    r.gradcam.height = dims.size() == 3 ? static_cast<std::int64_t>(dims[1]) : 0;
    r.gradcam.width = dims.size() == 3 ? static_cast<std::int64_t>(dims[2]) : 0;
    r.gradcam.layer = f.attr_string("gradcam/heatmaps", "layer");
    if (f.has_attr("gradcam/heatmaps", "target")) {
      r.gradcam.target = f.attr_string("gradcam/heatmaps", "target");
    }
    r.gradcam.input_size = f.attr_int64("gradcam/heatmaps", "input_size");
    r.gradcam.paths = f.read_strings("gradcam/paths");
    r.gradcam.labels = f.read_int64s("gradcam/labels");
    r.gradcam.predicted = f.read_int64s("gradcam/predicted");
  }
  check_run_schema(f, path, r);
  return r;
}

std::string utc_timestamp() {
  std::time_t now = std::time(nullptr);
  std::tm tm{};
  gmtime_r(&now, &tm);
  char buf[32];
  std::strftime(buf, sizeof(buf), "%Y-%m-%dT%H:%M:%SZ", &tm);
  return buf;
}

std::string host_name() {
  char buf[256] = {0};
  if (gethostname(buf, sizeof(buf) - 1) != 0) return "unknown";
  return buf;
}

}  // namespace midge::io
