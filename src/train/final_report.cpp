#include "train/final_report.h"

#include <torch/torch.h>

#include <cmath>
#include <cstdio>
#include <limits>
#include <optional>

#include "core/fault.h"
#include "core/log.h"
#include "core/text.h"
#include "explain/gradcam.h"
#include "model/weights.h"
#include "stats/calibration.h"
#include "stats/conformal.h"
#include "stats/fusion.h"
#include "stats/metrics.h"
#include "stats/open_set.h"
#include "train/evaluation.h"
#include "train/forward.h"
#include "train/progress.h"

namespace midge::train {
namespace {

class FinalReport {
 public:
  FinalReport(Session& s, Recorder& r, Checkpointer& c, RunProgress& p, TrainOutcome* out)
      : s_(s), r_(r), c_(c), p_(p), out_(out) {}
  // False when a stop was agreed during it.
  bool run();

 private:
  // Temperature and calibration error of the final evaluation (into E).
  void calibrate(const EvalResult& r, io::EvalRecord* e) const;
  // Per-specimen identification of the validation images (into E), from
  // the probabilities of every rank's images (stats/fusion.h).
  void fuse_specimens(io::EvalRecord* e) const;
  // The specimen of each validation image; an image without one (a blank
  // manifest cell) is its own.
  std::vector<std::string> validation_specimens() const;
  // Conformal prediction sets at predict.coverage (into E), on the
  // probabilities calibrated by E's temperature, as `midge predict`
  // reports them.
  void conformal_sets(const std::vector<float>& calibrated, io::EvalRecord* e) const;
  // The same for specimens (into E): calibrated on the validation
  // specimens' fused probabilities, as `midge predict --specimen-pattern`
  // fuses a specimen's images. A fused probability is sharper than an
  // image's (agreeing images multiply), so the image threshold would not
  // hold its coverage for specimens: they get their own.
  void specimen_sets(const std::vector<float>& calibrated, io::EvalRecord* e) const;
  // Open-set scores and threshold of the final evaluation, and their
  // separation of held-out taxa (into E). A collective with held-out taxa.
  // False when a stop was agreed during it.
  bool evaluate_open_set(const EvalResult& r, io::EvalRecord* e);
  void explain_validation(const std::vector<std::int64_t>& predicted);
  // A stop during the report: state.h5 after the last stage, so that the
  // rerun makes the report again.
  bool interrupted(const std::string& during) {
    c_.save({3, 0, 0}, nullptr, SaveWhen::kAlways);
    mark_interrupted(s_, r_, p_, "training, during " + during, "final report");
    return false;
  }

