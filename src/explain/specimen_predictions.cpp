#include "explain/specimen_predictions.h"

#include <algorithm>
#include <cmath>
#include <filesystem>
#include <fstream>

#include "core/errors.h"
#include "core/text.h"
#include "io/atomic_file.h"
#include "io/csv.h"
#include "stats/conformal.h"
#include "stats/fusion.h"

namespace midge::explain {

std::vector<SpecimenPrediction> fuse_predictions(const std::vector<Prediction>& predictions,
                                                 const std::vector<std::string>& specimens,
                                                 const std::vector<std::string>& classes, int top_k,
                                                 double set_threshold) {
  const int c = static_cast<int>(classes.size());
  std::vector<std::int64_t> labels(predictions.size(), 0);  // unknown: one "taxon" for all
  std::vector<std::int64_t> read(predictions.size(), -1);
  std::vector<float> p(predictions.size() * classes.size(), 0.0F);
  for (std::size_t i = 0; i < predictions.size(); ++i) {
    if (!predictions[i].error.empty() || predictions[i].all.size() != classes.size()) continue;
    read[i] = 0;
    for (std::size_t k = 0; k < classes.size(); ++k)
      p[i * classes.size() + k] = static_cast<float>(predictions[i].all[k]);
  }
  const stats::SpecimenFusion f = stats::fuse_specimens(specimens, labels, read, p, c);
  const std::vector<float> fused = stats::fused_probabilities(f, c);
  std::vector<SpecimenPrediction> out;
  for (std::size_t s = 0; s < f.names.size(); ++s) {
    SpecimenPrediction sp;
    sp.name = f.names[s];
    sp.images = f.images[s];
    if (sp.images > 0) {
      const float* g = fused.data() + s * classes.size();
      std::vector<int> order(classes.size());
      for (std::size_t k = 0; k < order.size(); ++k) order[k] = static_cast<int>(k);
      std::stable_sort(order.begin(), order.end(), [&](int a, int b) {
        return g[static_cast<std::size_t>(a)] > g[static_cast<std::size_t>(b)];
      });
      for (int r = 0; r < std::min(top_k, c); ++r) {
        const auto k = static_cast<std::size_t>(order[static_cast<std::size_t>(r)]);
        sp.taxa.push_back(classes[k]);
        sp.probabilities.push_back(g[k]);
      }
      if (!std::isnan(set_threshold)) {
        sp.has_set = true;
        for (int k : stats::prediction_set(g, c, set_threshold))
          sp.set.push_back(classes[static_cast<std::size_t>(k)]);
      }
    }
    out.push_back(std::move(sp));
  }
  return out;
}

void check_specimens_output(const std::string& path) {
  std::error_code ec;
  if (!std::filesystem::exists(path, ec)) return;
  std::ifstream in(path);
  std::string first;
  std::getline(in, first);
  first += "\n";
  const std::vector<std::string> old = {"specimen", "images", "rank", "taxon", "probability"};
  std::vector<std::string> now = old;
  now.emplace_back("set");
  if (first != io::csv_line(now) && first != io::csv_line(old)) {
    throw UsageError("midge predict: " + path +
                     " exists and is not a midge specimens CSV; choose another --out");
  }
}

void write_specimens_csv(const std::vector<SpecimenPrediction>& specimens,
                         const std::string& path) {
  std::string text = io::csv_line({"specimen", "images", "rank", "taxon", "probability", "set"});
  for (const auto& s : specimens) {
    if (s.taxa.empty()) text += io::csv_line({s.name, "0", "", "", "", ""});
    const std::string set = text::join(s.set, ";");
    for (std::size_t r = 0; r < s.taxa.size(); ++r) {
      text += io::csv_line({s.name, std::to_string(s.images), std::to_string(r + 1), s.taxa[r],
                            text::format("%.6f", s.probabilities[r]), set});
    }
  }
  io::write_file_atomic(path, text);
}

}  // namespace midge::explain
