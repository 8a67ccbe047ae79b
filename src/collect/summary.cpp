// Finding and reading the runs of a collection: every run.h5 under the
// folders, a run it cannot use listed and skipped, the rest grouped by
// configuration (but the seed) and taxa; per-run counts.
#include "collect/summary.h"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <filesystem>
#include <limits>
#include <map>
#include <sstream>

#include "core/config.h"
#include "core/errors.h"
#include "core/sha256.h"
#include "core/table.h"
#include "core/text.h"
#include "data/taxonomy.h"
#include "io/atomic_file.h"
#include "io/csv.h"
#include "io/hdf5.h"
#include "io/run_file.h"
#include "stats/describe.h"

namespace midge::collect {
namespace fs = std::filesystem;

double merged_accuracy(const std::vector<std::int64_t>& confusion,
                       const std::vector<std::string>& mapping) {
  const std::size_t c = mapping.size();
  std::int64_t right = 0;
  std::int64_t total = 0;
  for (std::size_t t = 0; t < c; ++t) {
    for (std::size_t p = 0; p < c; ++p) {
      const std::int64_t n = confusion[t * c + p];
      total += n;
      if (mapping[t] == mapping[p]) right += n;
    }
  }
  return total > 0 ? static_cast<double>(right) / static_cast<double>(total) : 0;
}

std::int64_t diag(const RunSummary& r, std::size_t k) {
  return r.confusion[k * r.classes.size() + k];
}

std::int64_t support(const RunSummary& r, std::size_t k) {
  std::int64_t n = 0;
  for (std::size_t p = 0; p < r.classes.size(); ++p) n += r.confusion[k * r.classes.size() + p];
  return n;
}

namespace {

// The resolved config with run.seed removed: runs equal in this are repeats.
std::string without_seed(const std::string& config_text, long long* seed) {
  Config c = resolve_config_text(config_text, "run.h5 config", {});
  *seed = c.run.seed;
  std::string out;
  for (const auto& [k, v] : c.values) {
    if (k != "run.seed") out += k + "=" + v + "\n";
  }
  return out;
}

void describe_validation_set(const io::RunRecord& rec, RunSummary* r) {
  const io::EvalRecord& e = rec.eval;
  Sha256 names;
  for (std::size_t i = 0; i < e.paths.size(); ++i) {
    const auto label = static_cast<std::size_t>(e.labels[i]);
    names.update(e.paths[i] + "\t" + (label < rec.classes.size() ? rec.classes[label] : "?") +
                 "\n");
  }
  r->val_set = names.hex();
  r->val_content.clear();
  if (rec.val_sha256.size() == e.paths.size() && !e.paths.empty()) {
    Sha256 content;
    for (const auto& h : rec.val_sha256) content.update(h + "\n");
    r->val_content = content.hex();
  }
  r->correct.resize(e.predicted.size());
  for (std::size_t i = 0; i < e.predicted.size(); ++i)
    r->correct[i] = e.predicted[i] >= 0 && e.predicted[i] == e.labels[i];
}

}  // namespace

Collection collect_runs(const std::vector<std::string>& dirs, const std::string& taxonomy) {
  std::vector<std::string> files;
  for (const auto& d : dirs) {
    std::error_code ec;
    if (!fs::exists(d, ec)) throw UsageError("midge collect: folder not found: " + d);
    if (fs::is_regular_file(d) && fs::path(d).filename() == "run.h5") {
      files.push_back(d);
      continue;
    }
    for (const auto& e : fs::recursive_directory_iterator(d)) {
      if (e.is_regular_file() && e.path().filename() == "run.h5")
        files.push_back(e.path().string());
    }
  }
  std::sort(files.begin(), files.end());
  Collection out;
  std::map<std::string, std::size_t> group_of;
  for (const auto& f : files) {
    io::RunRecord rec;
    try {
      rec = io::read_run_file(f);
    } catch (const Error& e) {
      out.skipped.push_back(f + ": unreadable (" + std::string(e.what()) + ")");
      continue;
    }
    if (rec.status != io::RunStatus::kComplete || !rec.has_eval) {
      out.skipped.push_back(f + ": " + io::run_status_name(rec.status) +
                            (rec.error.empty() ? "" : " (" + rec.error + ")"));
      continue;
    }
    RunSummary r;
    r.path = f;
    try {
      // A configuration this midge cannot resolve (a key of a newer
      // version, a damaged text) costs only this run.
      r.group_key = without_seed(rec.config, &r.seed);
      const Config config = resolve_config_text(rec.config, f, {});
      r.taxonomy = config.data.taxonomy;
      r.folds = config.data.split_every;
      r.fold = config.data.split_offset;
      // The configuration of every fold: without its offset.
      for (const auto& line : text::split(r.group_key, '\n')) {
        if (!text::starts_with(line, "data.split_offset=")) r.cv_key += line + "\n";
      }
    } catch (const Error& e) {
      out.skipped.push_back(f + ": unreadable configuration (" + std::string(e.what()) + ")");
      continue;
    }
    const std::size_t c = rec.classes.size();
    if (c == 0 || rec.eval.confusion.size() != c * c) {
      out.skipped.push_back(f + ": unreadable (a confusion matrix of " +
                            std::to_string(rec.eval.confusion.size()) + " cells for " +
                            std::to_string(c) + " taxa)");
      continue;
    }
    r.classes = rec.classes;
    r.confusion = rec.eval.confusion;
    r.accuracy = rec.eval.accuracy;
    r.balanced_accuracy = rec.eval.balanced_accuracy;
    const double none = std::numeric_limits<double>::quiet_NaN();
    r.macro_f1 = rec.eval.macro_f1 >= 0 ? rec.eval.macro_f1 : none;
    r.top3_accuracy = rec.eval.top3_accuracy >= 0 ? rec.eval.top3_accuracy : none;
    r.specimen_accuracy = rec.eval.has_specimens ? rec.eval.specimen_accuracy : none;
    r.set_coverage_target = rec.eval.has_sets ? rec.eval.set_coverage_target : none;
    r.set_coverage = rec.eval.has_sets ? rec.eval.set_coverage : none;
    r.set_mean_size = rec.eval.has_sets ? rec.eval.set_mean_size : none;
    const bool specimen_sets = rec.eval.has_specimens && rec.eval.has_specimen_sets;
    r.specimen_set_coverage = specimen_sets ? rec.eval.specimen_set_coverage : none;
    r.specimen_set_mean_size = specimen_sets ? rec.eval.specimen_set_mean_size : none;
    r.ece_before = rec.eval.has_calibration ? rec.eval.ece_before : none;
    r.ece_after = rec.eval.has_calibration ? rec.eval.ece_after : none;
    r.accepted_share = r.accuracy_accepted = r.auroc = r.fpr_at_accept = none;
    if (rec.eval.has_open_set) {
      r.open_set = rec.eval.open_set.method;
      if (const io::OpenSetScore* s = rec.eval.open_set.selected()) {
        r.accepted_share = s->accepted_share;
        r.accuracy_accepted = s->accuracy_accepted;
        if (s->has_holdout) {
          r.auroc = s->auroc;
          r.fpr_at_accept = s->fpr_at_accept;
        }
      }
    }
    describe_validation_set(rec, &r);
    r.eval_paths = rec.eval.paths;
    r.eval_labels = rec.eval.labels;
    r.eval_predicted = rec.eval.predicted;
    if (r.taxonomy.empty()) r.taxonomy = taxonomy;
    // Repeats: the same configuration (but the seed) on the same taxa.
    const std::string key = r.group_key + "\ntaxa=" + text::join(r.classes, ",");
    auto it = group_of.find(key);
    if (it == group_of.end()) {
      group_of[key] = out.groups.size();
      Group g;
      g.key = r.group_key;
      g.classes = r.classes;
      out.groups.push_back(g);
      it = group_of.find(key);
    }
    out.groups[it->second].runs.push_back(r);
  }
  compare_with_best(&out);
  pool_folds(&out);
  // Higher taxonomic levels, from each run's confusion matrix.
  for (auto& g : out.groups) {
    const std::string& tax = g.runs.front().taxonomy;
    if (tax.empty() || !fs::exists(tax)) continue;
    data::Taxonomy t = data::read_taxonomy(tax);
    for (std::size_t level = 1; level < t.levels.size(); ++level) {
      std::vector<std::string> mapping;
      bool complete = true;
      for (const auto& c : g.classes) {
        auto row = t.rows.find(c);
        if (row == t.rows.end()) {
          complete = false;
          break;
        }
        mapping.push_back(row->second[level]);
      }
      if (!complete) continue;
      LevelAccuracy la;
      la.level = t.levels[level];
      for (const auto& r : g.runs) la.per_run.push_back(merged_accuracy(r.confusion, mapping));
      g.levels.push_back(la);
    }
  }
  return out;
}

}  // namespace midge::collect
