// zstd: one zstd frame per page at level 1 (ZSTD_compressCCtx, as makedumpfile
// -z), decoded by the readers with ZSTD_decompress. One ZSTD_CCtx and one
// ZSTD_DCtx are kept per codec and reused for every page.
#include <zstd.h>

#include <cstdint>
#include <cstring>
#include <new>
#include <vector>

#include "compress/codec.h"
#include "compress/codec_impl.h"

namespace vmc::compress::detail {
namespace {

constexpr int kLevel = 1;  // makedumpfile's level

class ZstdCodec final : public Codec {
 public:
  ZstdCodec() = default;
  ZstdCodec(const ZstdCodec&) = delete;
  ZstdCodec& operator=(const ZstdCodec&) = delete;
  ~ZstdCodec() override {
    ZSTD_freeCCtx(cctx_);  // both accept nullptr
    ZSTD_freeDCtx(dctx_);
  }

  CodecKind kind() const override { return CodecKind::kZstd; }

  size_t max_compressed_size(size_t input_size) const override { return ZSTD_compressBound(input_size); }

  size_t compress(std::span<const std::byte> src, std::span<std::byte> dst) override {
    if (src.empty()) return 0;
    if (cctx_ == nullptr && (cctx_ = ZSTD_createCCtx()) == nullptr) return 0;
    // With less room than ZSTD_compressBound, zstd can fail (or pick other
    // blocks) even when the frame it would write fits: such a dst is written
    // through a scratch buffer, so the bytes never depend on the room given.
    size_t bound = ZSTD_compressBound(src.size());
    std::span<std::byte> out = dst;
    if (dst.size() < bound) {
      try {
        scratch_.resize(bound);
      } catch (const std::bad_alloc&) {
        return 0;
      }
      out = scratch_;
    }
    size_t n = ZSTD_compressCCtx(cctx_, out.data(), out.size(), src.data(), src.size(), kLevel);
    if (ZSTD_isError(n) || n >= src.size() || n > dst.size()) return 0;
    if (out.data() != dst.data()) std::memcpy(dst.data(), out.data(), n);
    return n;
  }

  bool decompress(std::span<const std::byte> src, std::span<std::byte> dst) override {
    // Exactly one standard zstd frame, which is all makedumpfile ever writes.
    // ZSTD_decompress would also take several frames, skippable frames and
    // (depending on how libzstd was built) pre-1.0 "legacy" frames; refusing
    // those keeps the less exercised decoders away from untrusted input.
    if (src.size() < 4) return false;
    uint32_t magic = 0;
    for (int i = 3; i >= 0; --i) magic = magic << 8 | static_cast<uint8_t>(src[static_cast<size_t>(i)]);
    if (magic != ZSTD_MAGICNUMBER) return false;  // little-endian on every host
    if (ZSTD_findFrameCompressedSize(src.data(), src.size()) != src.size()) return false;
    if (dctx_ == nullptr && (dctx_ = ZSTD_createDCtx()) == nullptr) return false;
    size_t n = ZSTD_decompressDCtx(dctx_, dst.data(), dst.size(), src.data(), src.size());
    return !ZSTD_isError(n) && n == dst.size();
  }

 private:
  ZSTD_CCtx* cctx_ = nullptr;
  ZSTD_DCtx* dctx_ = nullptr;
  std::vector<std::byte> scratch_;
};

}  // namespace

std::unique_ptr<Codec> make_zstd_codec() { return std::make_unique<ZstdCodec>(); }

}  // namespace vmc::compress::detail
