// The text report of a collection: per-taxon tables with Wilson
// intervals, means over repeats, calibration, open set, higher levels and
// the paired comparisons.
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

namespace {

std::string pct(double x) {
  char b[16];
  std::snprintf(b, sizeof(b), "%.1f", 100 * x);
  return b;
}

// "open set (msp): ..." for the runs of G that record it, or nothing.
std::string open_set_line(const Group& g) {
  std::vector<double> share;
  std::vector<double> acc;
  std::vector<double> auc;
  std::vector<double> fpr;
  std::string method;
  for (const auto& r : g.runs) {
    if (std::isnan(r.accepted_share)) continue;
    method = r.open_set;
    share.push_back(r.accepted_share);
    acc.push_back(r.accuracy_accepted);
    if (std::isnan(r.auroc)) continue;
    auc.push_back(r.auroc);
    fpr.push_back(r.fpr_at_accept);
  }
  if (share.empty()) return "";
  std::string line =
      text::format("open set (%s): %.1f%% of validation images accepted, accuracy on them %.2f%%",
                   method.c_str(), 100 * stats::mean(share), 100 * stats::mean(acc));
  if (!auc.empty()) {
    line += text::format(
        "; held-out taxa: AUROC %.4f (sd %.4f), %.1f%% of their images accepted "
        "(false-positive rate)",
        stats::mean(auc), stats::sample_sd(auc), 100 * stats::mean(fpr));
  }
  return line + text::format(" (%zu of %zu runs record it)\n", share.size(), g.runs.size());
}

// Mean of `field` over the runs of G that record it (not NaN); `n` gets
// how many do.
double mean_recorded(const Group& g, double RunSummary::*field, std::size_t* n) {
  std::vector<double> v;
  for (const auto& r : g.runs) {
    if (!std::isnan(r.*field)) v.push_back(r.*field);
  }
  *n = v.size();
  return v.empty() ? std::numeric_limits<double>::quiet_NaN() : stats::mean(v);
}

// Macro-F1 and top-3, specimen-level accuracy and prediction sets, for the
// runs that record them.
std::string identification_lines(const Group& g) {
  std::string out;
  const std::size_t runs = g.runs.size();
  std::size_t n = 0;
  const double f1 = mean_recorded(g, &RunSummary::macro_f1, &n);
  std::size_t n3 = 0;
  const double top3 = mean_recorded(g, &RunSummary::top3_accuracy, &n3);
  // With 3 taxa or fewer the true one is always among the top 3.
  if (n > 0 && g.classes.size() > 3) {
    out += text::format("macro-F1 %.4f, top-3 accuracy %s%% (%zu of %zu runs record them)\n", f1,
                        pct(top3).c_str(), n, runs);
  } else if (n > 0) {
    out += text::format("macro-F1 %.4f (%zu of %zu runs record it)\n", f1, n, runs);
  }
  const double spec = mean_recorded(g, &RunSummary::specimen_accuracy, &n);
  if (n > 0) {
    out += text::format(
        "specimen-level accuracy %s%% (mean log-probability of a specimen's images; %zu of %zu "
        "runs know specimens)\n",
        pct(spec).c_str(), n, runs);
  }
  const double target = mean_recorded(g, &RunSummary::set_coverage_target, &n);
  if (n > 0) {
    std::size_t unused = 0;
    out += text::format(
        "prediction sets at coverage %.3f: coverage %s%%, mean size %.2f taxa (validation, "
        "leave one out; %zu of %zu runs)\n",
        target, pct(mean_recorded(g, &RunSummary::set_coverage, &unused)).c_str(),
        mean_recorded(g, &RunSummary::set_mean_size, &unused), n, runs);
  }
  const double spec_cov = mean_recorded(g, &RunSummary::specimen_set_coverage, &n);
  if (n > 0) {
    std::size_t unused = 0;
    out += text::format(
        "specimen prediction sets: coverage %s%%, mean size %.2f taxa (validation specimens, "
        "leave one out; %zu of %zu runs)\n",
        pct(spec_cov).c_str(), mean_recorded(g, &RunSummary::specimen_set_mean_size, &unused), n,
        runs);
  }
  return out;
}

std::string paired_text(const Collection& c) {
  if (c.paired.empty() && c.paired_notes.empty()) return "";
  std::ostringstream os;
  os << "\npaired comparison with the best group on the same validation images "
        "(stats::McNemar's exact test, seed-matched runs):\n";
  for (std::size_t g = 0; g < c.groups.size(); ++g) {
    const std::string verdict = verdict_against_best(c, g);
    if (verdict.empty()) continue;
    std::size_t best = 0;
    std::vector<std::string> seeds;
    for (const auto& p : c.paired) {
      if (p.group != g) continue;
      best = p.best;
      seeds.push_back(text::format("seed %lld: %lld only the best right, %lld only this, p = %.4g",
                                   p.seed, static_cast<long long>(p.test.a_only),
                                   static_cast<long long>(p.test.b_only), p.test.p_value));
    }
    os << "  group " << g + 1 << " vs group " << best + 1 << ": " << text::join(seeds, "; ")
       << " -> "
       << (verdict == "indistinguishable" ? "indistinguishable from the best (p >= 0.05)"
           : verdict == "worse"           ? "worse than the best (p < 0.05)"
           : verdict == "better"
               ? "better than the best on these seeds (p < 0.05; the best ranks higher by its "
                 "mean over all its seeds)"
               : "mixed over seeds")
       << "\n";
  }
  for (const auto& n : c.paired_notes) os << "  " << n << "\n";
  return os.str();
}

}  // namespace

