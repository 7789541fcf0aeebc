// bench/datagen.h: the page generator the benchmark and these tests rely on.
#include <set>

#include <zlib.h>

#include "tests/compress/test_util.h"

namespace vmc::compress::testing {
namespace {

using bench::PageKind;

double zlib_ratio(const std::vector<std::byte>& pages) {
  std::vector<unsigned char> out(compressBound(kPage));
  size_t stored = 0;
  for (size_t at = 0; at < pages.size(); at += kPage) {
    uLongf len = out.size();
    compress2(out.data(), &len, reinterpret_cast<const unsigned char*>(pages.data()) + at, kPage, 1);
    stored += std::min<size_t>(len, kPage);
  }
  return static_cast<double>(pages.size()) / static_cast<double>(stored);
}

TEST(DataGen, DeterministicFromSeedAndIndex) {
  for (PageKind kind : bench::kAllPageKinds) {
    EXPECT_EQ(bench::make_pages(kind, 16, 5), bench::make_pages(kind, 16, 5)) << page_kind_name(kind);
    // Page i does not depend on the pages made before it.
    auto many = bench::make_pages(kind, 16, 5);
    auto one = page_of(kind, 5, 9);
    EXPECT_TRUE(std::equal(one.begin(), one.end(), many.begin() + 9 * kPage)) << page_kind_name(kind);
  }
}

// Pinned values: a change to the generator changes every benchmark's input,
// which must be on purpose (update these then).
TEST(DataGen, PinnedOutput) {
  bench::Rng rng(1);
  EXPECT_EQ(rng.next(), 0xb3f2af6d0fc710c5ULL);  // xoshiro256** seeded by splitmix64(1)
  auto crc = [](std::span<const std::byte> v) {
    return crc32(0, reinterpret_cast<const unsigned char*>(v.data()), static_cast<uInt>(v.size()));
  };
  const std::pair<PageKind, uLong> expected[] = {{PageKind::kZero, 0x011ffca6},   {PageKind::kRandom, 0xa17295f2},
                                                 {PageKind::kText, 0xd1d9f772},   {PageKind::kKernel, 0x7c7b2a53},
                                                 {PageKind::kMixed, 0xdd365c4c}};
  for (auto [kind, want] : expected) EXPECT_EQ(crc(bench::make_pages(kind, 8, 1)), want) << page_kind_name(kind);
  std::vector<std::byte> page(kPage);
  bench::fill_page_entropy(page, 500, 1, 0);
  EXPECT_EQ(crc(page), 0x5ad4969au);
}

TEST(DataGen, SeedsAndIndicesDiffer) {
  for (PageKind kind : {PageKind::kRandom, PageKind::kText, PageKind::kKernel, PageKind::kMixed}) {
    std::set<std::vector<std::byte>> seen;
    for (uint64_t seed = 0; seed < 4; ++seed) {
      for (uint64_t i = 0; i < 8; ++i) seen.insert(page_of(kind, seed, i));
    }
    EXPECT_EQ(seen.size(), 32u) << page_kind_name(kind);
  }
}

TEST(DataGen, KindsHaveTheirCompressibility) {
  EXPECT_TRUE(is_zero_page(bench::make_pages(PageKind::kZero, 4, 1)));
  double random = zlib_ratio(bench::make_pages(PageKind::kRandom, 64, 1));
  double text = zlib_ratio(bench::make_pages(PageKind::kText, 64, 1));
  double kernel = zlib_ratio(bench::make_pages(PageKind::kKernel, 64, 1));
  double mixed = zlib_ratio(bench::make_pages(PageKind::kMixed, 64, 1));
  RecordProperty("ratios", std::to_string(random) + " " + std::to_string(text) + " " + std::to_string(kernel) +
                               " " + std::to_string(mixed));
  EXPECT_DOUBLE_EQ(random, 1.0);
  EXPECT_GT(text, 2.0);
  EXPECT_LT(text, 6.0);
  EXPECT_GT(kernel, 1.5);
  EXPECT_LT(kernel, 8.0);
  EXPECT_GT(mixed, 1.2);
  EXPECT_LT(mixed, text);
}

TEST(DataGen, EntropyKnobOrdersTheRatio) {
  double last = 1e9;
  for (uint32_t per_mille : {0u, 250u, 500u, 750u, 1000u}) {
    std::vector<std::byte> pages(32 * kPage);
    for (size_t i = 0; i < 32; ++i) {
      bench::fill_page_entropy(std::span(pages).subspan(i * kPage, kPage), per_mille, 1, i);
    }
    double ratio = zlib_ratio(pages);
    EXPECT_LT(ratio, last) << per_mille;
    last = ratio;
  }
  EXPECT_LT(last, 1.05);
}

}  // namespace
}  // namespace vmc::compress::testing
