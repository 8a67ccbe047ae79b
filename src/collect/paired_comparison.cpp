// Each validation set's groups against its best, seed by seed, by
// McNemar's exact test (stats/mcnemar.h), and the verdicts read from it.
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

namespace {

double group_mean(const Group& g, double RunSummary::*field) {
  double s = 0;
  for (const auto& r : g.runs) s += r.*field;
  return g.runs.empty() ? 0 : s / static_cast<double>(g.runs.size());
}

}  // namespace

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
          c->paired.push_back({g, best, r.seed, stats::mcnemar(top.correct, r.correct)});
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

}  // namespace midge::collect
