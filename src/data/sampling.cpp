#include "data/sampling.h"

#include <algorithm>
#include <numeric>

#include "core/errors.h"
#include "core/random.h"

namespace midge::data {

Balance parse_balance(const std::string& name) {
  if (name == "none") return Balance::kNone;
  if (name == "oversample") return Balance::kOversample;
  if (name == "weighted") return Balance::kWeighted;
  throw UsageError("balance must be none|oversample|weighted, got '" + name + "'");
}

namespace {

template <class T>
void shuffle_in_place(std::vector<T>& v, Rng& rng) {
  for (std::size_t i = v.size(); i > 1; --i) {
    const auto j = static_cast<std::size_t>(rng.uniform_int(0, static_cast<int>(i) - 1));
    std::swap(v[i - 1], v[j]);
  }
}

}  // namespace

std::vector<std::int64_t> epoch_order(const std::vector<int>& labels, int num_classes,
                                      std::uint64_t seed, std::int64_t epoch, bool shuffle,
                                      Balance balance) {
  std::vector<std::int64_t> order;
  const auto e = static_cast<std::uint64_t>(epoch);
  if (balance == Balance::kOversample) {
    std::vector<std::vector<std::int64_t>> by_class(static_cast<std::size_t>(num_classes));
    for (std::size_t i = 0; i < labels.size(); ++i) {
      by_class.at(static_cast<std::size_t>(labels[i])).push_back(static_cast<std::int64_t>(i));
    }
    std::size_t largest = 0;
    for (const auto& c : by_class) largest = std::max(largest, c.size());
    Rng rng(derive_seed(seed, {static_cast<std::uint64_t>(Stream::kOversample), e}));
    for (auto& members : by_class) {
      if (members.empty()) continue;
      for (std::size_t k = 0; k + members.size() <= largest; k += members.size()) {
        order.insert(order.end(), members.begin(), members.end());
      }
      std::vector<std::int64_t> extra = members;
      shuffle_in_place(extra, rng);
      extra.resize(largest % members.size());
      order.insert(order.end(), extra.begin(), extra.end());
    }
  } else {
    order.resize(labels.size());
    std::iota(order.begin(), order.end(), 0);
  }
  if (shuffle) {
    Rng rng(derive_seed(seed, {static_cast<std::uint64_t>(Stream::kOrder), e}));
    shuffle_in_place(order, rng);
  }
  return order;
}

std::vector<std::int64_t> shard_positions(std::int64_t total, int rank, int world, bool even) {
  if (world < 1 || rank < 0 || rank >= world) {
    throw std::invalid_argument("shard_positions: rank outside world");
  }
  const std::int64_t end = even ? total - total % world : total;
  std::vector<std::int64_t> out;
  for (std::int64_t p = rank; p < end; p += world) out.push_back(p);
  return out;
}

std::vector<float> class_weights(const std::vector<int>& labels, int num_classes) {
  std::vector<double> count(static_cast<std::size_t>(num_classes), 0);
  for (int l : labels) count.at(static_cast<std::size_t>(l)) += 1;
  std::vector<float> w(static_cast<std::size_t>(num_classes), 0.0F);
  for (std::size_t c = 0; c < w.size(); ++c) {
    if (count[c] > 0) {
      w[c] = static_cast<float>(static_cast<double>(labels.size()) / (num_classes * count[c]));
    }
  }
  return w;
}

}  // namespace midge::data
