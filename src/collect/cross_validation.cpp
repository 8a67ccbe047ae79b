// k-fold cross-validation in `midge collect`: the runs of one configuration
// (and seed) that differ only in data.split_offset, with data.split_every =
// k, are its k folds (`[folds] k = ...` in a sweep spec makes them). Their
// validation predictions pooled predict every image exactly once, each by
// a model that never saw it: the out-of-fold accuracy, over all images
// rather than a fifth of them, with a Wilson interval, per-taxon figures,
// and McNemar's exact test against the best configuration on the same
// images.
#include <algorithm>
#include <map>
#include <set>
#include <sstream>

#include "collect/summary.h"
#include "core/table.h"
#include "core/text.h"
#include "stats/metrics.h"

namespace midge::collect {

namespace {

PooledFolds pool(const std::vector<const RunSummary*>& runs, long long folds) {
  PooledFolds p;
  p.cv_key = runs.front()->cv_key;
  p.seed = runs.front()->seed;
  p.folds = folds;
  p.classes = runs.front()->classes;
  // One run per fold 0..k-1.
  std::map<long long, const RunSummary*> by_fold;
  for (const RunSummary* r : runs) {
    if (!by_fold.emplace(r->fold, r).second) {
      p.problem = text::format("fold %lld appears twice (%s and %s)", r->fold,
                               by_fold[r->fold]->path.c_str(), r->path.c_str());
      return p;
    }
  }
  std::vector<long long> missing;
  for (long long f = 0; f < folds; ++f) {
    if (by_fold.count(f) == 0U) missing.push_back(f);
  }
  if (!missing.empty()) {
    std::vector<std::string> names;
    for (long long f : missing) names.push_back(std::to_string(f));
    p.problem = text::format("%zu of %lld folds present (missing: %s)", by_fold.size(), folds,
                             text::join(names, ", ").c_str());
    return p;
  }
  // Every image once: a path validated by two folds is refused.
  std::map<std::string, std::pair<std::int64_t, std::int64_t>> image;  // path -> label, predicted
  std::map<std::string, long long> fold_of;
  for (const auto& [f, r] : by_fold) {
    p.runs.push_back(r->path);
    for (std::size_t i = 0; i < r->eval_paths.size(); ++i) {
      const std::string& path = r->eval_paths[i];
      auto [it, inserted] = fold_of.emplace(path, f);
      if (!inserted) {
        p.problem =
            text::format("%s is validated by fold %lld and fold %lld", path.c_str(), it->second, f);
        return p;
      }
      image[path] = {r->eval_labels[i], r->eval_predicted[i]};
    }
  }
  const auto c = p.classes.size();
  p.confusion.assign(c * c, 0);
  for (const auto& [path, lp] : image) {
    p.paths.push_back(path);
    const bool right = lp.second >= 0 && lp.second == lp.first;
    p.correct.push_back(right);
    if (lp.second < 0) {
      ++p.unread;
      continue;
    }
    stats::count(p.confusion, static_cast<int>(c), lp.first, lp.second);
  }
  p.images = static_cast<std::int64_t>(p.paths.size());
  const stats::Metrics m = stats::compute_metrics(p.confusion, static_cast<int>(c));
  p.accuracy = m.accuracy;
  p.balanced_accuracy = m.balanced_accuracy;
  p.macro_f1 = m.macro_f1;
  std::int64_t right = 0;
  for (std::size_t k = 0; k < c; ++k) right += p.confusion[k * c + k];
  p.interval = stats::wilson(right, p.images - p.unread);
  return p;
}

std::string percent(double x) { return text::format("%.1f", 100 * x); }

}  // namespace

void pool_folds(Collection* c) {
  // Runs with folds, by configuration (without seed and offset), taxa and seed.
  std::map<std::tuple<std::string, std::string, long long, long long>,
           std::vector<const RunSummary*>>
      sets;
  for (const auto& g : c->groups) {
    for (const auto& r : g.runs) {
      if (r.folds < 2) continue;
      sets[{r.cv_key, text::join(r.classes, ","), r.seed, r.folds}].push_back(&r);
    }
  }
  for (const auto& [key, runs] : sets) {
    // Runs of one fold only (the default split; copies of one run) are not
    // a cross-validation.
    std::set<long long> folds_seen;
    for (const RunSummary* r : runs) folds_seen.insert(r->fold);
    if (folds_seen.size() < 2) continue;
    c->pooled.push_back(pool(runs, std::get<3>(key)));
  }
  std::stable_sort(c->pooled.begin(), c->pooled.end(),
                   [](const PooledFolds& a, const PooledFolds& b) {
                     if (a.problem.empty() != b.problem.empty()) return a.problem.empty();
                     return a.accuracy > b.accuracy;
                   });
  // Each pooled configuration against the best on the same images.
  for (std::size_t i = 0; i < c->pooled.size(); ++i) {
    const PooledFolds& p = c->pooled[i];
    if (!p.problem.empty()) continue;
    for (std::size_t b = 0; b < i; ++b) {
      const PooledFolds& best = c->pooled[b];
      if (!best.problem.empty() || best.paths != p.paths) continue;
      c->pooled_paired.push_back({i, b, stats::mcnemar(best.correct, p.correct)});
      break;
    }
  }
}

std::string cross_validation_text(const Collection& c) {
  if (c.pooled.empty()) return "";
  std::ostringstream os;
  os << "\ncross-validation: each configuration's folds pooled (every image predicted once, "
        "by the fold that did not train on it), best first:\n";
  for (std::size_t i = 0; i < c.pooled.size(); ++i) {
    const PooledFolds& p = c.pooled[i];
    os << "\nconfiguration " << i + 1 << " (seed " << p.seed << ", " << p.folds
       << " folds): " << p.runs.size() << " run(s)\n";
    for (const auto& r : p.runs) os << "  " << r << "\n";
    if (!p.problem.empty()) {
      os << "  not pooled: " << p.problem << "\n";
      continue;
    }
    const auto k = p.classes.size();
    TextTable table({{"taxon"}, {"images", 6}, {"out-of-fold % [95% CI]"}});
    for (std::size_t t = 0; t < k; ++t) {
      std::int64_t n = 0;
      for (std::size_t q = 0; q < k; ++q) n += p.confusion[t * k + q];
      const std::int64_t right = p.confusion[t * k + t];
      const stats::Interval ci = stats::wilson(right, n);
      const double a = n > 0 ? static_cast<double>(right) / static_cast<double>(n) : 0;
      table.add_row({p.classes[t], std::to_string(n),
                     percent(a) + " [" + percent(ci.low) + ", " + percent(ci.high) + "]"});
    }
    os << table.str();
    os << text::format(
        "out-of-fold accuracy %s%% [95%% CI %s, %s] over %lld images%s, balanced accuracy "
        "%s%%, macro-F1 %.4f\n",
        percent(p.accuracy).c_str(), percent(p.interval.low).c_str(),
        percent(p.interval.high).c_str(), static_cast<long long>(p.images),
        p.unread > 0 ? text::format(" (%lld unreadable)", static_cast<long long>(p.unread)).c_str()
                     : "",
        percent(p.balanced_accuracy).c_str(), p.macro_f1);
    for (const auto& cmp : c.pooled_paired) {
      if (cmp.pooled != i) continue;
      os << text::format(
          "against configuration %zu on the same images: %lld only it right, %lld only this, "
          "McNemar p = %.4g -> %s\n",
          cmp.best + 1, static_cast<long long>(cmp.test.a_only),
          static_cast<long long>(cmp.test.b_only), cmp.test.p_value,
          cmp.test.p_value < 0.05 ? "different (p < 0.05)" : "indistinguishable (p >= 0.05)");
    }
  }
  return os.str();
}

}  // namespace midge::collect
