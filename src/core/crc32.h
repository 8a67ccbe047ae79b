// CRC-32 (the IEEE 802.3 polynomial, as zlib's crc32 and Python's
// zlib.crc32 compute it) of bytes: the per-dataset checksum of every HDF5
// file midge writes (io/integrity.h), cheap enough to compute on every
// save of a ResNet-50 checkpoint, and checkable with any zlib.
//
// Slicing-by-8 over tables built once: about 8 bytes per table step
// instead of one, with no CPU-specific instructions (the code runs on
// every cluster's nodes alike).
#pragma once

#include <cstddef>
#include <cstdint>

namespace midge {

// The CRC of `n` bytes at `data`, continuing from `crc` (0 to start).
std::uint32_t crc32_update(std::uint32_t crc, const void* data, std::size_t n);

}  // namespace midge
