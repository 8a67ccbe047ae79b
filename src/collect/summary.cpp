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

namespace midge::collect {
namespace fs = std::filesystem;

Interval wilson(std::int64_t k, std::int64_t n, double z) {
  if (n <= 0) return {0, 1};
  const double nn = static_cast<double>(n);
  const double p = static_cast<double>(k) / nn;
  const double z2 = z * z;
  const double denom = 1 + z2 / nn;
  const double centre = (p + z2 / (2 * nn)) / denom;
  const double half = z * std::sqrt(p * (1 - p) / nn + z2 / (4 * nn * nn)) / denom;
  return {std::max(0.0, centre - half), std::min(1.0, centre + half)};
}

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

std::int64_t diag(const RunSummary& r, std::size_t k) {
  return r.confusion[k * r.classes.size() + k];
}

std::int64_t support(const RunSummary& r, std::size_t k) {
  std::int64_t n = 0;
  for (std::size_t p = 0; p < r.classes.size(); ++p) n += r.confusion[k * r.classes.size() + p];
  return n;
}

double mean_of(const std::vector<double>& v) {
  double s = 0;
  for (double x : v) s += x;
  return v.empty() ? 0 : s / static_cast<double>(v.size());
}

double sd_of(const std::vector<double>& v) {
  if (v.size() < 2) return 0;
  const double m = mean_of(v);
  double s = 0;
  for (double x : v) s += (x - m) * (x - m);
  return std::sqrt(s / static_cast<double>(v.size() - 1));
}

std::string pct(double x) {
  char b[16];
  std::snprintf(b, sizeof(b), "%.1f", 100 * x);
  return b;
}

}  // namespace

namespace {

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

// The content key of a group's runs: the one all its hashed runs share
// ("" when none is hashed); false when they disagree or name other images.
bool group_content(const Group& g, std::string* content) {
  content->clear();
  for (const auto& r : g.runs) {
    if (r.val_set != g.runs.front().val_set) return false;
    if (r.val_content.empty()) continue;
    if (!content->empty() && *content != r.val_content) return false;
    *content = r.val_content;
  }
  return true;
}

double group_mean(const Group& g, double RunSummary::*field) {
  double s = 0;
  for (const auto& r : g.runs) s += r.*field;
  return g.runs.empty() ? 0 : s / static_cast<double>(g.runs.size());
}

// Collection::paired: each validation set's groups against its best.
void compare_with_best(Collection* c) {
  // Groups on the same paths and taxa and, where recorded, the same image
  // contents. A group of older runs without hashes joins the one set with
  // its paths when there is exactly one, and stays apart when contents
  // tell several apart (it cannot be placed).
  std::map<std::string, std::map<std::string, std::vector<std::size_t>>> by_names;
  for (std::size_t g = 0; g < c->groups.size(); ++g) {
    std::string content;
    if (!group_content(c->groups[g], &content)) {
      c->paired_notes.push_back("group " + std::to_string(g + 1) +
                                ": its runs were validated on different images; not compared");
      continue;
    }
    by_names[c->groups[g].runs.front().val_set][content].push_back(g);
  }
  std::map<std::string, std::vector<std::size_t>> by_set;
  for (auto& [names, by_content] : by_names) {
    auto unhashed = by_content.find("");
    if (unhashed != by_content.end() && by_content.size() == 2) {
      auto& other = by_content.begin()->first.empty() ? std::next(by_content.begin())->second
                                                      : by_content.begin()->second;
      other.insert(other.end(), unhashed->second.begin(), unhashed->second.end());
      std::sort(other.begin(), other.end());
      by_content.erase(unhashed);
    }
    for (auto& [content, groups] : by_content) by_set[names + content] = groups;
  }
  for (const auto& [set, groups] : by_set) {
    if (groups.size() < 2) continue;
    std::size_t best = groups.front();
    for (std::size_t g : groups) {
      const double a = group_mean(c->groups[g], &RunSummary::accuracy);
      const double b = group_mean(c->groups[best], &RunSummary::accuracy);
      if (a > b || (a == b && group_mean(c->groups[g], &RunSummary::balanced_accuracy) >
                                  group_mean(c->groups[best], &RunSummary::balanced_accuracy))) {
        best = g;
      }
    }
    for (std::size_t g : groups) {
      if (g == best) continue;
      std::size_t matched = 0;
      for (const auto& r : c->groups[g].runs) {
        for (const auto& top : c->groups[best].runs) {
          if (top.seed != r.seed) continue;
          c->paired.push_back({g, best, r.seed, mcnemar(top.correct, r.correct)});
          ++matched;
          break;
        }
      }
      if (matched == 0) {
        c->paired_notes.push_back("group " + std::to_string(g + 1) + " and the best, group " +
                                  std::to_string(best + 1) +
                                  ", have no seed in common; not compared");
      }
    }
  }
  if (by_set.size() > 1) {
    c->paired_notes.push_back(std::to_string(by_set.size()) +
                              " different validation sets: only groups on the same images are "
                              "compared");
  }
}

}  // namespace

