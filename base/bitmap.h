// Word bitmaps for a cycle of pfns: bit (pfn - start) of a vector<uint64_t>.
#pragma once

#include <bit>
#include <cstdint>
#include <span>
#include <vector>

namespace vmc {

inline bool test_bit(std::span<const uint64_t> bits, uint64_t i) {
  return (bits[i / 64] >> (i % 64)) & 1;
}
inline void set_bit(std::span<uint64_t> bits, uint64_t i) { bits[i / 64] |= uint64_t{1} << (i % 64); }
inline void clear_bit(std::span<uint64_t> bits, uint64_t i) {
  bits[i / 64] &= ~(uint64_t{1} << (i % 64));
}
inline uint64_t count_bits(std::span<const uint64_t> bits) {
  uint64_t n = 0;
  for (uint64_t w : bits) n += static_cast<uint64_t>(std::popcount(w));
  return n;
}
// Sets bits [begin, end).
void set_bit_range(std::span<uint64_t> bits, uint64_t begin, uint64_t end);
// Index of the next set bit at or after i, or limit.
uint64_t next_set_bit(std::span<const uint64_t> bits, uint64_t i, uint64_t limit);

inline size_t words_for(uint64_t nbits) { return static_cast<size_t>((nbits + 63) / 64); }

}  // namespace vmc
