// The Codec interface for every codec: round trips on every kind of page,
// "store raw" for incompressible pages, reuse of one codec across pages, small
// destination buffers, and decompress() on truncated, corrupt and garbage
// input (it must say false, never crash; run these under -DVMCOLLECT_ASAN=ON
// for the memory-safety half of that).
#include <algorithm>
#include <atomic>
#include <cstring>
#include <thread>

#include "tests/compress/test_util.h"

namespace vmc::compress::testing {
namespace {

using bench::PageKind;

TEST(CodecApi, Names) {
  EXPECT_EQ(codec_name(CodecKind::kNone), "none");
  EXPECT_EQ(codec_name(CodecKind::kZlib), "zlib");
  EXPECT_EQ(codec_name(CodecKind::kLzo), "lzo");
  EXPECT_EQ(codec_name(CodecKind::kSnappy), "snappy");
  EXPECT_EQ(codec_name(CodecKind::kZstd), "zstd");
}

TEST(CodecApi, NoneHasNoCodec) {
  EXPECT_EQ(make_codec(CodecKind::kNone), nullptr);
  EXPECT_TRUE(codec_available(CodecKind::kNone));
  EXPECT_TRUE(codec_available(CodecKind::kZlib));
}

TEST(CodecApi, AvailabilityMatchesTheBuild) {
  EXPECT_EQ(codec_available(CodecKind::kLzo), VMC_COMPRESS_WITH_LZO != 0);
  EXPECT_EQ(codec_available(CodecKind::kSnappy), VMC_COMPRESS_WITH_SNAPPY != 0);
  EXPECT_EQ(codec_available(CodecKind::kZstd), VMC_COMPRESS_WITH_ZSTD != 0);
  for (CodecKind k : kCodecs) EXPECT_EQ(make_codec(k) != nullptr, codec_available(k)) << codec_name(k);
}

TEST_P(CodecTest, KindAndBound) {
  EXPECT_EQ(codec_->kind(), GetParam());
  EXPECT_GT(codec_->max_compressed_size(kPage), kPage);
  EXPECT_GE(codec_->max_compressed_size(65536), codec_->max_compressed_size(kPage));
}

// Round trip on many pages of every kind, through one codec object.
TEST_P(CodecTest, RoundTripEveryKind) {
  for (PageKind kind : bench::kAllPageKinds) {
    size_t compressed = 0, total = 0;
    for (uint64_t i = 0; i < 64; ++i) {
      auto page = page_of(kind, 42, i);
      auto packed = compress_page(*codec_, page);
      if (packed.empty()) continue;  // stored raw
      ASSERT_LT(packed.size(), kPage);
      std::vector<std::byte> back(kPage, std::byte{0xAA});
      ASSERT_TRUE(codec_->decompress(packed, back)) << page_kind_name(kind) << " page " << i;
      ASSERT_EQ(back, page) << page_kind_name(kind) << " page " << i;
      ++compressed;
      total += packed.size();
    }
    SCOPED_TRACE(std::string(page_kind_name(kind)));
    if (kind == PageKind::kRandom) {
      EXPECT_EQ(compressed, 0u);
    } else {
      EXPECT_EQ(compressed, 64u);  // every zero, text, kernel and mixed page gets smaller
    }
    if (kind == PageKind::kZero) {
      EXPECT_LT(total, 64u * 256);  // snappy: 196 bytes (copies of at most 64)
    }
  }
}

TEST_P(CodecTest, IncompressiblePagesReturnZero) {
  for (uint64_t seed = 1; seed <= 8; ++seed) {
    for (uint64_t i = 0; i < 32; ++i) {
      auto page = page_of(PageKind::kRandom, seed, i);
      std::vector<std::byte> dst(codec_->max_compressed_size(kPage));
      EXPECT_EQ(codec_->compress(page, dst), 0u) << "seed " << seed << " page " << i;
    }
  }
}

// A page that compresses to exactly the page size minus a little still
// counts; the boundary case "not smaller" must give 0.
TEST_P(CodecTest, ResultIsAlwaysSmallerThanThePage) {
  for (uint32_t per_mille = 0; per_mille <= 1000; per_mille += 50) {
    for (uint64_t i = 0; i < 8; ++i) {
      std::vector<std::byte> page(kPage);
      bench::fill_page_entropy(page, per_mille, 7, i);
      auto packed = compress_page(*codec_, page);
      if (packed.empty()) continue;
      EXPECT_LT(packed.size(), kPage);
      std::vector<std::byte> back(kPage);
      ASSERT_TRUE(codec_->decompress(packed, back));
      ASSERT_EQ(back, page);
    }
  }
}

// Reusing one codec (reset between pages) must give the same bytes as a fresh
// codec: nothing of one page may leak into the next.
TEST_P(CodecTest, ReuseGivesTheSameBytesAsAFreshCodec) {
  std::vector<std::vector<std::byte>> pages;
  for (uint64_t i = 0; i < 10; ++i) {
    for (PageKind kind : bench::kAllPageKinds) pages.push_back(page_of(kind, 3, i));
  }
  std::vector<std::byte> scratch(kPage);
  for (const auto& page : pages) {
    auto reused = compress_page(*codec_, page);
    // Interleave a decompress on the same object too.
    if (!reused.empty()) {
      ASSERT_TRUE(codec_->decompress(reused, scratch));
    }
    auto fresh_codec = make_codec(GetParam());
    EXPECT_EQ(reused, compress_page(*fresh_codec, page));
  }
}

TEST_P(CodecTest, SmallDestinationBuffers) {
  for (PageKind kind : {PageKind::kText, PageKind::kKernel, PageKind::kMixed, PageKind::kZero}) {
    auto page = page_of(kind, 11, 0);
    auto packed = compress_page(*codec_, page);
    ASSERT_FALSE(packed.empty());
    // Exactly the room it needs: the same bytes.
    std::vector<std::byte> exact(packed.size() + 16, std::byte{0xEE});
    ASSERT_EQ(codec_->compress(page, std::span(exact).first(packed.size())), packed.size());
    EXPECT_TRUE(std::equal(packed.begin(), packed.end(), exact.begin()));
    EXPECT_TRUE(std::all_of(exact.begin() + static_cast<ptrdiff_t>(packed.size()), exact.end(),
                            [](std::byte b) { return b == std::byte{0xEE}; }))
        << "wrote past the end of dst";
    // Less room: "store raw", and nothing written past dst.
    for (size_t room : {packed.size() - 1, packed.size() / 2, size_t{1}, size_t{0}}) {
      std::vector<std::byte> small(room + 16, std::byte{0xEE});
      EXPECT_EQ(codec_->compress(page, std::span(small).first(room)), 0u) << "room " << room;
      EXPECT_TRUE(std::all_of(small.begin() + static_cast<ptrdiff_t>(room), small.end(),
                              [](std::byte b) { return b == std::byte{0xEE}; }))
          << "room " << room;
    }
    // And the codec still works afterwards.
    EXPECT_EQ(compress_page(*codec_, page), packed);
  }
}

TEST_P(CodecTest, EmptyInput) {
  std::vector<std::byte> dst(64), page(kPage);
  EXPECT_EQ(codec_->compress({}, dst), 0u);
  EXPECT_FALSE(codec_->decompress({}, page));
}

TEST_P(CodecTest, OtherPageSizes) {
  for (size_t size : {size_t{512}, size_t{8192}, size_t{16384}, size_t{65536}}) {
    auto page = page_of(PageKind::kKernel, 5, 1, size);
    auto packed = compress_page(*codec_, page);
    ASSERT_FALSE(packed.empty()) << size;
    std::vector<std::byte> back(size);
    ASSERT_TRUE(codec_->decompress(packed, back)) << size;
    EXPECT_EQ(back, page);
  }
}

// A valid stream for one page size does not decode into another.
TEST_P(CodecTest, WrongPageSizeIsRefused) {
  auto page = page_of(PageKind::kText, 9, 0);
  auto packed = compress_page(*codec_, page);
  ASSERT_FALSE(packed.empty());
  for (size_t size : {kPage - 1, kPage + 1, kPage / 2, kPage * 2, size_t{0}}) {
    std::vector<std::byte> back(size);
    EXPECT_FALSE(codec_->decompress(packed, back)) << size;
  }
  std::vector<std::byte> back(kPage);
  EXPECT_TRUE(codec_->decompress(packed, back));
}

TEST_P(CodecTest, EveryTruncationIsRefused) {
  for (PageKind kind : {PageKind::kZero, PageKind::kText, PageKind::kKernel, PageKind::kMixed}) {
    auto page = page_of(kind, 13, 2);
    auto packed = compress_page(*codec_, page);
    ASSERT_FALSE(packed.empty());
    std::vector<std::byte> back(kPage);
    for (size_t len = 0; len < packed.size(); ++len) {
      // A copy of exactly len bytes, so a read past it is caught by ASan.
      std::vector<std::byte> cut(packed.begin(), packed.begin() + static_cast<ptrdiff_t>(len));
      EXPECT_FALSE(codec_->decompress(cut, back)) << page_kind_name(kind) << " cut to " << len;
    }
  }
}

// Flipped bits and overwritten bytes: never a crash. A codec without a
// checksum (lzo, snappy, zstd as makedumpfile writes it) may decode some of
// them to wrong data; zlib's adler32 catches data damage, so any "success"
// there must be the original page.
TEST_P(CodecTest, CorruptInputNeverCrashes) {
  bench::Rng rng(0xC0FFEE + static_cast<uint64_t>(GetParam()));
  std::vector<std::byte> back(kPage);
  size_t accepted = 0, tries = 0;
  for (PageKind kind : {PageKind::kZero, PageKind::kText, PageKind::kKernel, PageKind::kMixed}) {
    for (uint64_t i = 0; i < 8; ++i) {
      auto page = page_of(kind, 17, i);
      auto packed = compress_page(*codec_, page);
      ASSERT_FALSE(packed.empty());
      for (int round = 0; round < 300; ++round) {
        auto bad = packed;
        int damage = static_cast<int>(rng.between(1, 4));
        for (int d = 0; d < damage; ++d) {
          size_t at = rng.below(bad.size());
          if (rng.chance(500)) {
            bad[at] ^= static_cast<std::byte>(1u << rng.below(8));
          } else {
            bad[at] = static_cast<std::byte>(rng.next());
          }
        }
        ++tries;
        if (codec_->decompress(bad, back)) {
          ++accepted;
          if (GetParam() == CodecKind::kZlib && bad != packed) {
            // Only header damage that changes nothing (e.g. FLEVEL bits) may pass.
            EXPECT_EQ(back, page);
          }
        }
      }
    }
  }
  RecordProperty("accepted", static_cast<int>(accepted));
  EXPECT_LT(accepted, tries);
}

// Random garbage, and garbage behind a plausible header, of every length up
// to two pages.
TEST_P(CodecTest, GarbageIsRefused) {
  bench::Rng rng(0xBAD + static_cast<uint64_t>(GetParam()));
  std::vector<std::byte> back(kPage);
  size_t accepted = 0;
  for (int round = 0; round < 20000; ++round) {
    std::vector<std::byte> junk(rng.below(2 * kPage + 1));
    for (auto& b : junk) b = static_cast<std::byte>(rng.next());
    // Half the time, start like a real page of this codec so the decoder gets
    // past its first checks.
    if (rng.chance(500) && junk.size() >= 4) {
      switch (GetParam()) {
        case CodecKind::kZlib: junk[0] = std::byte{0x78}; junk[1] = std::byte{0x01}; break;
        case CodecKind::kSnappy: junk[0] = std::byte{0x80}; junk[1] = std::byte{0x20}; break;  // varint 4096
        case CodecKind::kZstd:
          junk[0] = std::byte{0x28}; junk[1] = std::byte{0xB5}; junk[2] = std::byte{0x2F}; junk[3] = std::byte{0xFD};
          break;
        case CodecKind::kLzo: junk[0] = std::byte{static_cast<uint8_t>(rng.below(18))}; break;
        case CodecKind::kNone: break;
      }
    }
    if (codec_->decompress(junk, back)) ++accepted;
  }
  // A random stream that happens to decode to exactly one page is possible
  // for the checksum-less codecs, but rare.
  EXPECT_LT(accepted, 20u);
}

// One codec per thread, first use at the same moment (lzo_init, lazy
// contexts), all giving the same bytes.
TEST_P(CodecTest, OneCodecPerThread) {
  auto page = page_of(PageKind::kKernel, 21, 0);
  auto expected = compress_page(*codec_, page);
  std::atomic<int> bad{0};
  std::atomic<bool> go{false};
  std::vector<std::thread> threads;
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([&, kind = GetParam()] {
      auto codec = make_codec(kind);
      while (!go.load()) std::this_thread::yield();
      std::vector<std::byte> back(kPage);
      for (int r = 0; r < 200; ++r) {
        auto packed = compress_page(*codec, page);
        if (packed != expected || !codec->decompress(packed, back) || back != page) ++bad;
      }
    });
  }
  go = true;
  for (auto& t : threads) t.join();
  EXPECT_EQ(bad.load(), 0);
}

INSTANTIATE_TEST_SUITE_P(AllCodecs, CodecTest, ::testing::ValuesIn(kCodecs), codec_param_name);

}  // namespace
}  // namespace vmc::compress::testing
