// LZO: LZO1X-1 per page (lzo1x_1_compress, as makedumpfile -l), decoded with
// lzo1x_decompress_safe as makedumpfile, crash and libkdumpfile do. The
// compressor's dictionary (LZO1X_1_MEM_COMPRESS bytes) is allocated once per
// codec. lzo_init() runs once per process, thread-safely.
#include <lzo/lzo1x.h>

#include <cstdint>
#include <cstring>
#include <new>
#include <vector>

#include "compress/codec.h"
#include "compress/codec_impl.h"

namespace vmc::compress::detail {
namespace {

// lzo_init() checks the library's build against this header; a mismatch
// (never seen in practice) leaves the codec refusing to do anything.
bool lzo_ready() {
  static const bool ready = lzo_init() == LZO_E_OK;
  return ready;
}

// LZO1X's documented worst case for incompressible input.
constexpr size_t lzo_bound(size_t n) { return n + n / 16 + 64 + 3; }

class LzoCodec final : public Codec {
 public:
  CodecKind kind() const override { return CodecKind::kLzo; }

  size_t max_compressed_size(size_t input_size) const override { return lzo_bound(input_size); }

  size_t compress(std::span<const std::byte> src, std::span<std::byte> dst) override {
    if (src.empty() || !lzo_ready()) return 0;
    try {
      if (work_.empty()) work_.resize((LZO1X_1_MEM_COMPRESS + sizeof(uint64_t) - 1) / sizeof(uint64_t));
      // lzo1x_1_compress does not check the room it has: a dst smaller than
      // the worst case is written through a scratch buffer.
      std::span<std::byte> out = dst;
      if (dst.size() < lzo_bound(src.size())) {
        scratch_.resize(lzo_bound(src.size()));
        out = scratch_;
      }
      lzo_uint out_len = 0;
      int rc = lzo1x_1_compress(in_ptr<unsigned char>(src), src.size(), out_ptr<unsigned char>(out), &out_len,
                                work_.data());
      if (rc != LZO_E_OK || out_len >= src.size() || out_len > dst.size()) return 0;
      if (out.data() != dst.data()) std::memcpy(dst.data(), out.data(), out_len);
      return out_len;
    } catch (const std::bad_alloc&) {
      return 0;
    }
  }

  bool decompress(std::span<const std::byte> src, std::span<std::byte> dst) override {
    if (src.empty() || !lzo_ready()) return false;
    lzo_uint out_len = dst.size();
    int rc = lzo1x_decompress_safe(in_ptr<unsigned char>(src), src.size(), out_ptr<unsigned char>(dst), &out_len,
                                   nullptr);
    // LZO_E_INPUT_NOT_CONSUMED (bytes after the end marker) is a failure, as
    // for the readers, which all want LZO_E_OK.
    return rc == LZO_E_OK && out_len == dst.size();
  }

 private:
  std::vector<uint64_t> work_;  // LZO1X_1_MEM_COMPRESS bytes, 8-byte aligned
  std::vector<std::byte> scratch_;
};

}  // namespace

std::unique_ptr<Codec> make_lzo_codec() { return std::make_unique<LzoCodec>(); }

}  // namespace vmc::compress::detail
