// Snappy: one raw snappy block per page (snappy_compress, as makedumpfile -p),
// decoded with snappy_uncompress as the readers do. The snappy C API keeps no
// context between calls, so there is nothing to reuse beyond a scratch buffer
// for callers that pass a dst smaller than the worst case.
#include <snappy-c.h>

#include <cstring>
#include <new>
#include <vector>

#include "compress/codec.h"
#include "compress/codec_impl.h"

namespace vmc::compress::detail {
namespace {

class SnappyCodec final : public Codec {
 public:
  CodecKind kind() const override { return CodecKind::kSnappy; }

  size_t max_compressed_size(size_t input_size) const override {
    return snappy_max_compressed_length(input_size);
  }

  size_t compress(std::span<const std::byte> src, std::span<std::byte> dst) override {
    if (src.empty()) return 0;
    try {
      // snappy_compress refuses a buffer below the worst case; a smaller dst
      // is written through a scratch buffer.
      size_t bound = snappy_max_compressed_length(src.size());
      std::span<std::byte> out = dst;
      if (dst.size() < bound) {
        scratch_.resize(bound);
        out = scratch_;
      }
      size_t out_len = out.size();
      if (snappy_compress(in_ptr<char>(src), src.size(), out_ptr<char>(out), &out_len) != SNAPPY_OK) return 0;
      if (out_len >= src.size() || out_len > dst.size()) return 0;
      if (out.data() != dst.data()) std::memcpy(dst.data(), out.data(), out_len);
      return out_len;
    } catch (...) {  // snappy allocates its hash table per call: bad_alloc
      return 0;
    }
  }

  bool decompress(std::span<const std::byte> src, std::span<std::byte> dst) override {
    if (src.empty()) return false;
    try {
      // The length in the block's header must be the page size; snappy then
      // checks every copy and literal against the input and the output.
      size_t want = 0;
      if (snappy_uncompressed_length(in_ptr<char>(src), src.size(), &want) != SNAPPY_OK || want != dst.size()) {
        return false;
      }
      size_t out_len = dst.size();
      return snappy_uncompress(in_ptr<char>(src), src.size(), out_ptr<char>(dst), &out_len) == SNAPPY_OK &&
             out_len == dst.size();
    } catch (...) {
      return false;
    }
  }

 private:
  std::vector<std::byte> scratch_;
};

}  // namespace

std::unique_ptr<Codec> make_snappy_codec() { return std::make_unique<SnappyCodec>(); }

}  // namespace vmc::compress::detail
