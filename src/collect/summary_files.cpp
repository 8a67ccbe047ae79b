// summary.csv and summary.h5 of a collection (docs/results-schema.md).
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

void write_summary_csv(const Collection& c, const std::string& path) {
  std::string t = io::csv_line(
      {"group", "run", "seed", "taxon", "support", "correct", "accuracy", "ci_low", "ci_high"});
  for (std::size_t gi = 0; gi < c.groups.size(); ++gi) {
    const Group& g = c.groups[gi];
    for (const auto& r : g.runs) {
      for (std::size_t k = 0; k < g.classes.size(); ++k) {
        const std::int64_t n = support(r, k);
        const stats::Interval ci = stats::wilson(diag(r, k), n);
        char a[3][32];
        std::snprintf(a[0], 32, "%.6f",
                      n > 0 ? static_cast<double>(diag(r, k)) / static_cast<double>(n) : 0.0);
        std::snprintf(a[1], 32, "%.6f", ci.low);
        std::snprintf(a[2], 32, "%.6f", ci.high);
        t += io::csv_line({std::to_string(gi + 1), r.path, std::to_string(r.seed), g.classes[k],
                           std::to_string(n), std::to_string(diag(r, k)), a[0], a[1], a[2]});
      }
    }
  }
  io::write_file_atomic(path, t);
}

void write_summary_h5(const Collection& c, const std::string& path,
                      const std::function<void(io::H5Node&)>& extra) {
  io::H5Writer f(path);
  f.set_attr("", "schema_version", std::int64_t{1});
  std::vector<std::string> skipped = c.skipped;
  f.write("skipped", skipped);
  for (std::size_t gi = 0; gi < c.groups.size(); ++gi) {
    const Group& g = c.groups[gi];
    const std::string base = "groups/" + std::to_string(gi + 1);
    const auto cn = static_cast<std::uint64_t>(g.classes.size());
    const auto rn = static_cast<std::uint64_t>(g.runs.size());
    f.write(base + "/classes", g.classes);
    std::vector<std::string> paths;
    std::vector<std::int64_t> seeds;
    std::vector<double> acc;
    std::vector<double> bal;
    std::vector<double> per_class;
    std::vector<double> low;
    std::vector<double> high;
    std::vector<std::int64_t> supports;
    std::vector<std::int64_t> confusion;
    std::vector<double> ece_before;
    std::vector<double> ece_after;
    std::vector<double> accepted_share;
    std::vector<double> accuracy_accepted;
    std::vector<double> auroc;
    std::vector<double> fpr;
    for (const auto& r : g.runs) {
      accepted_share.push_back(r.accepted_share);
      accuracy_accepted.push_back(r.accuracy_accepted);
      auroc.push_back(r.auroc);
      fpr.push_back(r.fpr_at_accept);
      paths.push_back(r.path);
      seeds.push_back(r.seed);
      acc.push_back(r.accuracy);
      bal.push_back(r.balanced_accuracy);
      ece_before.push_back(r.ece_before);
      ece_after.push_back(r.ece_after);
      confusion.insert(confusion.end(), r.confusion.begin(), r.confusion.end());
      for (std::size_t k = 0; k < g.classes.size(); ++k) {
        const std::int64_t n = support(r, k);
        per_class.push_back(n > 0 ? static_cast<double>(diag(r, k)) / static_cast<double>(n) : 0);
        const stats::Interval ci = stats::wilson(diag(r, k), n);
        low.push_back(ci.low);
        high.push_back(ci.high);
        supports.push_back(n);
      }
    }
    f.write(base + "/runs", paths);
    f.write(base + "/seeds", seeds);
    f.write(base + "/accuracy", acc);
    f.write(base + "/balanced_accuracy", bal);
    f.write(base + "/ece_before", ece_before);  // NaN: not recorded by that run
    f.write(base + "/ece_after", ece_after);
    f.write(base + "/open_set/accepted_share", accepted_share);  // NaN: not recorded
    f.write(base + "/open_set/accuracy_accepted", accuracy_accepted);
    f.write(base + "/open_set/auroc", auroc);  // NaN also without held-out taxa
    f.write(base + "/open_set/fpr_at_accept", fpr);
    f.write(base + "/per_class_accuracy", per_class, {rn, cn});
    f.write(base + "/ci_low", low, {rn, cn});
    f.write(base + "/ci_high", high, {rn, cn});
    f.write(base + "/support", supports, {rn, cn});
    f.write(base + "/confusion", confusion, {rn, cn, cn});
    f.set_attr(base, "config", g.key);
    f.set_attr(base, "validation_set", g.runs.front().val_set);
    std::string content;
    f.set_attr(base, "validation_content", group_content(g, &content) ? content : std::string());
    f.set_attr(base, "versus_best", verdict_against_best(c, gi));
    for (const auto& l : g.levels) f.write(base + "/level_accuracy/" + l.level, l.per_run);
  }
  if (!c.paired.empty()) {
    std::vector<std::int64_t> group;
    std::vector<std::int64_t> best;
    std::vector<std::int64_t> seed;
    std::vector<std::int64_t> best_only;
    std::vector<std::int64_t> group_only;
    std::vector<double> p;
    for (const auto& x : c.paired) {
      group.push_back(static_cast<std::int64_t>(x.group + 1));
      best.push_back(static_cast<std::int64_t>(x.best + 1));
      seed.push_back(x.seed);
      best_only.push_back(x.test.a_only);
      group_only.push_back(x.test.b_only);
      p.push_back(x.test.p_value);
    }
    f.write("paired/group", group);
    f.write("paired/best", best);
    f.write("paired/seed", seed);
    f.write("paired/best_only", best_only);
    f.write("paired/group_only", group_only);
    f.write("paired/p_value", p);
  }
  std::vector<std::string> notes = c.paired_notes;
  f.write("paired_notes", notes);
  if (extra) extra(f);
  f.commit();
}

}  // namespace midge::collect
