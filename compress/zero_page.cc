// is_zero_page: run on every page of the dump before anything else, so it is
// written for speed. The first 8 bytes are looked at alone (most pages that
// are not zero say so at once), then 64-byte blocks are OR-ed together, with
// an exit after each block. On x86-64 the blocks use SSE2 (always present
// there); elsewhere 64-bit words. The loads are unaligned-safe.
#include <cstdint>
#include <cstring>

#include "compress/codec.h"
#include "compress/codec_impl.h"

#if defined(__SSE2__)
#include <emmintrin.h>
#endif

namespace vmc::compress {
namespace detail {
namespace {

inline uint64_t load64(const unsigned char* p) {
  uint64_t v;
  std::memcpy(&v, p, sizeof v);
  return v;
}

// The bytes left after the 64-byte blocks.
inline bool tail_is_zero(const unsigned char* p, size_t n) {
  uint64_t acc = 0;
  for (; n >= 8; p += 8, n -= 8) acc |= load64(p);
  for (; n > 0; ++p, --n) acc |= *p;
  return acc == 0;
}

}  // namespace

bool is_zero_portable(const unsigned char* p, size_t n) {
  if (n >= 8 && load64(p) != 0) return false;
  for (; n >= 64; p += 64, n -= 64) {
    uint64_t acc = load64(p) | load64(p + 8) | load64(p + 16) | load64(p + 24) | load64(p + 32) |
                   load64(p + 40) | load64(p + 48) | load64(p + 56);
    if (acc != 0) return false;
  }
  return tail_is_zero(p, n);
}

#if defined(__SSE2__)
bool is_zero_sse2(const unsigned char* p, size_t n) {
  if (n >= 8 && load64(p) != 0) return false;
  const __m128i zero = _mm_setzero_si128();
  for (; n >= 64; p += 64, n -= 64) {
    __m128i a = _mm_loadu_si128(reinterpret_cast<const __m128i*>(p));
    __m128i b = _mm_loadu_si128(reinterpret_cast<const __m128i*>(p + 16));
    __m128i c = _mm_loadu_si128(reinterpret_cast<const __m128i*>(p + 32));
    __m128i d = _mm_loadu_si128(reinterpret_cast<const __m128i*>(p + 48));
    __m128i acc = _mm_or_si128(_mm_or_si128(a, b), _mm_or_si128(c, d));
    if (_mm_movemask_epi8(_mm_cmpeq_epi8(acc, zero)) != 0xFFFF) return false;
  }
  return tail_is_zero(p, n);
}
#endif

}  // namespace detail

bool is_zero_page(std::span<const std::byte> page) {
  const auto* p = reinterpret_cast<const unsigned char*>(page.data());
#if defined(__SSE2__)
  return detail::is_zero_sse2(p, page.size());
#else
  return detail::is_zero_portable(p, page.size());
#endif
}

}  // namespace vmc::compress
