#include "core/crc32.h"

#include <array>
#include <cstdlib>
#include <cstring>
#include <string>

#if (defined(__x86_64__) || defined(__i386__)) && defined(__GNUC__)
#include <cpuid.h>
#include <immintrin.h>
#endif

namespace midge {
namespace {

// The reflected IEEE polynomial.
constexpr std::uint32_t kPolynomial = 0xEDB88320U;

struct Tables {
  std::array<std::array<std::uint32_t, 256>, 8> t{};
  Tables() {
    for (std::uint32_t i = 0; i < 256; ++i) {
      std::uint32_t c = i;
      for (int k = 0; k < 8; ++k) c = (c & 1U) != 0 ? kPolynomial ^ (c >> 1) : c >> 1;
      t[0][i] = c;
    }
    // t[s][i]: the CRC of byte i followed by s zero bytes, so that eight
    // bytes are folded in with eight independent lookups.
    for (std::size_t s = 1; s < 8; ++s) {
      for (std::size_t i = 0; i < 256; ++i)
        t[s][i] = (t[s - 1][i] >> 8) ^ t[0][t[s - 1][i] & 0xFFU];
    }
  }
};

const Tables& tables() {
  static const Tables kTables;
  return kTables;
}

}  // namespace

namespace crc32_detail {

std::uint32_t update_portable(std::uint32_t crc, const void* data, std::size_t n) {
  const auto& t = tables().t;
  const auto* p = static_cast<const unsigned char*>(data);
  std::uint32_t c = ~crc;
  // The eight-byte step reads the bytes in memory order, so it holds on
  // little- and big-endian machines alike.
  while (n >= 8) {
    const std::uint32_t lo = c ^ (std::uint32_t{p[0]} | std::uint32_t{p[1]} << 8 |
                                  std::uint32_t{p[2]} << 16 | std::uint32_t{p[3]} << 24);
    c = t[7][lo & 0xFFU] ^ t[6][(lo >> 8) & 0xFFU] ^ t[5][(lo >> 16) & 0xFFU] ^ t[4][lo >> 24] ^
        t[3][p[4]] ^ t[2][p[5]] ^ t[1][p[6]] ^ t[0][p[7]];
    p += 8;
    n -= 8;
  }
  while (n-- > 0) c = (c >> 8) ^ t[0][(c ^ *p++) & 0xFFU];
  return ~c;
}

#if (defined(__x86_64__) || defined(__i386__)) && defined(__GNUC__)
namespace {

// Whether this CPU has carry-less multiplication (cpuid leaf 1, ECX bit 1)
// and SSE4.1 (bit 19).
bool cpu_has_clmul() {
  unsigned eax = 0, ebx = 0, ecx = 0, edx = 0;
  if (__get_cpuid(1, &eax, &ebx, &ecx, &edx) == 0) return false;
  return ((ecx >> 1) & 1) != 0 && ((ecx >> 19) & 1) != 0;
}

// Folding with carry-less multiplication (Gopal et al., "Fast CRC
// Computation for Generic Polynomials Using PCLMULQDQ Instruction", Intel,
// 2009), in the bit-reflected form of this CRC. The register state is
// the CRC's remainder spread over 128-bit lanes: multiplying a lane by
// x^k mod P (the constants) moves its contribution k bits further on,
// where it is added (XOR) to the data there. Four lanes fold 64 bytes per
// step, then the lanes fold into one, one lane folds the remaining
// 16-byte blocks, and 128 bits are reduced to the 32-bit remainder (a
// fold to 64 bits, then Barrett's reduction). `n` is a multiple of 16, at
// least 64; `c` the running (inverted) remainder.
// The constants, bit-reflected: x^(512+32) and x^(512-32) mod P for the
// 64-byte fold;
constexpr std::uint64_t kFold4Low = 0x154442bd4ULL, kFold4High = 0x1c6e41596ULL;
// x^(128+32), x^(128-32) for the 16-byte fold; x^64 for 128 -> 64 bits;
constexpr std::uint64_t kFold1Low = 0x1751997d0ULL, kFold1High = 0x0ccaa009eULL;
constexpr std::uint64_t kFold64 = 0x163cd6124ULL;
// P itself (reflected, with its x^32 term) and Barrett's mu = x^64 / P.
constexpr std::uint64_t kPolynomial64 = 0x1db710641ULL, kBarrettMu = 0x1f7011641ULL;

__attribute__((target("pclmul,sse4.1"))) __m128i fold(__m128i lane, __m128i k, __m128i data) {
  const __m128i low = _mm_clmulepi64_si128(lane, k, 0x00);
  const __m128i high = _mm_clmulepi64_si128(lane, k, 0x11);
  return _mm_xor_si128(_mm_xor_si128(low, high), data);
}

__attribute__((target("pclmul,sse4.1"))) std::uint32_t fold_clmul(std::uint32_t c,
                                                                  const unsigned char* p,
                                                                  std::size_t n) {
  auto load = [](const unsigned char* at) {
    return _mm_loadu_si128(reinterpret_cast<const __m128i*>(at));
  };
  __m128i lane[4] = {_mm_xor_si128(load(p), _mm_cvtsi32_si128(static_cast<int>(c))), load(p + 16),
                     load(p + 32), load(p + 48)};
  p += 64;
  n -= 64;
  const __m128i k4 =
      _mm_set_epi64x(static_cast<long long>(kFold4High), static_cast<long long>(kFold4Low));
  for (; n >= 64; p += 64, n -= 64) {
    for (int i = 0; i < 4; ++i) lane[i] = fold(lane[i], k4, load(p + 16 * i));
  }
  const __m128i k1 =
      _mm_set_epi64x(static_cast<long long>(kFold1High), static_cast<long long>(kFold1Low));
  __m128i x = lane[0];
  for (int i = 1; i < 4; ++i) x = fold(x, k1, lane[i]);
  for (; n >= 16; p += 16, n -= 16) x = fold(x, k1, load(p));
  // 128 -> 64 bits: the low half times x^96 mod P added to the high half,
  // then the low 32 bits of that times x^64 mod P added to the rest.
  const __m128i low32 = _mm_setr_epi32(-1, 0, -1, 0);
  x = _mm_xor_si128(_mm_clmulepi64_si128(x, k1, 0x10), _mm_srli_si128(x, 8));
  const __m128i k64 = _mm_set_epi64x(0, static_cast<long long>(kFold64));
  x = _mm_xor_si128(_mm_clmulepi64_si128(_mm_and_si128(x, low32), k64, 0x00), _mm_srli_si128(x, 4));
  // Barrett: q = floor(x / P) from mu, then x - q * P leaves the remainder
  // in bits 32..63.
  const __m128i pm =
      _mm_set_epi64x(static_cast<long long>(kBarrettMu), static_cast<long long>(kPolynomial64));
  __m128i q = _mm_clmulepi64_si128(_mm_and_si128(x, low32), pm, 0x10);
  q = _mm_clmulepi64_si128(_mm_and_si128(q, low32), pm, 0x00);
  return static_cast<std::uint32_t>(_mm_extract_epi32(_mm_xor_si128(x, q), 1));
}

}  // namespace

bool update_clmul(std::uint32_t* crc, const void* data, std::size_t n) {
  static const bool kAvailable = cpu_has_clmul();
  if (!kAvailable) return false;
  const auto* p = static_cast<const unsigned char*>(data);
  std::uint32_t c = ~*crc;
  const std::size_t blocks = n < 64 ? 0 : n & ~std::size_t{15};
  if (blocks > 0) c = fold_clmul(c, p, blocks);
  *crc = update_portable(~c, p + blocks, n - blocks);
  return true;
}
#else
bool update_clmul(std::uint32_t*, const void*, std::size_t) { return false; }
#endif

}  // namespace crc32_detail

namespace {

// Carry-less multiplication unless the CPU lacks it or MIDGE_CRC32=portable.
bool use_clmul() {
  static const bool kUse = [] {
    const char* choice = std::getenv("MIDGE_CRC32");
    if (choice != nullptr && std::string(choice) == "portable") return false;
    std::uint32_t c = 0;
    return crc32_detail::update_clmul(&c, "", 0);
  }();
  return kUse;
}

}  // namespace

std::uint32_t crc32_update(std::uint32_t crc, const void* data, std::size_t n) {
  if (use_clmul() && crc32_detail::update_clmul(&crc, data, n)) return crc;
  return crc32_detail::update_portable(crc, data, n);
}

}  // namespace midge
