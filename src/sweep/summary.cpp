#include "sweep/summary.h"

#include <algorithm>
#include <cmath>
#include <filesystem>
#include <map>

#include "core/table.h"
#include "core/text.h"
#include "io/atomic_file.h"
#include "io/csv.h"
#include "sweep/journal.h"

namespace midge::sweep {
namespace fs = std::filesystem;
namespace {

std::int64_t trace(const collect::RunSummary& r) {
  const std::size_t c = r.classes.size();
  std::int64_t t = 0;
  for (std::size_t k = 0; k < c; ++k) t += r.confusion[k * c + k];
  return t;
}

std::int64_t total(const collect::RunSummary& r) {
  std::int64_t t = 0;
  for (auto v : r.confusion) t += v;
  return t;
}

// The per-taxon table of a cross-validated configuration: its pooled
// out-of-fold confusion (taxa x taxa, each image predicted by the one
// fold that validated it; unreadable images left out).
void take_best_per_taxon(const collect::PooledFolds& pf, const std::string& parameters,
                         SweepSummary* s) {
  const std::size_t n = pf.classes.size();
  s->best_parameters = parameters;
  s->best_folds = pf.folds;
  s->taxa = pf.classes;
  s->correct.assign(n, 0);
  s->support.assign(n, 0);
  for (std::size_t k = 0; k < n && pf.confusion.size() == n * n; ++k) {
    s->correct[k] = pf.confusion[k * n + k];
    for (std::size_t j = 0; j < n; ++j) s->support[k] += pf.confusion[k * n + j];
  }
}

}  // namespace

SweepSummary summarize_sweep(const std::vector<Trial>& trials, const collect::Collection& c) {
  SweepSummary s;
  std::map<std::string, const Trial*> by_id;
  for (const auto& t : trials) by_id[t.id] = &t;
  if (!trials.empty()) {
    for (const auto& [key, value] : trials.front().params)
      if (key != "run.seed") s.keys.push_back(key);
  }
  for (std::size_t gi = 0; gi < c.groups.size(); ++gi) {
    const collect::Group& g = c.groups[gi];
    Point p;
    p.group = static_cast<std::int64_t>(gi + 1);
    std::vector<double> acc;
    std::vector<double> bal;
    for (const auto& r : g.runs) {
      const std::string id = fs::path(r.path).parent_path().filename().string();
      auto it = by_id.find(id);
      if (it == by_id.end()) continue;  // not a trial of this sweep
      if (p.trials.empty()) {
        std::vector<std::string> slug;
        for (const auto& [key, value] : it->second->params) {
          if (key == "run.seed") continue;
          slug.push_back(key + "=" + value);
          p.values.push_back(value);
        }
        p.parameters = text::join(slug, ",");
      }
      TrialResult t;
      t.id = id;
      t.seed = r.seed;
      t.accuracy = r.accuracy;
      t.ci = stats::wilson(trace(r), total(r));
      p.trials.push_back(s.trials.size());
      s.trials.push_back(t);
      acc.push_back(r.accuracy);
      bal.push_back(r.balanced_accuracy);
    }
    if (p.trials.empty()) continue;
    p.versus_best = collect::verdict_against_best(c, gi);
    for (const auto& x : c.paired) {
      if (x.group == gi) {
        p.smallest_p = std::min(p.smallest_p, x.test.p_value);
        p.largest_p = std::max(p.largest_p, x.test.p_value);
      }
      if (x.best == gi) p.versus_best = "best";
    }
    if (p.versus_best.empty()) p.versus_best = "not compared";
    p.accuracy_mean = stats::mean(acc);
    p.accuracy_sd = stats::sample_sd(acc);
    p.balanced_mean = stats::mean(bal);
    s.points.push_back(std::move(p));
  }
  std::stable_sort(s.points.begin(), s.points.end(), [](const Point& a, const Point& b) {
    if (a.accuracy_mean != b.accuracy_mean) return a.accuracy_mean > b.accuracy_mean;
    return a.balanced_mean > b.balanced_mean;
  });
  for (std::size_t pi = 0; pi < s.points.size(); ++pi)
    for (std::size_t t : s.points[pi].trials) s.trials[t].point = pi;
  // Cross-validated configurations (pooled in collect, best first).
  for (std::size_t i = 0; i < c.pooled.size(); ++i) {
    const collect::PooledFolds& pf = c.pooled[i];
    if (!pf.problem.empty()) continue;
    auto it = by_id.find(fs::path(pf.runs.front()).parent_path().filename().string());
    if (it == by_id.end()) continue;  // not this sweep's
    FoldedPoint f;
    std::vector<std::string> slug;
    for (const auto& [key, value] : it->second->params) {
      if (key != "run.seed" && key != "data.split_every" && key != "data.split_offset")
        slug.push_back(key + "=" + value);
    }
    f.parameters = text::join(slug, ",");
    f.seed = pf.seed;
    f.folds = pf.folds;
    f.accuracy = pf.accuracy;
    f.ci = pf.interval;
    f.images = pf.images;
    f.versus_best = s.folded.empty() ? "best" : "not compared";
    if (s.folded.empty()) take_best_per_taxon(pf, f.parameters, &s);
    for (const auto& x : c.pooled_paired) {
      if (x.pooled != i) continue;
      f.p_value = x.test.p_value;
      f.versus_best = x.test.p_value < 0.05 ? "different" : "indistinguishable";
    }
    s.folded.push_back(std::move(f));
  }
  if (!s.points.empty() && s.folded.empty()) {
    const collect::Group& best = c.groups[static_cast<std::size_t>(s.points.front().group - 1)];
    s.best_parameters = s.points.front().parameters;
    s.taxa = best.classes;
    const std::size_t n = best.classes.size();
    s.correct.assign(n, 0);
    s.support.assign(n, 0);
    for (const auto& r : best.runs) {
      for (std::size_t k = 0; k < n; ++k) {
        s.correct[k] += r.confusion[k * n + k];
        for (std::size_t j = 0; j < n; ++j) s.support[k] += r.confusion[k * n + j];
      }
    }
  }
  return s;
}

std::optional<SweepSummary> summarize_sweep_folder(const std::string& dir,
                                                   const collect::Collection& c) {
  const std::string path = (fs::path(dir) / "sweep.h5").string();
  if (!fs::exists(path)) return std::nullopt;
  const Journal j = read_journal(path);
  const SweepSpec spec = parse_sweep_spec(j.spec_text, j.spec_path);
  return summarize_sweep(expand(spec, j.sweep_seed), c);
}

void write_sweep_group(const SweepSummary& s, io::H5Node& f) {
  f.write("sweep/keys", s.keys);
  std::vector<std::string> parameters;
  std::vector<std::string> values;
  std::vector<double> acc_mean;
  std::vector<double> acc_sd;
  std::vector<double> bal_mean;
  std::vector<std::int64_t> seeds;
  std::vector<std::int64_t> groups;
  for (const auto& p : s.points) {
    parameters.push_back(p.parameters);
    values.insert(values.end(), p.values.begin(), p.values.end());
    acc_mean.push_back(p.accuracy_mean);
    acc_sd.push_back(p.accuracy_sd);
    bal_mean.push_back(p.balanced_mean);
    seeds.push_back(static_cast<std::int64_t>(p.trials.size()));
    groups.push_back(p.group);
  }
  f.write("sweep/points/parameters", parameters);
  if (!s.keys.empty() && !s.points.empty()) {
    f.write(
        "sweep/points/values", values,
        {static_cast<std::uint64_t>(s.points.size()), static_cast<std::uint64_t>(s.keys.size())});
  }
  f.write("sweep/points/accuracy_mean", acc_mean);
  f.write("sweep/points/accuracy_sd", acc_sd);
  f.write("sweep/points/balanced_accuracy_mean", bal_mean);
  f.write("sweep/points/seeds", seeds);
  f.write("sweep/points/group", groups);
  std::vector<std::string> versus;
  for (const auto& p : s.points) versus.push_back(p.versus_best);
  f.write("sweep/points/versus_best", versus);
  std::vector<std::string> ids;
  std::vector<std::int64_t> point;
  std::vector<std::int64_t> seed;
  std::vector<double> acc;
  std::vector<double> low;
  std::vector<double> high;
  for (const auto& t : s.trials) {
    ids.push_back(t.id);
    point.push_back(static_cast<std::int64_t>(t.point));
    seed.push_back(t.seed);
    acc.push_back(t.accuracy);
    low.push_back(t.ci.low);
    high.push_back(t.ci.high);
  }
  if (!s.folded.empty()) {
    std::vector<std::string> fp;
    std::vector<std::int64_t> fseed;
    std::vector<std::int64_t> fk;
    std::vector<std::int64_t> fimages;
    std::vector<double> facc;
    std::vector<double> flow;
    std::vector<double> fhigh;
    std::vector<std::string> fversus;
    std::vector<double> fpv;
    for (const auto& x : s.folded) {
      fp.push_back(x.parameters);
      fseed.push_back(x.seed);
      fk.push_back(x.folds);
      fimages.push_back(x.images);
      facc.push_back(x.accuracy);
      flow.push_back(x.ci.low);
      fhigh.push_back(x.ci.high);
      fversus.push_back(x.versus_best);
      fpv.push_back(x.p_value);
    }
    f.write("sweep/folds/parameters", fp);
    f.write("sweep/folds/seed", fseed);
    f.write("sweep/folds/folds", fk);
    f.write("sweep/folds/images", fimages);
    f.write("sweep/folds/accuracy", facc);
    f.write("sweep/folds/ci_low", flow);
    f.write("sweep/folds/ci_high", fhigh);
    f.write("sweep/folds/versus_best", fversus);
    f.write("sweep/folds/p_value", fpv);
  }
  f.write("sweep/trials/id", ids);
  f.write("sweep/trials/point", point);
  f.write("sweep/trials/seed", seed);
  f.write("sweep/trials/accuracy", acc);
  f.write("sweep/trials/ci_low", low);
  f.write("sweep/trials/ci_high", high);
  if (!s.points.empty()) {
    std::vector<double> best_acc;
    std::vector<double> best_low;
    std::vector<double> best_high;
    for (std::size_t k = 0; k < s.taxa.size(); ++k) {
      best_acc.push_back(s.support[k] > 0
                             ? static_cast<double>(s.correct[k]) / static_cast<double>(s.support[k])
                             : 0);
      const stats::Interval ci = stats::wilson(s.correct[k], s.support[k]);
      best_low.push_back(ci.low);
      best_high.push_back(ci.high);
    }
    f.write("sweep/best/taxa", s.taxa);
    f.write("sweep/best/accuracy", best_acc);
    f.write("sweep/best/ci_low", best_low);
    f.write("sweep/best/ci_high", best_high);
    f.write("sweep/best/support", s.support);
    f.set_attr("sweep/best", "parameters", s.best_parameters);
    f.set_attr("sweep/best", "folds", static_cast<std::int64_t>(s.best_folds));
  }
}

void write_ranking_csv(const SweepSummary& s, const std::string& path) {
  std::string t = io::csv_line({"rank", "parameters", "seeds", "accuracy_mean", "accuracy_sd",
                                "balanced_accuracy_mean", "trials", "versus_best"});
  for (std::size_t i = 0; i < s.points.size(); ++i) {
    const Point& p = s.points[i];
    std::vector<std::string> ids;
    for (std::size_t k : p.trials) ids.push_back(s.trials[k].id);
    t += io::csv_line({std::to_string(i + 1), p.parameters, std::to_string(p.trials.size()),
                       text::format("%.6f", p.accuracy_mean), text::format("%.6f", p.accuracy_sd),
                       text::format("%.6f", p.balanced_mean), text::join(ids, " "), p.versus_best});
  }
  io::write_file_atomic(path, t);
}

namespace {

// "worse (p = 0.039)", or with several seeds "indistinguishable (p 0.07-0.6)".
std::string versus_text(const Point& p) {
  if (p.versus_best == "best" || p.versus_best == "not compared") return p.versus_best;
  if (p.smallest_p == p.largest_p)
    return text::format("%s (p = %.2g)", p.versus_best.c_str(), p.smallest_p);
  return text::format("%s (p %.2g-%.2g)", p.versus_best.c_str(), p.smallest_p, p.largest_p);
}

}  // namespace

std::string ranking_text(const SweepSummary& s) {
  TextTable points({{"rank"},
                    {"accuracy", 8},
                    {"sd", 6},
                    {"seeds"},
                    {"vs best (McNemar)", 0, true},
                    {"trial accuracies (95% interval)", 0, true},
                    {"parameters", 0, true}});
  for (std::size_t i = 0; i < s.points.size(); ++i) {
    const Point& p = s.points[i];
    std::vector<std::string> per_trial;
    for (std::size_t t : p.trials) {
      const TrialResult& r = s.trials[t];
      per_trial.push_back(text::format("%.3f [%.2f, %.2f]", r.accuracy, r.ci.low, r.ci.high));
    }
    points.add_row({std::to_string(i + 1), text::format("%.4f", p.accuracy_mean),
                    text::format("%.4f", p.accuracy_sd), std::to_string(p.trials.size()),
                    versus_text(p), text::join(per_trial, "; "),
                    p.parameters.empty() ? "(base configuration)" : p.parameters});
  }
  std::string out;
  if (!s.folded.empty()) {
    TextTable folded({{"rank"},
                      {"out-of-fold accuracy", 8},
                      {"95% interval", 0, true},
                      {"images"},
                      {"seed"},
                      {"vs best (McNemar)", 0, true},
                      {"parameters", 0, true}});
    for (std::size_t i = 0; i < s.folded.size(); ++i) {
      const FoldedPoint& f = s.folded[i];
      const std::string versus =
          f.versus_best == "best" || f.versus_best == "not compared"
              ? f.versus_best
              : text::format("%s (p = %.2g)", f.versus_best.c_str(), f.p_value);
      folded.add_row({std::to_string(i + 1), text::format("%.4f", f.accuracy),
                      text::format("[%.3f, %.3f]", f.ci.low, f.ci.high), std::to_string(f.images),
                      std::to_string(f.seed), versus,
                      f.parameters.empty() ? "(base configuration)" : f.parameters});
    }
    out += text::format(
               "configurations by pooled out-of-fold accuracy (%lld-fold cross-validation: every "
               "image predicted once; choose by this):\n",
               s.folded.front().folds) +
           folded.str() + "\n";
  }
  out += "configurations by mean validation accuracy over seeds" +
         std::string(s.folded.empty() ? "" : " (each fold apart)") + ":\n" + points.str() +
         "(vs best: McNemar's exact test against the best on the same validation "
         "images, per seed; indistinguishable = p >= 0.05 for every seed)\n";
  if (!s.points.empty()) {
    TextTable taxa({{"taxon", 0, true}, {"accuracy", 8}, {"95% interval", 0, true}, {"images"}});
    for (std::size_t k = 0; k < s.taxa.size(); ++k) {
      const double a = s.support[k] > 0
                           ? static_cast<double>(s.correct[k]) / static_cast<double>(s.support[k])
                           : 0;
      const stats::Interval ci = stats::wilson(s.correct[k], s.support[k]);
      taxa.add_row({s.taxa[k], text::format("%.4f", a),
                    text::format("[%.3f, %.3f]", ci.low, ci.high), std::to_string(s.support[k])});
    }
    out +=
        s.best_folds > 0
            ? text::format("\nbest configuration per taxon (out-of-fold, its %lld folds pooled):\n",
                           s.best_folds) +
                  taxa.str()
            : "\nbest configuration per taxon (all its seeds):\n" + taxa.str();
  }
  return out;
}

}  // namespace midge::sweep
