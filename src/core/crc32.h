// CRC-32 (the IEEE 802.3 polynomial, as zlib's crc32 and Python's
// zlib.crc32 compute it) of bytes: the per-dataset checksum of every HDF5
// file midge writes (io/integrity.h), cheap enough to compute on every
// save of a ResNet-50 checkpoint, and checkable with any zlib.
//
// Where the CPU multiplies carry-less (x86's PCLMULQDQ: Intel since 2010,
// AMD since 2011), 64 bytes are folded per step with it, ~10x faster;
// elsewhere slicing-by-8 over tables built once (about 8 bytes per table
// step instead of one), chosen at run time, so one binary runs on every
// cluster's nodes. MIDGE_CRC32=portable in the environment keeps to the
// tables (to compare the two; bench/checksums.sh).
#pragma once

#include <cstddef>
#include <cstdint>

namespace midge {

// The CRC of `n` bytes at `data`, continuing from `crc` (0 to start).
std::uint32_t crc32_update(std::uint32_t crc, const void* data, std::size_t n);

// The two ways behind crc32_update, for the test that holds one to the other.
namespace crc32_detail {
std::uint32_t update_portable(std::uint32_t crc, const void* data, std::size_t n);
// False, doing nothing, where the CPU (or the build's target) lacks them.
bool update_clmul(std::uint32_t* crc, const void* data, std::size_t n);
}  // namespace crc32_detail

}  // namespace midge
