#include "io/compare.h"

#include <algorithm>
#include <cmath>
#include <cstring>
#include <set>

#include "core/errors.h"
#include "core/text.h"
#include "io/hdf5.h"

namespace midge::io {
namespace {

using Kind = H5Node::Kind;

// Dataset paths below `root` (itself when it is a dataset), sorted.
void datasets_below(const H5Node& f, const std::string& root, std::set<std::string>* out) {
  const Kind k = f.kind(root);
  if (k == Kind::kMissing) return;
  if (k != Kind::kGroup) {
    out->insert(root);
    return;
  }
  for (const auto& child : f.children(root)) datasets_below(f, root + "/" + child, out);
}

std::string shape_text(const std::vector<std::uint64_t>& s) {
  std::vector<std::string> parts;
  for (auto d : s) parts.push_back(std::to_string(d));
  return "[" + text::join(parts, ", ") + "]";
}

std::string last_component(const std::string& path) {
  const auto slash = path.rfind('/');
  return slash == std::string::npos ? path : path.substr(slash + 1);
}

// A numeric dataset's values as doubles, whatever number type it is
// stored as (float32 weights, float64 figures, int64 counts): each typed
// read refuses the other types. Doubles hold every float32 and every count
// midge writes exactly.
std::vector<double> numbers(const H5Node& f, const std::string& path) {
  try {
    return f.read_doubles(path);
  } catch (const CorruptFileError&) {
  }
  try {
    const auto v = f.read_floats(path);
    return {v.begin(), v.end()};
  } catch (const CorruptFileError&) {
  }
  const auto v = f.read_int64s(path);
  std::vector<double> out;
  out.reserve(v.size());
  for (const auto x : v) out.push_back(static_cast<double>(x));
  return out;
}

// Empty when the datasets are equal, else what differs.
std::string difference(const H5Node& a, const H5Node& b, const std::string& path) {
  const Kind ka = a.kind(path);
  const Kind kb = b.kind(path);
  if (ka != kb) return "different types";
  const auto sa = a.shape(path);
  const auto sb = b.shape(path);
  if (sa != sb) return "shape " + shape_text(sa) + " vs " + shape_text(sb);
  if (ka == Kind::kStrings) {
    const auto va =
        sa.empty() ? std::vector<std::string>{a.read_string(path)} : a.read_strings(path);
    const auto vb =
        sb.empty() ? std::vector<std::string>{b.read_string(path)} : b.read_strings(path);
    std::size_t n = 0;
    std::size_t first = 0;
    for (std::size_t i = 0; i < va.size(); ++i) {
      if (va[i] == vb[i]) continue;
      if (n++ == 0) first = i;
    }
    if (n == 0) return "";
    return text::format("%zu of %zu strings differ, first at %zu: '%s' vs '%s'", n, va.size(),
                        first, va[first].c_str(), vb[first].c_str());
  }
  if (ka != Kind::kNumbers) return "";  // nothing else is written by midge
  const auto va = numbers(a, path);
  const auto vb = numbers(b, path);
  if (va.size() != vb.size()) return "different sizes";
  std::size_t n = 0;
  double largest = 0;
  for (std::size_t i = 0; i < va.size(); ++i) {
    // Bytes, not values: -0.0 and 0.0 differ, a NaN equals only the same NaN.
    if (std::memcmp(&va[i], &vb[i], sizeof(double)) == 0) continue;
    ++n;
    if (!std::isnan(va[i]) && !std::isnan(vb[i])) {
      largest = std::max(largest, std::abs(va[i] - vb[i]));
    }
  }
  if (n == 0) return "";
  return text::format("%zu of %zu values differ, by up to %.3g", n, va.size(), largest);
}

}  // namespace

FileComparison compare_h5(const std::string& a, const std::string& b,
                          const std::vector<std::string>& roots,
                          const std::vector<std::string>& skip) {
  H5Reader fa(a);
  H5Reader fb(b);
  std::set<std::string> in_a;
  std::set<std::string> in_b;
  for (const auto& r : roots) {
    datasets_below(fa, r, &in_a);
    datasets_below(fb, r, &in_b);
  }
  auto skipped = [&](const std::string& p) {
    return std::find(skip.begin(), skip.end(), last_component(p)) != skip.end();
  };
  FileComparison out;
  for (const auto& p : in_a) {
    if (skipped(p)) continue;
    if (in_b.count(p) == 0U) {
      out.differences.push_back({p, "only in the original"});
      continue;
    }
    ++out.compared;
    std::string d = difference(fa, fb, p);
    if (!d.empty()) out.differences.push_back({p, std::move(d)});
  }
  for (const auto& p : in_b) {
    if (!skipped(p) && in_a.count(p) == 0U) out.differences.push_back({p, "only in the replay"});
  }
  return out;
}

}  // namespace midge::io
