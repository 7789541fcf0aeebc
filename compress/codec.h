// Page codecs: one 4 KiB (or any page-sized) block in, one block out, each page
// compressed on its own, exactly as makedumpfile stores pages in the
// kdump-compressed format. Everything written here must be readable by
// makedumpfile, crash and libkdumpfile, which decode a page with:
//   zlib    uncompress()            (zlib-wrapped deflate, compress2 level 1)
//   lzo     lzo1x_decompress_safe() (LZO1X-1)
//   snappy  snappy_uncompress()
//   zstd    ZSTD_decompress()       (one frame, level 1)
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <span>
#include <string_view>

namespace vmc::compress {

enum class CodecKind : uint8_t { kNone, kZlib, kLzo, kSnappy, kZstd };

// "none", "zlib", "lzo", "snappy", "zstd" ("unknown" for a value outside the enum).
std::string_view codec_name(CodecKind kind);

// Not thread-safe: one per thread, reused for every page. A codec keeps its
// library context (z_stream, ZSTD_CCtx/DCtx, LZO work memory) between pages.
class Codec {
 public:
  virtual ~Codec() = default;
  virtual CodecKind kind() const = 0;
  // dst capacity compress() needs to be sure never to give up for lack of room.
  virtual size_t max_compressed_size(size_t input_size) const = 0;
  // Compresses src into dst. Returns the compressed size, or 0 when the result
  // is not smaller than src (the caller then stores the page raw, as
  // makedumpfile does). A dst smaller than max_compressed_size() is allowed:
  // the bytes are the same as with a full-size dst when they fit in it, and
  // the result is 0 when they do not (some codecs then go through a scratch
  // buffer, so give the full size on hot paths). Never throws.
  virtual size_t compress(std::span<const std::byte> src, std::span<std::byte> dst) = 0;
  // Decompresses src into dst; success only if exactly dst.size() bytes come
  // out (a page). Returns false on any corrupt or short input; safe on
  // arbitrary untrusted bytes. dst contents are unspecified after a failure.
  virtual bool decompress(std::span<const std::byte> src, std::span<std::byte> dst) = 0;
};

// A new codec of that kind; nullptr for CodecKind::kNone and for a codec this
// build does not include (see codec_available()).
std::unique_ptr<Codec> make_codec(CodecKind kind);

// Whether the codec is compiled in (the CMake options VMCOLLECT_WITH_LZO,
// VMCOLLECT_WITH_SNAPPY and VMCOLLECT_WITH_ZSTD may leave one out; zlib is
// always there). True for CodecKind::kNone.
bool codec_available(CodecKind kind);

// True when every byte of the page is zero (also for an empty span).
bool is_zero_page(std::span<const std::byte> page);

}  // namespace vmc::compress
