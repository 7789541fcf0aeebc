// Private to compress/: the per-codec factories that codec.cc dispatches to,
// and small helpers the codec files share. Not for users of the library.
#pragma once

#include <cstddef>
#include <memory>
#include <span>


// Set to 0 or 1 by compress/CMakeLists.txt (PUBLIC, so tests see them too).
#ifndef VMC_COMPRESS_WITH_LZO
#define VMC_COMPRESS_WITH_LZO 0
#endif
#ifndef VMC_COMPRESS_WITH_SNAPPY
#define VMC_COMPRESS_WITH_SNAPPY 0
#endif
#ifndef VMC_COMPRESS_WITH_ZSTD
#define VMC_COMPRESS_WITH_ZSTD 0
#endif

namespace vmc::compress {
// Declared, not included: codec.cc includes this header to dispatch, so
// including codec.h here would make the two modules include each other.
class Codec;
}  // namespace vmc::compress

namespace vmc::compress::detail {

std::unique_ptr<Codec> make_zlib_codec();
#if VMC_COMPRESS_WITH_LZO
std::unique_ptr<Codec> make_lzo_codec();
#endif
#if VMC_COMPRESS_WITH_SNAPPY
std::unique_ptr<Codec> make_snappy_codec();
#endif
#if VMC_COMPRESS_WITH_ZSTD
std::unique_ptr<Codec> make_zstd_codec();
#endif

// is_zero_page's implementations, exposed so the tests can check each one:
// the portable one, and on x86-64 the SSE2 one is_zero_page uses.
bool is_zero_portable(const unsigned char* p, size_t n);
#if defined(__SSE2__)
bool is_zero_sse2(const unsigned char* p, size_t n);
#endif

// The libraries take char or unsigned char pointers.
template <typename T>
inline const T* in_ptr(std::span<const std::byte> s) {
  return reinterpret_cast<const T*>(s.data());
}
template <typename T>
inline T* out_ptr(std::span<std::byte> s) {
  return reinterpret_cast<T*>(s.data());
}

}  // namespace vmc::compress::detail
