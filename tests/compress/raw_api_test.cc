// Compatibility with the readers. What we write must decode with the exact
// library call makedumpfile, crash and libkdumpfile use for a page, and what
// makedumpfile writes (the same library calls on its side) must decode with
// our decompress(). Where makedumpfile's call is deterministic we also check
// that our bytes are the very same as its.
#include <zlib.h>

#include <cstring>

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

// ---- zlib ----------------------------------------------------------------

TEST(ZlibCompat, OurPagesDecodeWithUncompress) {
  auto codec = make_codec(CodecKind::zlib);
  for (const auto& page : sample_pages()) {
    auto packed = compress_page(*codec, page);
    if (packed.empty()) continue;
    std::vector<std::byte> back(kPage);
    uLongf len = kPage;  // crash: uncompress(..., &retlen = block_size, ...) and retlen == block_size
    ASSERT_EQ(uncompress(u8(back), &len, u8(packed), packed.size()), Z_OK);
    ASSERT_EQ(len, kPage);
    ASSERT_EQ(back, page);
  }
}

TEST(ZlibCompat, SameBytesAsCompress2BestSpeed) {
  auto codec = make_codec(CodecKind::zlib);
  size_t compared = 0;
  for (const auto& page : sample_pages()) {
    auto packed = compress_page(*codec, page);
    std::vector<std::byte> theirs(compressBound(kPage));
    uLongf len = theirs.size();
    ASSERT_EQ(compress2(u8(theirs), &len, u8(page), kPage, Z_BEST_SPEED), Z_OK);
    theirs.resize(len);
    if (len >= kPage) {  // makedumpfile stores this one raw
      EXPECT_TRUE(packed.empty());
      continue;
    }
    EXPECT_EQ(packed, theirs);
    ++compared;
  }
  EXPECT_GT(compared, 100u);
}

TEST(ZlibCompat, DecodesCompress2AtAnyLevel) {
  auto codec = make_codec(CodecKind::zlib);
  for (int level : {0, 1, 6, 9}) {
    for (const auto& page : sample_pages()) {
      std::vector<std::byte> theirs(compressBound(kPage));
      uLongf len = theirs.size();
      ASSERT_EQ(compress2(u8(theirs), &len, u8(page), kPage, level), Z_OK);
      theirs.resize(len);
      std::vector<std::byte> back(kPage);
      ASSERT_TRUE(codec->decompress(theirs, back)) << "level " << level;
      ASSERT_EQ(back, page);
    }
  }
}

// ---- lzo -----------------------------------------------------------------

#if VMC_COMPRESS_WITH_LZO
TEST(LzoCompat, OurPagesDecodeWithLzo1xDecompressSafe) {
  ASSERT_EQ(lzo_init(), LZO_E_OK);
  auto codec = make_codec(CodecKind::lzo);
  for (const auto& page : sample_pages()) {
    auto packed = compress_page(*codec, page);
    if (packed.empty()) continue;
    std::vector<std::byte> back(kPage);
    lzo_uint len = kPage;
    ASSERT_EQ(lzo1x_decompress_safe(u8(packed), packed.size(), u8(back), &len, nullptr), LZO_E_OK);
    ASSERT_EQ(len, kPage);
    ASSERT_EQ(back, page);
  }
}

TEST(LzoCompat, SameBytesAsLzo1x1AndDecodesThem) {
  ASSERT_EQ(lzo_init(), LZO_E_OK);
  auto codec = make_codec(CodecKind::lzo);
  std::vector<unsigned char> work(LZO1X_1_MEM_COMPRESS);
  size_t compared = 0;
  for (const auto& page : sample_pages()) {
    std::vector<std::byte> theirs(kPage + kPage / 16 + 64 + 3);
    lzo_uint len = 0;
    ASSERT_EQ(lzo1x_1_compress(u8(page), kPage, u8(theirs), &len, work.data()), LZO_E_OK);
    theirs.resize(len);
    auto packed = compress_page(*codec, page);
    if (len >= kPage) {
      EXPECT_TRUE(packed.empty());
      continue;
    }
    EXPECT_EQ(packed, theirs);
    std::vector<std::byte> back(kPage);
    ASSERT_TRUE(codec->decompress(theirs, back));
    ASSERT_EQ(back, page);
    ++compared;
  }
  EXPECT_GT(compared, 100u);
}

