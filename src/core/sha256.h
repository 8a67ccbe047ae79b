// SHA-256 (FIPS 180-4) of bytes and files: the content hash of every image
// a run used (run.h5 /split/*/sha256), so that a replay can prove it saw
// the same pixels and name an image that changed, and the collector can
// tell that two runs were validated on the same images.
//
// A self-contained implementation of the published algorithm: hashing
// needs no crypto library at build time, and the digest is the standard
// one (`sha256sum` prints the same hex). Where the CPU has the SHA
// extensions (x86's SHA-NI: Intel since Ice Lake, AMD since Zen), blocks
// are compressed with them, ~5x faster: result files are sealed with
// SHA-256 (io/integrity.h), so every checkpoint write and every checked
// load hashes the whole file. MIDGE_SHA256=portable in the environment
// keeps to the portable code (to compare the two; bench/checksums.sh).
#pragma once

#include <array>
#include <cstdint>
#include <string>
#include <string_view>

namespace midge {

class Sha256 {
 public:
  Sha256();
  void update(const void* data, std::size_t n);
  void update(std::string_view s) { update(s.data(), s.size()); }
  // The digest as 64 lower-case hex digits; the object is spent after it.
  std::string hex();

 private:
  void compress(const std::uint8_t* p, std::size_t blocks);
  std::array<std::uint32_t, 8> h_;
  std::array<std::uint8_t, 64> buffer_{};
  std::size_t used_ = 0;
  std::uint64_t bytes_ = 0;
};

std::string sha256_hex(std::string_view bytes);

// The two compression functions behind Sha256: `blocks` 64-byte blocks at
// `p` folded into the eight-word `state`. For the test that holds one to the other.
namespace sha256_detail {
void compress_portable(std::uint32_t* state, const std::uint8_t* p, std::size_t blocks);
// False, doing nothing, where the CPU (or the build's target) lacks them.
bool compress_sha_extensions(std::uint32_t* state, const std::uint8_t* p, std::size_t blocks);
}  // namespace sha256_detail

// The hex digest of a file's bytes; throws IoError naming the file when it
// cannot be read.
std::string sha256_file(const std::string& path);

}  // namespace midge
