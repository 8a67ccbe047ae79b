#include "data/split.h"

#include <algorithm>
#include <atomic>
#include <filesystem>
#include <map>
#include <set>
#include <sstream>
#include <thread>

#include "core/errors.h"
#include "core/sha256.h"
#include "core/table.h"
#include "core/text.h"
#include "io/atomic_file.h"
#include "io/csv.h"

namespace midge::data {
namespace fs = std::filesystem;

bool is_validation_index(std::size_t index, int every, int offset) {
  return static_cast<int>(index % static_cast<std::size_t>(every)) == offset;
}

void check_split_params(int every, int offset) {
  if (every < 2)
    throw UsageError("split: --every must be at least 2, got " + std::to_string(every));
  if (offset < 0 || offset >= every) {
    throw UsageError("split: --offset must be in [0, " + std::to_string(every - 1) + "], got " +
                     std::to_string(offset));
  }
}

Split split_image_set(const ImageSet& set, int every, int offset, SplitUnit unit) {
  check_split_params(every, offset);
  if (unit == SplitUnit::kGroup) {
    throw ConfigError("data.split_unit = group needs data.manifest with a group column (" +
                      set.root + " is a folder scan: it has no groups)");
  }
  Split split;
  for (std::size_t t = 0; t < set.taxa.size(); ++t) {
    split.classes.push_back(set.taxa[t].name);
    const auto& images = set.taxa[t].images;
    const auto& specimens = set.taxa[t].specimens;
    const bool by_specimen = unit == SplitUnit::kSpecimen && !specimens.empty();
    // By specimen: the rule's index is the specimen's rank among the
    // taxon's distinct specimens in sorted (bytewise) order.
    std::map<std::string, std::size_t> rank;
    if (by_specimen) {
      for (const auto& name : specimens) rank[name] = 0;
      std::size_t r = 0;
      for (auto& [name, index] : rank) index = r++;
    }
    for (std::size_t i = 0; i < images.size(); ++i) {
      Sample s{images[i], static_cast<int>(t), specimens.empty() ? "" : specimens[i], ""};
      const std::size_t index = by_specimen ? rank[specimens[i]] : i;
      (is_validation_index(index, every, offset) ? split.val : split.train).push_back(std::move(s));
    }
  }
  return split;
}

void write_manifest(const Split& split, const std::string& path) {
  const bool specimens = has_specimens(split);
  const bool groups = has_groups(split);
  io::CsvRow header = {"path", "taxon", "split"};
  if (specimens) header.emplace_back("specimen");
  if (groups) header.emplace_back("group");
  std::string out = io::csv_line(header);
  auto add = [&](const std::vector<Sample>& samples, const char* subset) {
    for (const auto& s : samples) {
      const std::string abs = fs::absolute(s.path).lexically_normal().string();
      io::CsvRow row = {abs, split.classes[static_cast<std::size_t>(s.label)], subset};
      if (specimens) row.push_back(s.specimen);
      if (groups) row.push_back(s.group);
      out += io::csv_line(row);
    }
  };
  add(split.train, "train");
  add(split.val, "val");
  io::write_file_atomic(path, out);
}

Split hold_out_taxa(const Split& split, const std::string& taxa) {
  std::vector<std::string> names;
  for (const auto& t : text::split(taxa, ',')) {
    const std::string name = text::trim(t);
    if (name.empty()) continue;
    if (std::find(split.classes.begin(), split.classes.end(), name) == split.classes.end()) {
      throw ConfigError("data.holdout_taxa: '" + name + "' is not a taxon of the data (" +
                        text::join(split.classes, ", ") + ")");
    }
    if (std::find(names.begin(), names.end(), name) == names.end()) names.push_back(name);
  }
  if (names.empty()) return split;
  std::sort(names.begin(), names.end());
  if (split.classes.size() - names.size() < 2) {
    throw ConfigError("data.holdout_taxa holds out " + std::to_string(names.size()) + " of " +
                      std::to_string(split.classes.size()) +
                      " taxa; at least two must be left to train on");
  }
  Split out;
  std::vector<int> known(split.classes.size(), -1);    // old label -> new, or -1
  std::vector<int> unknown(split.classes.size(), -1);  // old label -> holdout label
  for (std::size_t c = 0; c < split.classes.size(); ++c) {
    auto it = std::find(names.begin(), names.end(), split.classes[c]);
    if (it == names.end()) {
      known[c] = static_cast<int>(out.classes.size());
      out.classes.push_back(split.classes[c]);
    } else {
      unknown[c] = static_cast<int>(it - names.begin());
    }
  }
  out.holdout_classes = names;
  auto move = [&](const std::vector<Sample>& from, std::vector<Sample>* to) {
    for (const Sample& s : from) {
      const auto c = static_cast<std::size_t>(s.label);
      if (known[c] >= 0) {
        to->push_back({s.path, known[c], s.specimen, s.group});
      } else {
        out.holdout.push_back({s.path, unknown[c], s.specimen, s.group});
      }
    }
  };
  move(split.train, &out.train);
  move(split.val, &out.val);
  // Taxon by taxon, as train and val are.
  std::stable_sort(out.holdout.begin(), out.holdout.end(),
                   [](const Sample& a, const Sample& b) { return a.label < b.label; });
  return out;
}

Split read_manifest(const std::string& path) {
  auto rows = io::read_csv(path, {});
  if (rows.empty()) throw DataError(path + ": empty manifest (expected a header path,taxon,split)");
  const io::CsvRow header = rows.front();
  rows.erase(rows.begin());
  // Columns by name: path, taxon and split are required; specimen and
  // group are optional.
  const std::vector<std::string> known = {"path", "taxon", "split", "specimen", "group"};
  std::map<std::string, std::size_t> column;
  for (std::size_t c = 0; c < header.size(); ++c) {
    if (std::find(known.begin(), known.end(), header[c]) == known.end()) {
      throw DataError(path + ": unknown column '" + header[c] +
                      "' in the header (known: path, taxon, split, specimen, group)");
    }
    if (!column.emplace(header[c], c).second)
      throw DataError(path + ": column '" + header[c] + "' appears twice in the header");
  }
  for (const char* required : {"path", "taxon", "split"}) {
    if (column.count(required) == 0U) {
      throw DataError(path + ": the header has no '" + required +
                      "' column (expected path,taxon,split[,specimen][,group])");
    }
  }
  auto cell = [&](const io::CsvRow& r, const char* name) -> std::string {
    auto it = column.find(name);
    return it == column.end() ? std::string() : r[it->second];
  };
  const fs::path base = fs::path(path).parent_path();
  std::map<std::string, int> class_index;
  for (std::size_t i = 0; i < rows.size(); ++i) {
    if (rows[i].size() != header.size()) {
      throw DataError(path + ": row " + std::to_string(i + 2) + " has " +
                      std::to_string(rows[i].size()) + " fields, expected " +
                      std::to_string(header.size()));
    }
    class_index[cell(rows[i], "taxon")] = 0;
  }
  Split split;
  for (auto& [name, index] : class_index) {
    index = static_cast<int>(split.classes.size());
    split.classes.push_back(name);
  }
  for (std::size_t i = 0; i < rows.size(); ++i) {
    const auto& r = rows[i];
    fs::path p(cell(r, "path"));
    if (p.is_relative()) p = base / p;
    Sample s{p.string(), class_index[cell(r, "taxon")], cell(r, "specimen"), cell(r, "group")};
    const std::string subset = cell(r, "split");
    if (subset == "train") {
      split.train.push_back(std::move(s));
    } else if (subset == "val") {
      split.val.push_back(std::move(s));
    } else {
      throw DataError(path + ": row " + std::to_string(i + 2) +
                      ": split must be train or val, got '" + subset + "'");
    }
  }
  if (split.train.empty()) throw DataError(path + ": no training images");
  if (split.val.empty()) throw DataError(path + ": no validation images");
  return split;
}

std::string format_split_table(const Split& split, const ImageSet* set) {
  const std::size_t c = split.classes.size();
  std::vector<std::size_t> train(c, 0);
  std::vector<std::size_t> val(c, 0);
  for (const auto& s : split.train) ++train[static_cast<std::size_t>(s.label)];
  for (const auto& s : split.val) ++val[static_cast<std::size_t>(s.label)];
  // Specimens per side, when known.
  const bool show_specimens = has_specimens(split);
  std::vector<std::set<std::string>> train_specimens(c);
  std::vector<std::set<std::string>> val_specimens(c);
  for (const auto& s : split.train)
    train_specimens[static_cast<std::size_t>(s.label)].insert(s.specimen);
  for (const auto& s : split.val)
    val_specimens[static_cast<std::size_t>(s.label)].insert(s.specimen);
  std::vector<std::size_t> ignored(c, 0);
  bool show_ignored = set != nullptr && set->ignored_count() > 0;
  if (set != nullptr) {
    for (std::size_t t = 0; t < c && t < set->taxa.size(); ++t)
      ignored[t] = set->taxa[t].ignored.size();
  }
  std::vector<TextTable::Column> columns = {{"taxon"}, {"train", 6}, {"val", 6}, {"total", 6}};
  if (show_specimens) {
    columns.push_back({"train specimens", 6});
    columns.push_back({"val specimens", 6});
  }
  if (show_ignored) columns.push_back({"skipped", 6});
  TextTable table(columns);
  auto row = [&](const std::string& name, std::size_t tr, std::size_t va, std::size_t str,
                 std::size_t sva, std::size_t ig) {
    std::vector<std::string> cells = {name, std::to_string(tr), std::to_string(va),
                                      std::to_string(tr + va)};
    if (show_specimens) {
      cells.push_back(std::to_string(str));
      cells.push_back(std::to_string(sva));
    }
    if (show_ignored) cells.push_back(std::to_string(ig));
    table.add_row(cells);
  };
  std::size_t tt = 0;
  std::size_t tv = 0;
  std::size_t ts = 0;
  std::size_t tvs = 0;
  std::size_t ti = 0;
  for (std::size_t t = 0; t < c; ++t) {
    row(split.classes[t], train[t], val[t], train_specimens[t].size(), val_specimens[t].size(),
        ignored[t]);
    tt += train[t];
    tv += val[t];
    ts += train_specimens[t].size();
    tvs += val_specimens[t].size();
    ti += ignored[t];
  }
  row("total (" + std::to_string(c) + " taxa)", tt, tv, ts, tvs, ti);
  return table.str();
}

namespace {

// Length-prefixed fields: "<bytes>:<text>".
void put(std::string* out, const std::string& field) {
  *out += std::to_string(field.size());
  *out += ':';
  *out += field;
}

void put_samples(std::string* out, const std::vector<Sample>& samples) {
  put(out, std::to_string(samples.size()));
  for (const auto& s : samples) {
    put(out, std::to_string(s.label));
    put(out, s.path);
    put(out, s.specimen);
    put(out, s.group);
  }
}

void put_names(std::string* out, const std::vector<std::string>& names) {
  put(out, std::to_string(names.size()));
  for (const auto& n : names) put(out, n);
}

class Reader {
 public:
  explicit Reader(const std::string& text) : text_(text) {}
  std::string field() {
    const std::size_t colon = text_.find(':', at_);
    if (colon == std::string::npos) bad();
    std::size_t n = 0;
    try {
      n = std::stoull(text_.substr(at_, colon - at_));
    } catch (const std::exception&) {
      bad();
    }
    if (colon + 1 + n > text_.size()) bad();
    std::string out = text_.substr(colon + 1, n);
    at_ = colon + 1 + n;
    return out;
  }
  std::size_t count() {
    try {
      return std::stoull(field());
    } catch (const std::exception&) {
      bad();
    }
  }
  std::vector<std::string> names() {
    std::vector<std::string> out(count());
    for (auto& n : out) n = field();
    return out;
  }
  std::vector<Sample> samples() {
    std::vector<Sample> out(count());
    for (auto& s : out) {
      s.label = static_cast<int>(std::stol(field()));
      s.path = field();
      s.specimen = field();
      s.group = field();
    }
    return out;
  }
  bool done() const { return at_ == text_.size(); }

 private:
  [[noreturn]] static void bad() { throw DataError("decode_split: not an encoded split"); }
  const std::string& text_;
  std::size_t at_ = 0;
};

}  // namespace

std::string encode_split(const Split& split) {
  std::string out;
  put_names(&out, split.classes);
  put_samples(&out, split.train);
  put_samples(&out, split.val);
  put_names(&out, split.holdout_classes);
  put_samples(&out, split.holdout);
  return out;
}

Split decode_split(const std::string& text) {
  Reader r(text);
  Split s;
  s.classes = r.names();
  s.train = r.samples();
  s.val = r.samples();
  s.holdout_classes = r.names();
  s.holdout = r.samples();
  if (!r.done()) throw DataError("decode_split: trailing bytes after the split");
  return s;
}

}  // namespace midge::data
