#include "data/split.h"

#include <algorithm>
#include <atomic>
#include <filesystem>
#include <map>
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

Split split_image_set(const ImageSet& set, int every, int offset) {
  check_split_params(every, offset);
  Split split;
  for (std::size_t t = 0; t < set.taxa.size(); ++t) {
    split.classes.push_back(set.taxa[t].name);
    const auto& images = set.taxa[t].images;
    for (std::size_t i = 0; i < images.size(); ++i) {
      Sample s{images[i], static_cast<int>(t)};
      (is_validation_index(i, every, offset) ? split.val : split.train).push_back(std::move(s));
    }
  }
  return split;
}

void write_manifest(const Split& split, const std::string& path) {
  std::string out = io::csv_line({"path", "taxon", "split"});
  auto add = [&](const std::vector<Sample>& samples, const char* subset) {
    for (const auto& s : samples) {
      const std::string abs = fs::absolute(s.path).lexically_normal().string();
      out += io::csv_line({abs, split.classes[static_cast<std::size_t>(s.label)], subset});
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
        to->push_back({s.path, known[c]});
      } else {
        out.holdout.push_back({s.path, unknown[c]});
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
  const auto rows = io::read_csv(path, {"path", "taxon", "split"});
  const fs::path base = fs::path(path).parent_path();
  std::map<std::string, int> class_index;
  for (const auto& r : rows) class_index[r[1]] = 0;
  Split split;
  for (auto& [name, index] : class_index) {
    index = static_cast<int>(split.classes.size());
    split.classes.push_back(name);
  }
  for (std::size_t i = 0; i < rows.size(); ++i) {
    const auto& r = rows[i];
    fs::path p(r[0]);
    if (p.is_relative()) p = base / p;
    Sample s{p.string(), class_index[r[1]]};
    if (r[2] == "train") {
      split.train.push_back(std::move(s));
    } else if (r[2] == "val") {
      split.val.push_back(std::move(s));
    } else {
      throw DataError(path + ": row " + std::to_string(i + 2) +
                      ": split must be train or val, got '" + r[2] + "'");
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
  std::vector<std::size_t> ignored(c, 0);
  bool show_ignored = set != nullptr && set->ignored_count() > 0;
  if (set != nullptr) {
    for (std::size_t t = 0; t < c && t < set->taxa.size(); ++t)
      ignored[t] = set->taxa[t].ignored.size();
  }
  std::vector<TextTable::Column> columns = {{"taxon"}, {"train", 6}, {"val", 6}, {"total", 6}};
  if (show_ignored) columns.push_back({"skipped", 6});
  TextTable table(columns);
  auto row = [&](const std::string& name, std::size_t tr, std::size_t va, std::size_t ig) {
    std::vector<std::string> cells = {name, std::to_string(tr), std::to_string(va),
                                      std::to_string(tr + va)};
    if (show_ignored) cells.push_back(std::to_string(ig));
    table.add_row(cells);
  };
  std::size_t tt = 0;
  std::size_t tv = 0;
  std::size_t ti = 0;
  for (std::size_t t = 0; t < c; ++t) {
    row(split.classes[t], train[t], val[t], ignored[t]);
    tt += train[t];
    tv += val[t];
    ti += ignored[t];
  }
  row("total (" + std::to_string(c) + " taxa)", tt, tv, ti);
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
