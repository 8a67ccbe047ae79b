#include <gtest/gtest.h>

#include <fstream>
#include <string>

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
