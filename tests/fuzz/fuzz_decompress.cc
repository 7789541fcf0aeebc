// Fuzz target: the codecs' decompress side (compress/codec.h), moved here
// from tests/compress. The first byte picks the codec (and a page size), the
// rest is what a dump file would hold for the page. A page that decodes must
// re-encode and decode back to itself.
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <memory>
#include <vector>

#include "compress/codec.h"
#include "tests/fuzz/fuzz_support.h"

using vmc::compress::CodecKind;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size < 1) return 0;
  static constexpr CodecKind kKinds[] = {CodecKind::kZlib, CodecKind::kLzo, CodecKind::kSnappy, CodecKind::kZstd};
  CodecKind kind = kKinds[data[0] & 3];
  size_t page_size = (data[0] & 4) ? 4096 : 512;
  if (!vmc::compress::codec_available(kind)) return 0;
  static std::unique_ptr<vmc::compress::Codec> codecs[4];
  auto& codec = codecs[data[0] & 3];
  if (!codec) codec = vmc::compress::make_codec(kind);
  // Exactly sized copies, so any overread is caught by ASan.
  std::vector<std::byte> src(size - 1);
  if (!src.empty()) std::memcpy(src.data(), data + 1, src.size());
  std::vector<std::byte> page(page_size);
  if (!codec->decompress(src, page)) return 0;
  std::vector<std::byte> packed(codec->max_compressed_size(page_size));
  size_t n = codec->compress(page, packed);
  if (n != 0) {
    std::vector<std::byte> back(page_size);
    packed.resize(n);
    if (!codec->decompress(packed, back) || back != page) __builtin_trap();
  }
  return 0;
}