std::string verdict_against_best(const Collection& c, std::size_t group, double alpha) {
  std::size_t worse = 0;
  std::size_t better = 0;
  std::size_t n = 0;
  for (const auto& p : c.paired) {
    if (p.group != group) continue;
    ++n;
    if (p.test.p_value >= alpha) continue;
    // Significant either way: the best group is best by its mean over all
    // its seeds, so on one seed the other may win.
    if (p.test.a_only > p.test.b_only) ++worse;
    if (p.test.b_only > p.test.a_only) ++better;
  }
  if (n == 0) return "";
  if (worse == 0 && better == 0) return "indistinguishable";
  if (worse == n) return "worse";
  if (better == n) return "better";
  return "mixed";
}

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
    if (rec.status != "complete" || !rec.has_eval) {
      out.skipped.push_back(f + ": " + rec.status +
                            (rec.error.empty() ? "" : " (" + rec.error + ")"));
      continue;
    }
    RunSummary r;
    r.path = f;
    r.group_key = without_seed(rec.config, &r.seed);
    r.classes = rec.classes;
    r.confusion = rec.eval.confusion;
    r.accuracy = rec.eval.accuracy;
    r.balanced_accuracy = rec.eval.balanced_accuracy;
    const double none = std::numeric_limits<double>::quiet_NaN();
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
    r.taxonomy = resolve_config_text(rec.config, f, {}).data.taxonomy;
    if (r.taxonomy.empty()) r.taxonomy = taxonomy;
    auto it = group_of.find(r.group_key);
    if (it == group_of.end()) {
      group_of[r.group_key] = out.groups.size();
      Group g;
      g.key = r.group_key;
      g.classes = r.classes;
      out.groups.push_back(g);
      it = group_of.find(r.group_key);
    }
    out.groups[it->second].runs.push_back(r);
  }
  compare_with_best(&out);
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

namespace {

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
                   method.c_str(), 100 * mean_of(share), 100 * mean_of(acc));
  if (!auc.empty()) {
    line += text::format(
        "; held-out taxa: AUROC %.4f (sd %.4f), %.1f%% of their images accepted "
        "(false-positive rate)",
        mean_of(auc), sd_of(auc), 100 * mean_of(fpr));
  }
  return line + text::format(" (%zu of %zu runs record it)\n", share.size(), g.runs.size());
}

}  // namespace

namespace {

std::string paired_text(const Collection& c) {
  if (c.paired.empty() && c.paired_notes.empty()) return "";
  std::ostringstream os;
  os << "\npaired comparison with the best group on the same validation images "
        "(McNemar's exact test, seed-matched runs):\n";
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
        const Interval ci = wilson(diag(r, k), n);
        cells.push_back(pct(a) + " [" + pct(ci.low) + ", " + pct(ci.high) + "]");
      }
      cells.push_back(pct(mean_of(accs)));
      cells.push_back(pct(sd_of(accs)));
      table.add_row(cells);
    }
    os << table.str();
    std::vector<double> acc;
    std::vector<double> bal;
    for (const auto& r : g.runs) {
      acc.push_back(r.accuracy);
      bal.push_back(r.balanced_accuracy);
    }
    os << "accuracy " << pct(mean_of(acc)) << "% (sd " << pct(sd_of(acc)) << "), balanced accuracy "
       << pct(mean_of(bal)) << "% (sd " << pct(sd_of(bal)) << ")\n";
    for (const auto& l : g.levels) {
      os << "accuracy at " << l.level << " level " << pct(mean_of(l.per_run)) << "% (sd "
         << pct(sd_of(l.per_run)) << ")\n";
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
                    mean_of(before), sd_of(before), mean_of(after), before.size(), g.runs.size());
      os << line;
    }
    os << open_set_line(g);
  }
  os << paired_text(c);
  return os.str();
}

void write_summary_csv(const Collection& c, const std::string& path) {
  std::string t = io::csv_line(
      {"group", "run", "seed", "taxon", "support", "correct", "accuracy", "ci_low", "ci_high"});
  for (std::size_t gi = 0; gi < c.groups.size(); ++gi) {
    const Group& g = c.groups[gi];
    for (const auto& r : g.runs) {
      for (std::size_t k = 0; k < g.classes.size(); ++k) {
        const std::int64_t n = support(r, k);
        const Interval ci = wilson(diag(r, k), n);
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
        const Interval ci = wilson(diag(r, k), n);
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
