// Seeding and portable random numbers.
//
// midge derives every random stream from (seed, purpose, indices) with a
// counter-based hash instead of sharing one generator, so the numbers for
// image i in epoch e are the same whatever the number of threads or ranks,
// and a resumed run continues exactly. The generators and distributions are
// implemented here (not std::normal_distribution & co., whose output differs
// between standard libraries) so a seed gives the same images and splits on
// every platform.
#pragma once

#include <cstddef>
#include <cstdint>
#include <initializer_list>

namespace midge {

// SplitMix64 finalizer: a bijective 64-bit mix with good avalanche.
std::uint64_t mix64(std::uint64_t x);

// FNV-1a 64-bit hash of `n` bytes: stable everywhere (sweep trial ids,
// the image cache's content hashes).
std::uint64_t fnv1a(const void* data, std::size_t n);

// Hash of a seed and a list of indices into one 64-bit stream seed.
std::uint64_t derive_seed(std::uint64_t seed, std::initializer_list<std::uint64_t> indices);

// xoshiro256** generator seeded through SplitMix64.
class Rng {
 public:
  explicit Rng(std::uint64_t seed);
  std::uint64_t next();
  double uniform();                      // [0, 1)
  double uniform(double lo, double hi);  // [lo, hi)
  int uniform_int(int lo, int hi);       // [lo, hi] inclusive
  double normal();                       // standard normal (Box-Muller)
  bool bernoulli(double p);

 private:
  std::uint64_t s_[4];
  double spare_ = 0;
  bool has_spare_ = false;
};

}  // namespace midge
