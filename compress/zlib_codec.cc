// zlib: a zlib-wrapped deflate stream per page, what makedumpfile writes with
// compress2(..., Z_BEST_SPEED) and readers decode with uncompress(). The
// stream is initialised with compress2's own parameters (level 1, 32 KiB
// window, memLevel 8, default strategy), so the bytes are the same as
// makedumpfile's; one z_stream per direction is kept and reset per page, which
// is about 3x faster than compress2/uncompress setting one up every time.
#define ZLIB_CONST
#include <zlib.h>

#include <algorithm>
#include <climits>

#include "compress/codec.h"
#include "compress/codec_impl.h"

namespace vmc::compress::detail {
namespace {

class ZlibCodec final : public Codec {
 public:
  ZlibCodec() = default;
  ZlibCodec(const ZlibCodec&) = delete;
  ZlibCodec& operator=(const ZlibCodec&) = delete;
  ~ZlibCodec() override {
    if (deflate_ready_) deflateEnd(&deflate_);
    if (inflate_ready_) inflateEnd(&inflate_);
  }

  CodecKind kind() const override { return CodecKind::kZlib; }

  size_t max_compressed_size(size_t input_size) const override {
    return static_cast<size_t>(compressBound(static_cast<uLong>(input_size)));
  }

  size_t compress(std::span<const std::byte> src, std::span<std::byte> dst) override {
    if (src.empty() || src.size() > UINT_MAX) return 0;
    if (!start_deflate()) return 0;
    // Only a result smaller than the page is of use: give deflate no more
    // room than that, and anything that does not fit ends as "store raw".
    size_t room = std::min(dst.size(), src.size() - 1);
    if (room == 0) return 0;
    deflate_.next_in = in_ptr<Bytef>(src);
    deflate_.avail_in = static_cast<uInt>(src.size());
    deflate_.next_out = out_ptr<Bytef>(dst);
    deflate_.avail_out = static_cast<uInt>(room);
    if (deflate(&deflate_, Z_FINISH) != Z_STREAM_END) return 0;
    return room - deflate_.avail_out;
  }

  bool decompress(std::span<const std::byte> src, std::span<std::byte> dst) override {
    if (src.empty() || src.size() > UINT_MAX || dst.size() > UINT_MAX) return false;
    if (!start_inflate()) return false;
    inflate_.next_in = in_ptr<Bytef>(src);
    inflate_.avail_in = static_cast<uInt>(src.size());
    inflate_.next_out = out_ptr<Bytef>(dst);
    inflate_.avail_out = static_cast<uInt>(dst.size());
    // As uncompress(): the stream must end (adler32 checked) with the page
    // exactly full; bytes after the end of the stream are ignored.
    return inflate(&inflate_, Z_FINISH) == Z_STREAM_END && inflate_.avail_out == 0;
  }

 private:
  bool start_deflate() {
    if (deflate_ready_) return deflateReset(&deflate_) == Z_OK;
    deflate_ = z_stream{};
    // Exactly what compress2(dst, &len, src, n, Z_BEST_SPEED) sets up.
    if (deflateInit2(&deflate_, Z_BEST_SPEED, Z_DEFLATED, MAX_WBITS, 8, Z_DEFAULT_STRATEGY) != Z_OK) {
      return false;
    }
    deflate_ready_ = true;
    return true;
  }

  bool start_inflate() {
    if (inflate_ready_) return inflateReset(&inflate_) == Z_OK;
    inflate_ = z_stream{};
    if (inflateInit(&inflate_) != Z_OK) return false;  // as uncompress(): zlib wrapper, 32 KiB window
    inflate_ready_ = true;
    return true;
  }

  z_stream deflate_{};
  z_stream inflate_{};
  bool deflate_ready_ = false;
  bool inflate_ready_ = false;
};

}  // namespace

std::unique_ptr<Codec> make_zlib_codec() { return std::make_unique<ZlibCodec>(); }

}  // namespace vmc::compress::detail
