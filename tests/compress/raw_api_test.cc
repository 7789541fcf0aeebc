// Compatibility with the readers. What we write must decode with the exact
// library call makedumpfile, crash and libkdumpfile use for a page, and what
// makedumpfile writes (the same library calls on its side) must decode with
// our decompress(). Where makedumpfile's call is deterministic we also check
// that our bytes are the very same as its.
#include <zlib.h>

#include <cstring>
#include <functional>
#include <string>

#include "tests/compress/test_util.h"

#if VMC_COMPRESS_WITH_LZO
#include <lzo/lzo1x.h>
#endif
#if VMC_COMPRESS_WITH_SNAPPY
#include <snappy-c.h>
#endif
#if VMC_COMPRESS_WITH_ZSTD
#include <zstd.h>
#endif

namespace vmc::compress::testing {
namespace {

using bench::PageKind;

// Pages of every compressible kind, and a few with a chosen share of random bytes.
std::vector<std::vector<std::byte>> sample_pages() {
  std::vector<std::vector<std::byte>> pages;
  for (PageKind kind : bench::kAllPageKinds) {
    for (uint64_t i = 0; i < 24; ++i) pages.push_back(page_of(kind, 99, i));
  }
  for (uint32_t per_mille : {100u, 300u, 500u, 700u, 900u}) {
    for (uint64_t i = 0; i < 8; ++i) {
      std::vector<std::byte> page(kPage);
      bench::fill_page_entropy(page, per_mille, 99, i);
      pages.push_back(std::move(page));
    }
  }
  return pages;
}

const auto* u8(const std::vector<std::byte>& v) { return reinterpret_cast<const unsigned char*>(v.data()); }
auto* u8(std::vector<std::byte>& v) { return reinterpret_cast<unsigned char*>(v.data()); }
#if VMC_COMPRESS_WITH_SNAPPY
const char* chars(const std::vector<std::byte>& v) { return reinterpret_cast<const char*>(v.data()); }
char* chars(std::vector<std::byte>& v) { return reinterpret_cast<char*>(v.data()); }
#endif

// A library's own compression of one page, the call a dump writer makes. It
// leaves `theirs` holding the output, and fails the test where the library does.
using LibraryCompress = std::function<void(const std::vector<std::byte>& page, std::vector<std::byte>& theirs)>;

// A reader's library call decoding one page we compressed. It checks that
// `page` comes back.
using LibraryDecode = std::function<void(const std::vector<std::byte>& packed, const std::vector<std::byte>& page)>;

void expect_decodes_to(Codec& codec, const std::vector<std::byte>& packed, const std::vector<std::byte>& page) {
  std::vector<std::byte> back(kPage);
  ASSERT_TRUE(codec.decompress(packed, back));
  ASSERT_EQ(back, page);
}

// Every sample page we do not store raw goes through the reader's call.
void expect_library_decodes_ours(Codec& codec, const LibraryDecode& library_decode) {
  for (const auto& page : sample_pages()) {
    auto packed = compress_page(codec, page);
    if (packed.empty()) continue;
    library_decode(packed, page);
    if (::testing::Test::HasFatalFailure()) return;
  }
}

// We write for each sample page what makedumpfile writes: the same bytes, or
// the page raw where the library's output is no smaller than the page.
// With decode_theirs, our decompress() also reads their bytes back.
void expect_same_bytes_as(Codec& codec, const LibraryCompress& library_compress, bool decode_theirs) {
  size_t compared = 0;
  for (const auto& page : sample_pages()) {
    std::vector<std::byte> theirs;
    library_compress(page, theirs);
    if (::testing::Test::HasFatalFailure()) return;
    auto packed = compress_page(codec, page);
    if (theirs.size() >= kPage) {  // makedumpfile stores this one raw
      EXPECT_TRUE(packed.empty());
      continue;
    }
    EXPECT_EQ(packed, theirs);
    if (decode_theirs) {
      expect_decodes_to(codec, theirs, page);
      if (::testing::Test::HasFatalFailure()) return;
    }
    ++compared;
  }
  EXPECT_GT(compared, 100u);
}

// Our decompress() reads what the library makes of every sample page, at
// settings makedumpfile does not use as well as at its own.
void expect_decodes_theirs(Codec& codec, const LibraryCompress& library_compress) {
  for (const auto& page : sample_pages()) {
    std::vector<std::byte> theirs;
    library_compress(page, theirs);
    if (::testing::Test::HasFatalFailure()) return;
    expect_decodes_to(codec, theirs, page);
    if (::testing::Test::HasFatalFailure()) return;
  }
}

// ---- zlib ----------------------------------------------------------------

LibraryCompress zlib_compress2(int level) {
  return [level](const std::vector<std::byte>& page, std::vector<std::byte>& theirs) {
    theirs.resize(compressBound(kPage));
    uLongf len = theirs.size();
    ASSERT_EQ(compress2(u8(theirs), &len, u8(page), kPage, level), Z_OK);
    theirs.resize(len);
  };
}

TEST(ZlibCompat, OurPagesDecodeWithUncompress) {
  auto codec = make_codec(CodecKind::kZlib);
  expect_library_decodes_ours(*codec, [](const std::vector<std::byte>& packed, const std::vector<std::byte>& page) {
    std::vector<std::byte> back(kPage);
    uLongf len = kPage;  // crash: uncompress(..., &retlen = block_size, ...) and retlen == block_size
    ASSERT_EQ(uncompress(u8(back), &len, u8(packed), packed.size()), Z_OK);
    ASSERT_EQ(len, kPage);
    ASSERT_EQ(back, page);
  });
}

TEST(ZlibCompat, SameBytesAsCompress2BestSpeed) {
  auto codec = make_codec(CodecKind::kZlib);
  expect_same_bytes_as(*codec, zlib_compress2(Z_BEST_SPEED), /*decode_theirs=*/false);
}

TEST(ZlibCompat, DecodesCompress2AtAnyLevel) {
  auto codec = make_codec(CodecKind::kZlib);
  for (int level : {0, 1, 6, 9}) {
    SCOPED_TRACE("level " + std::to_string(level));
    expect_decodes_theirs(*codec, zlib_compress2(level));
  }
}

// ---- lzo -----------------------------------------------------------------

#if VMC_COMPRESS_WITH_LZO
void expect_lzo1x_decompress_safe(const std::vector<std::byte>& packed, const std::vector<std::byte>& page) {
  std::vector<std::byte> back(kPage);
  lzo_uint len = kPage;
  ASSERT_EQ(lzo1x_decompress_safe(u8(packed), packed.size(), u8(back), &len, nullptr), LZO_E_OK);
  ASSERT_EQ(len, kPage);
  ASSERT_EQ(back, page);
}

TEST(LzoCompat, OurPagesDecodeWithLzo1xDecompressSafe) {
  ASSERT_EQ(lzo_init(), LZO_E_OK);
  auto codec = make_codec(CodecKind::kLzo);
  expect_library_decodes_ours(*codec, expect_lzo1x_decompress_safe);
}

TEST(LzoCompat, SameBytesAsLzo1x1AndDecodesThem) {
  ASSERT_EQ(lzo_init(), LZO_E_OK);
  auto codec = make_codec(CodecKind::kLzo);
  std::vector<unsigned char> work(LZO1X_1_MEM_COMPRESS);
  auto lzo1x_1 = [&work](const std::vector<std::byte>& page, std::vector<std::byte>& theirs) {
    theirs.resize(kPage + kPage / 16 + 64 + 3);
    lzo_uint len = 0;
    ASSERT_EQ(lzo1x_1_compress(u8(page), kPage, u8(theirs), &len, work.data()), LZO_E_OK);
    theirs.resize(len);
  };
  expect_same_bytes_as(*codec, lzo1x_1, /*decode_theirs=*/true);
}

TEST(LzoCompat, TrailingBytesAreRefusedLikeTheReaders) {
  auto codec = make_codec(CodecKind::kLzo);
  auto page = page_of(PageKind::kText, 1, 0);
  auto packed = compress_page(*codec, page);
  ASSERT_FALSE(packed.empty());
  packed.push_back(std::byte{0});
  std::vector<std::byte> back(kPage);
  lzo_uint len = kPage;
  EXPECT_NE(lzo1x_decompress_safe(u8(packed), packed.size(), u8(back), &len, nullptr), LZO_E_OK);
  EXPECT_FALSE(codec->decompress(packed, back));
}
#endif

// ---- snappy --------------------------------------------------------------

#if VMC_COMPRESS_WITH_SNAPPY
void expect_snappy_uncompress(const std::vector<std::byte>& packed, const std::vector<std::byte>& page) {
  size_t ulen = 0;
  ASSERT_EQ(snappy_uncompressed_length(chars(packed), packed.size(), &ulen), SNAPPY_OK);
  ASSERT_EQ(ulen, kPage);
  std::vector<std::byte> back(kPage);
  size_t len = kPage;
  ASSERT_EQ(snappy_uncompress(chars(packed), packed.size(), chars(back), &len), SNAPPY_OK);
  ASSERT_EQ(len, kPage);
  ASSERT_EQ(back, page);
}

void snappy_compress_page(const std::vector<std::byte>& page, std::vector<std::byte>& theirs) {
  theirs.resize(snappy_max_compressed_length(kPage));
  size_t len = theirs.size();
  ASSERT_EQ(snappy_compress(chars(page), kPage, chars(theirs), &len), SNAPPY_OK);
  theirs.resize(len);
}

TEST(SnappyCompat, OurPagesDecodeWithSnappyUncompress) {
  auto codec = make_codec(CodecKind::kSnappy);
  expect_library_decodes_ours(*codec, expect_snappy_uncompress);
}

TEST(SnappyCompat, SameBytesAsSnappyCompressAndDecodesThem) {
  auto codec = make_codec(CodecKind::kSnappy);
  expect_same_bytes_as(*codec, snappy_compress_page, /*decode_theirs=*/true);
}
#endif

// ---- zstd ----------------------------------------------------------------

#if VMC_COMPRESS_WITH_ZSTD
void expect_zstd_decompress(const std::vector<std::byte>& packed, const std::vector<std::byte>& page) {
  std::vector<std::byte> back(kPage);
  size_t len = ZSTD_decompress(back.data(), kPage, packed.data(), packed.size());
  ASSERT_FALSE(ZSTD_isError(len)) << ZSTD_getErrorName(len);
  ASSERT_EQ(len, kPage);
  ASSERT_EQ(back, page);
  // The frame records the page size, as makedumpfile's do.
  EXPECT_EQ(ZSTD_getFrameContentSize(packed.data(), packed.size()), kPage);
}

TEST(ZstdCompat, OurPagesDecodeWithZstdDecompress) {
  auto codec = make_codec(CodecKind::kZstd);
  expect_library_decodes_ours(*codec, expect_zstd_decompress);
}

// makedumpfile: ZSTD_compressCCtx(cctx, out, bound, page, page_size, 1).
TEST(ZstdCompat, SameBytesAsCompressCCtxLevel1AndDecodesThem) {
  auto codec = make_codec(CodecKind::kZstd);
  ZSTD_CCtx* cctx = ZSTD_createCCtx();
  auto compress_cctx_level1 = [cctx](const std::vector<std::byte>& page, std::vector<std::byte>& theirs) {
    theirs.resize(ZSTD_compressBound(kPage));
    size_t len = ZSTD_compressCCtx(cctx, theirs.data(), theirs.size(), page.data(), kPage, 1);
    ASSERT_FALSE(ZSTD_isError(len));
    theirs.resize(len);
  };
  expect_same_bytes_as(*codec, compress_cctx_level1, /*decode_theirs=*/true);
  ZSTD_freeCCtx(cctx);
}

TEST(ZstdCompat, DecodesOtherLevelsAndChecksummedFrames) {
  auto codec = make_codec(CodecKind::kZstd);
  ZSTD_CCtx* cctx = ZSTD_createCCtx();
  auto compress2_as_set = [cctx](const std::vector<std::byte>& page, std::vector<std::byte>& theirs) {
    theirs.resize(ZSTD_compressBound(kPage));
    size_t len = ZSTD_compress2(cctx, theirs.data(), theirs.size(), page.data(), kPage);
    ASSERT_FALSE(ZSTD_isError(len));
    theirs.resize(len);
  };
  for (int level : {-5, 1, 3, 19}) {
    for (int checksum : {0, 1}) {
      SCOPED_TRACE("level " + std::to_string(level) + " checksum " + std::to_string(checksum));
      ZSTD_CCtx_reset(cctx, ZSTD_reset_session_and_parameters);
      ZSTD_CCtx_setParameter(cctx, ZSTD_c_compressionLevel, level);
      ZSTD_CCtx_setParameter(cctx, ZSTD_c_checksumFlag, checksum);
      expect_decodes_theirs(*codec, compress2_as_set);
    }
  }
  ZSTD_freeCCtx(cctx);
}

// Only one plain zstd frame is a page (all makedumpfile writes): two frames,
// or a skippable frame before it, are refused.
TEST(ZstdCompat, OnlyOneFrame) {
  auto codec = make_codec(CodecKind::kZstd);
  auto half = page_of(PageKind::kText, 3, 0, kPage / 2);
  auto one = compress_page(*codec, half);
  ASSERT_FALSE(one.empty());
  auto two = one;
  two.insert(two.end(), one.begin(), one.end());
  std::vector<std::byte> back(kPage);
  ASSERT_EQ(ZSTD_decompress(back.data(), kPage, two.data(), two.size()), kPage);  // the library takes it
  EXPECT_FALSE(codec->decompress(two, back));
  std::vector<std::byte> skippable = {std::byte{0x50}, std::byte{0x2A}, std::byte{0x4D}, std::byte{0x18},
                                      std::byte{0},    std::byte{0},    std::byte{0},    std::byte{0}};
  auto page = page_of(PageKind::kText, 3, 1);
  auto packed = compress_page(*codec, page);
  skippable.insert(skippable.end(), packed.begin(), packed.end());
  EXPECT_FALSE(codec->decompress(skippable, back));
  EXPECT_TRUE(codec->decompress(packed, back));
}
#endif

}  // namespace
}  // namespace vmc::compress::testing
