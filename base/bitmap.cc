#include "base/bitmap.h"

namespace vmc {

void set_bit_range(std::span<uint64_t> bits, uint64_t begin, uint64_t end) {
  while (begin < end && begin % 64 != 0) set_bit(bits, begin++);
  while (begin + 64 <= end) {
    bits[begin / 64] = ~uint64_t{0};
    begin += 64;
  }
  while (begin < end) set_bit(bits, begin++);
}

uint64_t next_set_bit(std::span<const uint64_t> bits, uint64_t i, uint64_t limit) {
  while (i < limit) {
    uint64_t word = bits[i / 64] >> (i % 64);
    if (word != 0) {
      uint64_t found = i + static_cast<uint64_t>(std::countr_zero(word));
      return found < limit ? found : limit;
    }
    i = (i / 64 + 1) * 64;
  }
  return limit;
}

}  // namespace vmc
