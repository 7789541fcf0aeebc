// Arithmetic on untrusted numbers. Offsets, sizes, counts and addresses in a
// dump or a VMCOREINFO note come from a dead kernel or a damaged file; a sum
// or product of two of them may wrap, and a bounds check on a wrapped value
// passes while the access it guards does not fit. Every parser combines such
// numbers through these, so wrapping cannot happen by construction.
#pragma once

#include <cstdint>
#include <optional>

namespace vmc {

// a + b, or nullopt when it does not fit 64 bits.
inline std::optional<uint64_t> checked_add(uint64_t a, uint64_t b) {
  uint64_t sum = 0;
  if (__builtin_add_overflow(a, b, &sum)) return std::nullopt;
  return sum;
}

// a * b, or nullopt when it does not fit 64 bits.
inline std::optional<uint64_t> checked_mul(uint64_t a, uint64_t b) {
  uint64_t product = 0;
  if (__builtin_mul_overflow(a, b, &product)) return std::nullopt;
  return product;
}

// offset + length <= limit, without overflowing: [offset, offset + length)
// lies inside [0, limit).
inline bool fits_within(uint64_t offset, uint64_t length, uint64_t limit) {
  return offset <= limit && length <= limit - offset;
}

}  // namespace vmc
