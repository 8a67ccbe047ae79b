#include <gtest/gtest.h>

#include <cstdint>
#include <random>
#include <string>
#include <vector>

#include "core/crc32.h"

namespace midge {
namespace {

// The CRC one bit at a time, straight from the polynomial: what the table
// version must equal at every length and alignment.
std::uint32_t crc_bitwise(const unsigned char* p, std::size_t n) {
  std::uint32_t c = 0xFFFFFFFFU;
  for (std::size_t i = 0; i < n; ++i) {
    c ^= p[i];
    for (int k = 0; k < 8; ++k) c = (c >> 1) ^ (0xEDB88320U & (0U - (c & 1U)));
  }
  return ~c;
}

TEST(Crc32, KnownValues) {
  const std::string check = "123456789";
  EXPECT_EQ(crc32_update(0, check.data(), check.size()), 0xCBF43926U);  // the standard check value
  EXPECT_EQ(crc32_update(0, "", 0), 0U);
  const std::string fox = "The quick brown fox jumps over the lazy dog";
  EXPECT_EQ(crc32_update(0, fox.data(), fox.size()), 0x414FA339U);  // zlib.crc32
}

TEST(Crc32, EqualsTheBitwiseDefinitionAtEveryLengthAndAlignment) {
  std::mt19937 rng(7);
  std::vector<unsigned char> bytes(300);
  for (auto& b : bytes) b = static_cast<unsigned char>(rng());
  for (std::size_t start = 0; start < 9; ++start) {
    for (std::size_t n = 0; n + start <= bytes.size(); n += 7) {
      ASSERT_EQ(crc32_update(0, bytes.data() + start, n), crc_bitwise(bytes.data() + start, n))
          << "start " << start << ", " << n << " bytes";
    }
  }
}

TEST(Crc32, ContinuesAcrossPieces) {
  const std::string all = "per-dataset checksums of midge's HDF5 files";
  for (std::size_t cut = 0; cut <= all.size(); ++cut) {
    const auto first = crc32_update(0, all.data(), cut);
    EXPECT_EQ(crc32_update(first, all.data() + cut, all.size() - cut),
              crc32_update(0, all.data(), all.size()));
  }
}

// Carry-less multiplication (where the CPU has it) against the tables and
// the bit-by-bit definition: every length to 1000 (the folds start at 64
// bytes, the tail after the last 16-byte block goes to the tables) at six
// offsets from 0 to 15, a continued CRC, and 1 MB at once.
TEST(Crc32, CarrylessEqualsTablesAndDefinition) {
  std::uint32_t probe = 0;
  if (!crc32_detail::update_clmul(&probe, "", 0)) GTEST_SKIP() << "no PCLMULQDQ on this CPU";
  std::mt19937 rng(11);
  std::vector<unsigned char> bytes(1 << 20);
  for (auto& b : bytes) b = static_cast<unsigned char>(rng());
  for (std::size_t start = 0; start < 16; start += 3) {
    for (std::size_t n = 0; n <= 1000; ++n) {
      std::uint32_t fast = 0x12345678U;
      ASSERT_TRUE(crc32_detail::update_clmul(&fast, bytes.data() + start, n));
      ASSERT_EQ(fast, crc32_detail::update_portable(0x12345678U, bytes.data() + start, n))
          << "start " << start << ", " << n << " bytes";
    }
  }
  std::uint32_t whole = 0;
  crc32_detail::update_clmul(&whole, bytes.data(), bytes.size());
  EXPECT_EQ(whole, crc_bitwise(bytes.data(), bytes.size()));
  EXPECT_EQ(crc32_update(0, bytes.data(), bytes.size()), whole);
}

}  // namespace
}  // namespace midge
