#include <gtest/gtest.h>

#include <array>
#include <cstdint>
#include <fstream>
#include <random>
#include <string>
#include <vector>

#include "core/errors.h"
#include "core/sha256.h"
#include "support/temp_dir.h"

namespace midge {
namespace {

TEST(Sha256, MatchesTheFipsExamplesAndSha256sum) {
  // FIPS 180-4 / NIST examples (also what `sha256sum` prints).
  EXPECT_EQ(sha256_hex("abc"), "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
  EXPECT_EQ(sha256_hex(""), "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
  EXPECT_EQ(sha256_hex("abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq"),
            "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1");
  // A million 'a', fed in uneven pieces that cross block boundaries.
  Sha256 h;
  const std::string piece(997, 'a');
  std::size_t left = 1000000;
  while (left > 0) {
    const std::size_t n = std::min(left, piece.size());
    h.update(piece.data(), n);
    left -= n;
  }
  EXPECT_EQ(h.hex(), "cdc76e5c9914fb9281a1c7e284d73e67f1809a48a497200e046d39ccc7112cd0");
}

// The SHA extensions' compression (x86 SHA-NI) against the portable one,
// from random states over runs of 1 to 40 random blocks. Skipped, saying
// so, on a CPU without them (this machine and the GPU nodes have them).
TEST(Sha256, ShaExtensionsCompressLikeThePortableCode) {
  std::mt19937 rng(27);
  std::vector<std::uint8_t> bytes(64 * 40);
  std::array<std::uint32_t, 8> fast{};
  std::array<std::uint32_t, 8> portable{};
  for (int trial = 0; trial < 200; ++trial) {
    for (auto& b : bytes) b = static_cast<std::uint8_t>(rng());
    for (auto& word : fast) word = static_cast<std::uint32_t>(rng());
    portable = fast;
    const std::size_t blocks = 1 + static_cast<std::size_t>(trial % 40);
    if (!sha256_detail::compress_sha_extensions(fast.data(), bytes.data(), blocks)) {
      GTEST_SKIP() << "this CPU has no SHA extensions";
    }
    sha256_detail::compress_portable(portable.data(), bytes.data(), blocks);
    ASSERT_EQ(fast, portable) << "trial " << trial << ", " << blocks << " block(s)";
  }
}

TEST(Sha256, HashesAFileAndNamesOneItCannotRead) {
  testing::TempDir dir;
  const std::string path = dir.str("bytes.bin");
  std::string bytes;
  for (int r = 0; r < 5; ++r)
    for (int i = 0; i < 256; ++i) bytes += static_cast<char>(i);
  std::ofstream(path, std::ios::binary) << bytes;
  // hashlib.sha256(bytes(range(256)) * 5).hexdigest()
  EXPECT_EQ(sha256_file(path), "d414b085826eb06778483ba35564dc849e643359f69ed9747878ba6e54985bed");
  try {
    sha256_file(dir.str("missing.png"));
    FAIL() << "a missing file was hashed";
  } catch (const IoError& e) {
    EXPECT_NE(std::string(e.what()).find("missing.png"), std::string::npos);
  }
}

}  // namespace
}  // namespace midge
