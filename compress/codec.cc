// Codec names and the factory. Each codec lives in its own file
// (zlib_codec.cc, lzo_codec.cc, snappy_codec.cc, zstd_codec.cc); the ones left
// out by the CMake options are simply not compiled.
#include "compress/codec.h"

#include "compress/codec_impl.h"

namespace vmc::compress {

std::string_view codec_name(CodecKind kind) {
  switch (kind) {
    case CodecKind::kNone: return "none";
    case CodecKind::kZlib: return "zlib";
    case CodecKind::kLzo: return "lzo";
    case CodecKind::kSnappy: return "snappy";
    case CodecKind::kZstd: return "zstd";
  }
  return "unknown";
}

bool codec_available(CodecKind kind) {
  switch (kind) {
    case CodecKind::kNone:
    case CodecKind::kZlib: return true;
    case CodecKind::kLzo: return VMC_COMPRESS_WITH_LZO != 0;
    case CodecKind::kSnappy: return VMC_COMPRESS_WITH_SNAPPY != 0;
    case CodecKind::kZstd: return VMC_COMPRESS_WITH_ZSTD != 0;
  }
  return false;
}

std::unique_ptr<Codec> make_codec(CodecKind kind) {
  switch (kind) {
    case CodecKind::kNone: return nullptr;
    case CodecKind::kZlib: return detail::make_zlib_codec();
    case CodecKind::kLzo:
#if VMC_COMPRESS_WITH_LZO
      return detail::make_lzo_codec();
#else
      return nullptr;
#endif
    case CodecKind::kSnappy:
#if VMC_COMPRESS_WITH_SNAPPY
      return detail::make_snappy_codec();
#else
      return nullptr;
#endif
    case CodecKind::kZstd:
#if VMC_COMPRESS_WITH_ZSTD
      return detail::make_zstd_codec();
#else
      return nullptr;
#endif
  }
  return nullptr;
}

}  // namespace vmc::compress
