#include "core/sha256.h"

#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <vector>

#include "core/errors.h"

#if (defined(__x86_64__) || defined(__i386__)) && defined(__GNUC__)
#include <cpuid.h>
#include <immintrin.h>
#endif

namespace midge {
namespace {

// First 32 bits of the fractional parts of the cube roots of the first 64
// primes (FIPS 180-4, 4.2.2).
constexpr std::array<std::uint32_t, 64> kRound = {
    0x428a2f98, 0x71374491, 0xb5c0fbcf, 0xe9b5dba5, 0x3956c25b, 0x59f111f1, 0x923f82a4, 0xab1c5ed5,
    0xd807aa98, 0x12835b01, 0x243185be, 0x550c7dc3, 0x72be5d74, 0x80deb1fe, 0x9bdc06a7, 0xc19bf174,
    0xe49b69c1, 0xefbe4786, 0x0fc19dc6, 0x240ca1cc, 0x2de92c6f, 0x4a7484aa, 0x5cb0a9dc, 0x76f988da,
    0x983e5152, 0xa831c66d, 0xb00327c8, 0xbf597fc7, 0xc6e00bf3, 0xd5a79147, 0x06ca6351, 0x14292967,
    0x27b70a85, 0x2e1b2138, 0x4d2c6dfc, 0x53380d13, 0x650a7354, 0x766a0abb, 0x81c2c92e, 0x92722c85,
    0xa2bfe8a1, 0xa81a664b, 0xc24b8b70, 0xc76c51a3, 0xd192e819, 0xd6990624, 0xf40e3585, 0x106aa070,
    0x19a4c116, 0x1e376c08, 0x2748774c, 0x34b0bcb5, 0x391c0cb3, 0x4ed8aa4a, 0x5b9cca4f, 0x682e6ff3,
    0x748f82ee, 0x78a5636f, 0x84c87814, 0x8cc70208, 0x90befffa, 0xa4506ceb, 0xbef9a3f7, 0xc67178f2};

constexpr std::uint32_t rotr(std::uint32_t x, int n) { return (x >> n) | (x << (32 - n)); }

}  // namespace

Sha256::Sha256()
    // First 32 bits of the fractional parts of the square roots of the
    // first 8 primes (5.3.3).
    : h_{0x6a09e667, 0xbb67ae85, 0x3c6ef372, 0xa54ff53a,
         0x510e527f, 0x9b05688c, 0x1f83d9ab, 0x5be0cd19} {}

namespace sha256_detail {

void compress_portable(std::uint32_t* state, const std::uint8_t* p, std::size_t blocks) {
  for (; blocks > 0; --blocks, p += 64) {
    std::array<std::uint32_t, 64> w{};
    for (int t = 0; t < 16; ++t) {
      w[t] = (std::uint32_t{p[4 * t]} << 24) | (std::uint32_t{p[4 * t + 1]} << 16) |
             (std::uint32_t{p[4 * t + 2]} << 8) | std::uint32_t{p[4 * t + 3]};
    }
    for (int t = 16; t < 64; ++t) {
      const std::uint32_t s0 = rotr(w[t - 15], 7) ^ rotr(w[t - 15], 18) ^ (w[t - 15] >> 3);
      const std::uint32_t s1 = rotr(w[t - 2], 17) ^ rotr(w[t - 2], 19) ^ (w[t - 2] >> 10);
      w[t] = w[t - 16] + s0 + w[t - 7] + s1;
    }
    std::uint32_t a = state[0], b = state[1], c = state[2], d = state[3];
    std::uint32_t e = state[4], f = state[5], g = state[6], h = state[7];
    for (int t = 0; t < 64; ++t) {
      const std::uint32_t t1 =
          h + (rotr(e, 6) ^ rotr(e, 11) ^ rotr(e, 25)) + ((e & f) ^ (~e & g)) + kRound[t] + w[t];
      const std::uint32_t t2 =
          (rotr(a, 2) ^ rotr(a, 13) ^ rotr(a, 22)) + ((a & b) ^ (a & c) ^ (b & c));
      h = g;
      g = f;
      f = e;
      e = d + t1;
      d = c;
      c = b;
      b = a;
      a = t1 + t2;
    }
    state[0] += a;
    state[1] += b;
    state[2] += c;
    state[3] += d;
    state[4] += e;
    state[5] += f;
    state[6] += g;
    state[7] += h;
  }
}

#if (defined(__x86_64__) || defined(__i386__)) && defined(__GNUC__)
namespace {

// Whether this CPU has the SHA extensions and SSE4.1 (cpuid leaf 7, EBX
// bit 29; leaf 1, ECX bit 19).
bool cpu_has_sha_extensions() {
  unsigned eax = 0, ebx = 0, ecx = 0, edx = 0;
  if (__get_cpuid_max(0, nullptr) < 7) return false;
  __cpuid(1, eax, ebx, ecx, edx);
  const bool sse41 = (ecx >> 19) & 1;
  __cpuid_count(7, 0, eax, ebx, ecx, edx);
  return sse41 && ((ebx >> 29) & 1);
}

// The state as the SHA instructions hold it: ABEF and CDGH, each with the
// first named word in the highest lane. Two rounds per sha256rnds2 (the
// round constants plus message words in its third operand's low lanes);
// sha256msg1/msg2 compute four message-schedule words from the 16 before.
__attribute__((target("sha,sse4.1"))) void compress_with_sha(std::uint32_t* h,
                                                             const std::uint8_t* p,
                                                             std::size_t blocks) {
  // Bytes of each 32-bit word reversed: the message is big-endian.
  const __m128i byte_swap = _mm_set_epi64x(0x0c0d0e0f08090a0bULL, 0x0405060700010203ULL);
  __m128i dcba = _mm_loadu_si128(reinterpret_cast<const __m128i*>(h));
  __m128i hgfe = _mm_loadu_si128(reinterpret_cast<const __m128i*>(h + 4));
  dcba = _mm_shuffle_epi32(dcba, 0xB1);              // lanes B A D C
  hgfe = _mm_shuffle_epi32(hgfe, 0x1B);              // lanes H G F E
  __m128i abef = _mm_alignr_epi8(dcba, hgfe, 8);     // lanes F E B A
  __m128i cdgh = _mm_blend_epi16(hgfe, dcba, 0xF0);  // lanes H G D C
  for (; blocks > 0; --blocks, p += 64) {
    const __m128i abef_before = abef;
    const __m128i cdgh_before = cdgh;
    // The message words 4g..4g+3 of the last four groups (an array of its
    // own: std::array<__m128i> drops the type's alignment attribute).
    __m128i w[4];
    for (int g = 0; g < 16; ++g) {
      __m128i words;
      if (g < 4) {
        words = _mm_shuffle_epi8(_mm_loadu_si128(reinterpret_cast<const __m128i*>(p + 16 * g)),
                                 byte_swap);
      } else {
        // W[t] = s1(W[t-2]) + W[t-7] + s0(W[t-15]) + W[t-16], t = 4g..4g+3.
        __m128i x = _mm_sha256msg1_epu32(w[g % 4], w[(g + 1) % 4]);
        x = _mm_add_epi32(x, _mm_alignr_epi8(w[(g + 3) % 4], w[(g + 2) % 4], 4));
        words = _mm_sha256msg2_epu32(x, w[(g + 3) % 4]);
      }
      w[g % 4] = words;
      __m128i wk = _mm_add_epi32(
          words, _mm_loadu_si128(reinterpret_cast<const __m128i*>(kRound.data() + 4 * g)));
      cdgh = _mm_sha256rnds2_epu32(cdgh, abef, wk);  // rounds 4g, 4g+1: new ABEF
      wk = _mm_shuffle_epi32(wk, 0x0E);
      abef = _mm_sha256rnds2_epu32(abef, cdgh, wk);  // rounds 4g+2, 4g+3
    }
    abef = _mm_add_epi32(abef, abef_before);
    cdgh = _mm_add_epi32(cdgh, cdgh_before);
  }
  const __m128i feba = _mm_shuffle_epi32(abef, 0x1B);  // lanes A B E F
  const __m128i ghcd = _mm_shuffle_epi32(cdgh, 0xB1);  // lanes G H C D
  _mm_storeu_si128(reinterpret_cast<__m128i*>(h), _mm_blend_epi16(feba, ghcd, 0xF0));
  _mm_storeu_si128(reinterpret_cast<__m128i*>(h + 4), _mm_alignr_epi8(ghcd, feba, 8));
}

}  // namespace

bool compress_sha_extensions(std::uint32_t* state, const std::uint8_t* p, std::size_t blocks) {
  static const bool kAvailable = cpu_has_sha_extensions();
  if (!kAvailable) return false;
  compress_with_sha(state, p, blocks);
  return true;
}
#else
bool compress_sha_extensions(std::uint32_t*, const std::uint8_t*, std::size_t) { return false; }
#endif

}  // namespace sha256_detail

namespace {

// The SHA extensions unless the CPU lacks them or MIDGE_SHA256=portable.
bool use_sha_extensions() {
  static const bool kUse = [] {
    const char* choice = std::getenv("MIDGE_SHA256");
    if (choice != nullptr && std::string(choice) == "portable") return false;
    std::uint32_t h[8] = {};
    const std::uint8_t block[64] = {};
    return sha256_detail::compress_sha_extensions(h, block, 1);
  }();
  return kUse;
}

}  // namespace

void Sha256::compress(const std::uint8_t* p, std::size_t blocks) {
  if (!use_sha_extensions() || !sha256_detail::compress_sha_extensions(h_.data(), p, blocks)) {
    sha256_detail::compress_portable(h_.data(), p, blocks);
  }
}

void Sha256::update(const void* data, std::size_t n) {
  const auto* p = static_cast<const std::uint8_t*>(data);
  bytes_ += n;
  if (used_ > 0) {  // first complete the buffered block
    const std::size_t take = std::min(n, buffer_.size() - used_);
    std::memcpy(buffer_.data() + used_, p, take);
    used_ += take;
    p += take;
    n -= take;
    if (used_ < buffer_.size()) return;
    compress(buffer_.data(), 1);
    used_ = 0;
  }
  // Whole blocks straight from the caller's bytes, the rest buffered.
  const std::size_t blocks = n / buffer_.size();
  if (blocks > 0) compress(p, blocks);
  p += blocks * buffer_.size();
  n -= blocks * buffer_.size();
  std::memcpy(buffer_.data(), p, n);
  used_ = n;
}

std::string Sha256::hex() {
  // Padding (5.1.1): a 1 bit, zeros to 56 bytes mod 64, the bit length.
  const std::uint64_t bits = bytes_ * 8;
  const std::uint8_t one = 0x80;
  update(&one, 1);
  const std::uint8_t zero = 0;
  while (used_ != 56) update(&zero, 1);
  std::uint8_t length[8];
  for (int i = 0; i < 8; ++i) length[i] = static_cast<std::uint8_t>(bits >> (56 - 8 * i));
  update(length, 8);
  std::string out;
  char two[3];
  for (std::uint32_t v : h_) {
    for (int shift = 24; shift >= 0; shift -= 8) {
      std::snprintf(two, sizeof(two), "%02x", static_cast<unsigned>((v >> shift) & 0xff));
      out += two;
    }
  }
  return out;
}

std::string sha256_hex(std::string_view bytes) {
  Sha256 h;
  h.update(bytes);
  return h.hex();
}

std::string sha256_file(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) throw IoError("cannot read " + path + " to hash it");
  Sha256 h;
  std::vector<char> buf(1 << 16);
  while (in) {
    in.read(buf.data(), static_cast<std::streamsize>(buf.size()));
    h.update(buf.data(), static_cast<std::size_t>(in.gcount()));
  }
  if (in.bad()) throw IoError("error reading " + path + " to hash it");
  return h.hex();
}

}  // namespace midge