TEST(LzoCompat, TrailingBytesAreRefusedLikeTheReaders) {
  auto codec = make_codec(CodecKind::lzo);
  auto page = page_of(PageKind::text, 1, 0);
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
TEST(SnappyCompat, OurPagesDecodeWithSnappyUncompress) {
  auto codec = make_codec(CodecKind::snappy);
  for (const auto& page : sample_pages()) {
    auto packed = compress_page(*codec, page);
    if (packed.empty()) continue;
    size_t ulen = 0;
    ASSERT_EQ(snappy_uncompressed_length(chars(packed), packed.size(), &ulen), SNAPPY_OK);
    ASSERT_EQ(ulen, kPage);
    std::vector<std::byte> back(kPage);
    size_t len = kPage;
    ASSERT_EQ(snappy_uncompress(chars(packed), packed.size(), chars(back), &len), SNAPPY_OK);
    ASSERT_EQ(len, kPage);
    ASSERT_EQ(back, page);
  }
}

TEST(SnappyCompat, SameBytesAsSnappyCompressAndDecodesThem) {
  auto codec = make_codec(CodecKind::snappy);
  size_t compared = 0;
  for (const auto& page : sample_pages()) {
    std::vector<std::byte> theirs(snappy_max_compressed_length(kPage));
    size_t len = theirs.size();
    ASSERT_EQ(snappy_compress(chars(page), kPage, chars(theirs), &len), SNAPPY_OK);
    theirs.resize(len);
    auto packed = compress_page(*codec, page);
    if (len >= kPage) {
      EXPECT_TRUE(packed.empty());
      continue;
    }
    EXPECT_EQ(packed, theirs);
    std::vector<std::byte> back(kPage);
    ASSERT_TRUE(codec->decompress(theirs, back));
    ASSERT_EQ(back, page);
    ++compared;
  }
  EXPECT_GT(compared, 100u);
}
#endif

// ---- zstd ----------------------------------------------------------------

#if VMC_COMPRESS_WITH_ZSTD
TEST(ZstdCompat, OurPagesDecodeWithZstdDecompress) {
  auto codec = make_codec(CodecKind::zstd);
  for (const auto& page : sample_pages()) {
    auto packed = compress_page(*codec, page);
    if (packed.empty()) continue;
    std::vector<std::byte> back(kPage);
    size_t len = ZSTD_decompress(back.data(), kPage, packed.data(), packed.size());
    ASSERT_FALSE(ZSTD_isError(len)) << ZSTD_getErrorName(len);
    ASSERT_EQ(len, kPage);
    ASSERT_EQ(back, page);
    // The frame records the page size, as makedumpfile's do.
    EXPECT_EQ(ZSTD_getFrameContentSize(packed.data(), packed.size()), kPage);
  }
}

// makedumpfile: ZSTD_compressCCtx(cctx, out, bound, page, page_size, 1).
TEST(ZstdCompat, SameBytesAsCompressCCtxLevel1AndDecodesThem) {
  auto codec = make_codec(CodecKind::zstd);
  ZSTD_CCtx* cctx = ZSTD_createCCtx();
  size_t compared = 0;
  for (const auto& page : sample_pages()) {
    std::vector<std::byte> theirs(ZSTD_compressBound(kPage));
    size_t len = ZSTD_compressCCtx(cctx, theirs.data(), theirs.size(), page.data(), kPage, 1);
    ASSERT_FALSE(ZSTD_isError(len));
    theirs.resize(len);
    auto packed = compress_page(*codec, page);
    if (len >= kPage) {
      EXPECT_TRUE(packed.empty());
      continue;
    }
    EXPECT_EQ(packed, theirs);
    std::vector<std::byte> back(kPage);
    ASSERT_TRUE(codec->decompress(theirs, back));
    ASSERT_EQ(back, page);
    ++compared;
  }
  ZSTD_freeCCtx(cctx);
  EXPECT_GT(compared, 100u);
}

TEST(ZstdCompat, DecodesOtherLevelsAndChecksummedFrames) {
  auto codec = make_codec(CodecKind::zstd);
  ZSTD_CCtx* cctx = ZSTD_createCCtx();
  for (int level : {-5, 1, 3, 19}) {
    for (int checksum : {0, 1}) {
      ZSTD_CCtx_reset(cctx, ZSTD_reset_session_and_parameters);
      ZSTD_CCtx_setParameter(cctx, ZSTD_c_compressionLevel, level);
      ZSTD_CCtx_setParameter(cctx, ZSTD_c_checksumFlag, checksum);
      for (const auto& page : sample_pages()) {
        std::vector<std::byte> theirs(ZSTD_compressBound(kPage));
        size_t len = ZSTD_compress2(cctx, theirs.data(), theirs.size(), page.data(), kPage);
        ASSERT_FALSE(ZSTD_isError(len));
        theirs.resize(len);
        std::vector<std::byte> back(kPage);
        ASSERT_TRUE(codec->decompress(theirs, back)) << "level " << level;
        ASSERT_EQ(back, page);
      }
    }
  }
  ZSTD_freeCCtx(cctx);
}

// Only one plain zstd frame is a page (all makedumpfile writes): two frames,
// or a skippable frame before it, are refused.
TEST(ZstdCompat, OnlyOneFrame) {
  auto codec = make_codec(CodecKind::zstd);
  auto half = page_of(PageKind::text, 3, 0, kPage / 2);
  auto one = compress_page(*codec, half);
  ASSERT_FALSE(one.empty());
  auto two = one;
  two.insert(two.end(), one.begin(), one.end());
  std::vector<std::byte> back(kPage);
  ASSERT_EQ(ZSTD_decompress(back.data(), kPage, two.data(), two.size()), kPage);  // the library takes it
  EXPECT_FALSE(codec->decompress(two, back));
  std::vector<std::byte> skippable = {std::byte{0x50}, std::byte{0x2A}, std::byte{0x4D}, std::byte{0x18},
                                      std::byte{0},    std::byte{0},    std::byte{0},    std::byte{0}};
  auto page = page_of(PageKind::text, 3, 1);
  auto packed = compress_page(*codec, page);
  skippable.insert(skippable.end(), packed.begin(), packed.end());
  EXPECT_FALSE(codec->decompress(skippable, back));
  EXPECT_TRUE(codec->decompress(packed, back));
}
#endif

}  // namespace
}  // namespace vmc::compress::testing