std::string format_tables(const Collection& c) {
  std::ostringstream os;
  for (const auto& s : c.skipped) os << "skipped " << s << "\n";
  for (std::size_t gi = 0; gi < c.groups.size(); ++gi) {
    const Group& g = c.groups[gi];
    os << "\ngroup " << gi + 1 << ": " << g.runs.size() << " run(s) (seeds";
    for (const auto& r : g.runs) os << " " << r.seed;
    os << ")\n";
    for (std::size_t i = 0; i < g.runs.size(); ++i)
      os << "  run " << i + 1 << ": " << g.runs[i].path << "\n";
    std::vector<TextTable::Column> columns = {{"taxon"}, {"support"}};
    for (std::size_t i = 0; i < g.runs.size(); ++i)
      columns.push_back({"run " + std::to_string(i + 1) + " % [95% CI]"});
    columns.push_back({"mean %"});
    columns.push_back({"sd", 5});
    TextTable table(columns);
    for (std::size_t k = 0; k < g.classes.size(); ++k) {
      std::vector<std::string> cells = {g.classes[k], std::to_string(support(g.runs.front(), k))};
      std::vector<double> accs;
      for (const auto& r : g.runs) {
        const std::int64_t n = support(r, k);
        const double a = n > 0 ? static_cast<double>(diag(r, k)) / static_cast<double>(n) : 0;
        accs.push_back(a);
        const stats::Interval ci = stats::wilson(diag(r, k), n);
        cells.push_back(pct(a) + " [" + pct(ci.low) + ", " + pct(ci.high) + "]");
      }
      cells.push_back(pct(stats::mean(accs)));
      cells.push_back(pct(stats::sample_sd(accs)));
      table.add_row(cells);
    }
    os << table.str();
    std::vector<double> acc;
    std::vector<double> bal;
    for (const auto& r : g.runs) {
      acc.push_back(r.accuracy);
      bal.push_back(r.balanced_accuracy);
    }
    os << "accuracy " << pct(stats::mean(acc)) << "% (sd " << pct(stats::sample_sd(acc))
       << "), balanced accuracy " << pct(stats::mean(bal)) << "% (sd " << pct(stats::sample_sd(bal))
       << ")\n";
    os << identification_lines(g);
    for (const auto& l : g.levels) {
      os << "accuracy at " << l.level << " level " << pct(stats::mean(l.per_run)) << "% (sd "
         << pct(stats::sample_sd(l.per_run)) << ")\n";
    }
    std::vector<double> before;
    std::vector<double> after;
    for (const auto& r : g.runs) {
      if (std::isnan(r.ece_before)) continue;
      before.push_back(r.ece_before);
      after.push_back(r.ece_after);
    }
    if (!before.empty()) {
      char line[200];
      std::snprintf(line, sizeof(line),
                    "expected calibration error %.4f (sd %.4f), %.4f after temperature scaling "
                    "(%zu of %zu runs record it)\n",
                    stats::mean(before), stats::sample_sd(before), stats::mean(after),
                    before.size(), g.runs.size());
      os << line;
    }
    os << open_set_line(g);
  }
  os << paired_text(c);
  os << cross_validation_text(c);
  return os.str();
}

}  // namespace midge::collect