  Session& s_;
  Recorder& r_;
  Checkpointer& c_;
  RunProgress& p_;
  TrainOutcome* out_;
};

void FinalReport::fuse_specimens(io::EvalRecord* e) const {
  // An image without a specimen (a blank manifest cell) is its own.
  const stats::SpecimenFusion f = stats::fuse_specimens(validation_specimens(), e->labels,
                                                        e->predicted, e->probabilities, s_.classes);
  const stats::Metrics m = stats::compute_metrics(f.confusion, s_.classes);
  e->has_specimens = true;
  e->specimen_names = f.names;
  e->specimen_labels = f.labels;
  e->specimen_predicted = f.predicted;
  e->specimen_images = f.images;
  e->specimen_log_probabilities = f.log_probabilities;
  e->specimen_confusion = f.confusion;
  e->specimen_per_class_accuracy = m.recall;
  e->specimen_accuracy = m.accuracy;
  e->specimen_balanced_accuracy = m.balanced_accuracy;
  e->specimen_macro_f1 = m.macro_f1;
}

std::vector<std::string> FinalReport::validation_specimens() const {
  std::vector<std::string> specimens = r_.record().val_specimens;
  for (std::size_t i = 0; i < specimens.size(); ++i) {
    if (specimens[i].empty()) specimens[i] = r_.record().val_paths[i];
  }
  return specimens;
}

// The LAC threshold of `p` (rows x classes) at 1 - alpha and each row's
// set from the others' threshold (stats/conformal.h); nullopt with fewer
// than two rows, which leaving one out needs.
struct SetFigures {
  double threshold = 0;
  stats::ConformalSummary loo;
};
std::optional<SetFigures> set_figures(const std::vector<float>& p,
                                      const std::vector<std::int64_t>& labels,
                                      const std::vector<std::int64_t>& predicted, int classes,
                                      double alpha) {
  const std::vector<double> scores = stats::lac_scores(p, labels, predicted, classes);
  if (scores.size() < 2) return std::nullopt;
  return SetFigures{stats::conformal_threshold(scores, alpha),
                    stats::leave_one_out(p, labels, predicted, classes, alpha)};
}

void FinalReport::specimen_sets(const std::vector<float>& calibrated, io::EvalRecord* e) const {
  if (!e->has_sets || !e->has_specimens) return;
  const stats::SpecimenFusion f = stats::fuse_specimens(validation_specimens(), e->labels,
                                                        e->predicted, calibrated, s_.classes);
  const std::optional<SetFigures> sets =
      set_figures(stats::fused_probabilities(f, s_.classes), f.labels, f.predicted, s_.classes,
                  1 - e->set_coverage_target);
  if (!sets) return;
  e->has_specimen_sets = true;
  e->specimen_set_threshold = sets->threshold;
  e->specimen_set_coverage = sets->loo.coverage;
  e->specimen_set_mean_size = sets->loo.mean_size;
  e->specimen_set_coverage_per_taxon = sets->loo.coverage_per_taxon;
  e->specimen_set_mean_size_per_taxon = sets->loo.mean_size_per_taxon;
}

void FinalReport::conformal_sets(const std::vector<float>& calibrated, io::EvalRecord* e) const {
  const double coverage = s_.config.predict.coverage;
  if (coverage <= 0) return;
  const std::optional<SetFigures> sets =
      set_figures(calibrated, e->labels, e->predicted, s_.classes, 1 - coverage);
  if (!sets) return;
  e->has_sets = true;
  e->set_coverage_target = coverage;
  e->set_threshold = sets->threshold;
  e->set_coverage = sets->loo.coverage;
  e->set_mean_size = sets->loo.mean_size;
  e->set_coverage_per_taxon = sets->loo.coverage_per_taxon;
  e->set_mean_size_per_taxon = sets->loo.mean_size_per_taxon;
}

void FinalReport::calibrate(const EvalResult& r, io::EvalRecord* e) const {
  // The images that were read (an unreadable one has predicted = -1).
  const auto c = static_cast<std::size_t>(s_.classes);
  std::vector<float> z;
  std::vector<std::int64_t> y;
  for (std::size_t i = 0; i < r.predicted.size(); ++i) {
    if (r.predicted[i] < 0) continue;
    z.insert(z.end(), r.logits.begin() + static_cast<long>(i * c),
             r.logits.begin() + static_cast<long>((i + 1) * c));
    y.push_back(r_.record().val_labels[i]);
  }
  if (y.empty()) return;
  e->has_calibration = true;
  e->temperature = stats::fit_temperature(z, y, s_.classes);
  const stats::ReliabilityTable before =
      stats::reliability(stats::softmax_at(z, s_.classes, 1.0), y, s_.classes);
  const stats::ReliabilityTable after =
      stats::reliability(stats::softmax_at(z, s_.classes, e->temperature), y, s_.classes);
  e->ece_before = before.ece;
  e->ece_after = after.ece;
  e->bin_upper = before.upper;
  e->bin_count_before = before.count;
  e->bin_confidence_before = before.confidence;
  e->bin_accuracy_before = before.accuracy;
  e->bin_count_after = after.count;
  e->bin_confidence_after = after.confidence;
  e->bin_accuracy_after = after.accuracy;
  if (s_.rank0()) {
    char line[160];
    std::snprintf(line, sizeof(line),
                  "calibration: temperature %.3f; expected calibration error %.4f -> %.4f",
                  e->temperature, e->ece_before, e->ece_after);
    log::info(line);
    if (stats::all_right(z, y, s_.classes)) {
      log::info(
          "calibration: every validation image is right (or tied at the top), so the likelihood "
          "has no best temperature (it grows as T falls to 0); T stays 1");
    }
  }
}

bool FinalReport::evaluate_open_set(const EvalResult& r, io::EvalRecord* e) {
  const double nan = std::numeric_limits<double>::quiet_NaN();
  // Logits of the held-out taxa's images, through the validation path (the
  // label is a placeholder: none of the trained taxa is right).
  // An unreadable held-out image costs only its row (NaN), never the run:
  // no bad-image limit, and it is listed in /data/skipped (train/recorder.h).
  EvalResult h;
  if (!s_.split.holdout.empty()) {
    std::vector<data::Sample> samples = s_.split.holdout;
    for (auto& s : samples) s.label = 0;
    data::LoaderOptions o = s_.loader_options(false, s_.eval_batch());
    o.max_bad_fraction = 1.0;
    s_.holdout_loader = std::make_unique<data::Loader>(samples, s_.classes, o);
    EvalOptions eo;
    eo.where = "the evaluation of the held-out taxa";
    eo.collect = true;
    eo.average_batchnorm = false;
    h = evaluate(s_.net, *s_.holdout_loader, s_.device, s_.amp, s_.agree, s_.classes,
                 samples.size(), eo);
    if (h.stopped) return false;
    for (std::size_t i = 0; i < h.predicted.size(); ++i)
      if (h.predicted[i] < 0) s_.holdout_unread.push_back(samples[i].path);
  }
  // Scores of the images that were read; NaN in the per-image rows for the rest.
  auto score_rows = [&](const EvalResult& x, const std::string& method, std::vector<double>* read) {
    std::vector<double> rows = stats::open_set_scores(x.logits, s_.classes, method, e->temperature);
    for (std::size_t i = 0; i < rows.size(); ++i) {
      if (x.predicted[i] < 0) {
        rows[i] = nan;
      } else {
        read->push_back(rows[i]);
      }
    }
    return rows;
  };
  io::OpenSetRecord& o = e->open_set;
  o.method = s_.config.predict.open_set;
  o.accept_rate = s_.config.predict.accept_rate;
  for (const std::string method : {"msp", "energy"}) {
    io::OpenSetScore s;
    s.method = method;
    std::vector<double> known;
    s.known = score_rows(r, method, &known);
    if (known.empty()) return true;  // nothing was read: no threshold to choose
    s.threshold = stats::acceptance_threshold(known, o.accept_rate);
    s.accepted_share = stats::share_accepted(known, s.threshold);
    std::int64_t accepted = 0;
    std::int64_t right = 0;
    for (std::size_t i = 0; i < s.known.size(); ++i) {
      if (!(s.known[i] >= s.threshold)) continue;  // also skips NaN
      ++accepted;
      right += r.predicted[i] == r_.record().val_labels[i] ? 1 : 0;
    }
    s.accuracy_accepted =
        accepted > 0 ? static_cast<double>(right) / static_cast<double>(accepted) : nan;
    if (!s_.split.holdout.empty()) {
      std::vector<double> unknown;
      s.holdout = score_rows(h, method, &unknown);
      s.has_holdout = !unknown.empty();
      s.auroc = stats::auroc(known, unknown);
      s.fpr_at_accept = stats::share_accepted(unknown, s.threshold);
    }
    o.scores.push_back(std::move(s));
  }
  e->has_open_set = true;
  if (!s_.rank0()) return true;
  for (const auto& s : o.scores) {
    // The msp threshold is a log-odds; its probability reads more easily.
    const std::string threshold = s.method == "msp"
                                      ? text::format("top probability %.4f (log-odds %.4g)",
                                                     1 / (1 + std::exp(-s.threshold)), s.threshold)
                                      : text::format("%.4g", s.threshold);
    std::string line = text::format(
        "open set (%s%s): threshold %s accepts %.1f%% of the validation images (target "
        "%.1f%%), accuracy on them %.4f",
        s.method.c_str(), s.method == o.method ? ", predict.open_set" : "", threshold.c_str(),
        100 * s.accepted_share, 100 * o.accept_rate, s.accuracy_accepted);
    if (s.has_holdout) {
      line += text::format("; held-out taxa: AUROC %.4f, %.1f%% of their images accepted", s.auroc,
                           100 * s.fpr_at_accept);
    }
    log::info(line);
  }
  return true;
}

bool FinalReport::run() {
  EvalOptions eo;
  eo.where = "the final evaluation";
  eo.collect = true;
  eo.max_bad_fraction = s_.config.data.max_bad_fraction;
  eo.fault_site = "final_eval";
  eo.stop_site = "stop_final_eval";
  EvalResult r = evaluate(s_.net, *s_.eval_loader, s_.device, s_.amp, s_.agree, s_.classes,
                          s_.split.val.size(), eo);
  if (r.stopped) return interrupted("the final evaluation");
  const stats::Metrics m = stats::compute_metrics(r.confusion, s_.classes);
  r_.record().has_eval = true;
  io::EvalRecord& e = r_.record().eval;
  e.confusion = m.confusion;
  e.per_class_accuracy = m.recall;
  e.precision = m.precision;
  e.f1 = m.f1;
  e.support = m.support;
  e.accuracy = m.accuracy;
  e.balanced_accuracy = m.balanced_accuracy;
  e.macro_f1 = m.macro_f1;
  e.loss = r.mean_loss();
  e.labels = r_.record().val_labels;
  e.predicted = r.predicted;
  e.probabilities = r.probabilities;
  e.paths = r_.record().val_paths;
  e.top3_accuracy = stats::top_k_accuracy(e.probabilities, e.labels, e.predicted, s_.classes, 3);
  if (!r_.record().val_specimens.empty()) fuse_specimens(&e);
  calibrate(r, &e);
  // Sets are built on the calibrated probabilities, as `midge predict`
  // reports them.
  const std::vector<float> calibrated = stats::softmax_at(r.logits, s_.classes, e.temperature);
  conformal_sets(calibrated, &e);
  specimen_sets(calibrated, &e);
  if (!evaluate_open_set(r, &e)) return interrupted("the open-set evaluation");
  out_->table = per_taxon_table(m, s_.split.classes, r.count);
  // With 3 taxa or fewer the true one is always among the top 3.
  out_->table += s_.classes > 3 ? text::format("macro-F1 %.4f, top-3 accuracy %.4f\n", e.macro_f1,
                                               e.top3_accuracy)
                                : text::format("macro-F1 %.4f\n", e.macro_f1);
  if (e.has_sets) {
    const std::string threshold =
        std::isinf(e.set_threshold)
            ? std::string("every taxon (too few validation images for this coverage)")
            : text::format("taxa with probability >= %.4f", 1 - e.set_threshold);
    out_->table += text::format(
        "prediction sets (predict.coverage %.3f): %s; on validation (leave one out) coverage "
        "%.4f, mean size %.2f taxa\n",
        e.set_coverage_target, threshold.c_str(), e.set_coverage, e.set_mean_size);
  }
  if (e.has_specimens) {
    out_->table += text::format(
        "specimens: accuracy %.4f, balanced accuracy %.4f, macro-F1 %.4f (%zu validation "
        "specimens, mean log-probability of their images)\n",
        e.specimen_accuracy, e.specimen_balanced_accuracy, e.specimen_macro_f1,
        e.specimen_names.size());
  }
  if (e.has_specimen_sets) {
    const std::string threshold =
        std::isinf(e.specimen_set_threshold)
            ? std::string("every taxon (too few validation specimens for this coverage)")
            : text::format("taxa with fused probability >= %.4f", 1 - e.specimen_set_threshold);
    out_->table += text::format(
        "specimen prediction sets: %s; on validation specimens (leave one out) coverage %.4f, "
        "mean size %.2f taxa\n",
        threshold.c_str(), e.specimen_set_coverage, e.specimen_set_mean_size);
  }
  out_->accuracy = m.accuracy;
  out_->balanced_accuracy = m.balanced_accuracy;
  distributed::Verdict v = s_.rank0_phase("writing " + s_.path("model.h5"), [&] {
    if (fault::fault_here("model_write")) {
      throw IoError("cannot write " + s_.path("model.h5") + ": " +
                    fault::fault_message("model_write"));
    }
    model::ModelMeta meta;
    meta.arch = s_.config.model.arch;
    meta.classes = s_.split.classes;
    meta.preprocessing = preprocessing_of(s_.config.data);
    meta.dropout = s_.config.model.dropout;
    meta.temperature = e.temperature;  // 1 when nothing could be calibrated
    if (e.has_sets) {
      meta.coverage = e.set_coverage_target;
      meta.set_threshold = e.set_threshold;
    }
    if (e.has_specimen_sets) meta.specimen_set_threshold = e.specimen_set_threshold;
    if (const io::OpenSetScore* chosen = e.open_set.selected()) {
      meta.open_set = chosen->method;
      meta.open_set_threshold = chosen->threshold;
      meta.accept_rate = e.open_set.accept_rate;
    }
    model::save_model_h5(s_.net, meta, s_.path("model.h5"));
  });
  if (v.stop) return interrupted("writing model.h5");
  v = s_.rank0_phase("Grad-CAM", [&] { explain_validation(r.predicted); });
  if (v.stop) return interrupted("Grad-CAM");
  const PeakMemory peak = peak_memory(s_.device, s_.world);
  r_.record().peak_rss_bytes = peak.host_rss;
  r_.record().peak_cuda_bytes = peak.device_allocated;
  if (s_.rank0()) {
    log::info("peak memory of the run (largest rank): " + bytes_text(peak.host_rss) + " host" +
              (peak.device_allocated > 0 ? ", " + bytes_text(peak.device_allocated) + " GPU" : ""));
  }
  r_.record().finished = io::utc_timestamp();
  r_.write(io::RunStatus::kComplete);
  return true;
}

// Grad-CAM heatmaps of up to gradcam.max_images validation images, chosen
// across taxa with the misclassified first (explain::choose_images_to_explain),
// for the predicted taxon or, with gradcam.target = true, the true one.
// Rank 0 computes them, in chunks of the training batch per rank, while the
// other ranks wait at the next agreement (finish).
void FinalReport::explain_validation(const std::vector<std::int64_t>& predicted) {
  const auto budget =
      static_cast<std::size_t>(std::max<long long>(0, s_.config.gradcam.max_images));
  if (budget == 0 || !s_.rank0()) return;
  std::vector<int> labels;
  for (const auto& s : s_.split.val) labels.push_back(s.label);
  const std::vector<std::size_t> chosen =
      explain::choose_images_to_explain(labels, predicted, s_.classes, budget);
  std::vector<data::Sample> samples;
  for (std::size_t i : chosen) samples.push_back(s_.split.val[i]);
  data::LoaderOptions o = s_.loader_options(false, s_.eval_batch());
  o.rank = 0;  // rank 0 alone explains
  o.world = 1;
  o.max_bad_fraction = 1.0;  // already enforced by the evaluation
  data::Loader loader(samples, s_.classes, o);
  io::GradcamRecord& g = r_.record().gradcam;
  g = io::GradcamRecord{};
  g.layer = s_.config.gradcam.layer;
  g.target = s_.config.gradcam.target == "true" ? "true" : "predicted";
  g.input_size = s_.config.data.image_size;
  g.height = g.width = s_.config.data.image_size;
  loader.start_epoch(0);
  data::Batch b;
  // A stop request ends it at once: the run is then interrupted (finish).
  while (!stop_requested() && loader.next(&b)) {
    fault::stop_here("stop_gradcam");
    if (b.size == 0) continue;
    std::vector<std::int64_t> targets;
    if (s_.config.gradcam.target == "true") targets = b.labels;
    explain::GradcamResult r =
        explain::gradcam(s_.net, batch_input(b, s_.device), s_.config.gradcam.layer, targets);
    torch::Tensor maps = r.heatmaps.to(torch::kCPU).contiguous();
    g.heatmaps.insert(g.heatmaps.end(), maps.data_ptr<float>(),
                      maps.data_ptr<float>() + maps.numel());
    for (int i = 0; i < b.size; ++i) {
      const auto sample = static_cast<std::size_t>(b.samples[static_cast<std::size_t>(i)]);
      g.paths.push_back(samples[sample].path);
      g.labels.push_back(samples[sample].label);
      g.predicted.push_back(r.predicted[i].item<std::int64_t>());
    }
  }
  r_.record().has_gradcam = !g.paths.empty();
  log::info(text::format("Grad-CAM of %zu validation images (%s taxon) in chunks of %d",
                         g.paths.size(), s_.config.gradcam.target == "true" ? "true" : "predicted",
                         s_.eval_batch()));
}

}  // namespace

bool write_final_report(Session& s, Recorder& r, Checkpointer& c, RunProgress& p,
                        TrainOutcome* outcome) {
  return FinalReport(s, r, c, p, outcome).run();
}

}  // namespace midge::train
