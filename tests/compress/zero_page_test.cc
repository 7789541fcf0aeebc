// is_zero_page, and both of its implementations (the portable one and, on
// x86-64, the SSE2 one it uses), against a byte-by-byte reference.
#include <algorithm>

#include "compress/codec_impl.h"
#include "tests/compress/test_util.h"

namespace vmc::compress::testing {
namespace {

bool reference(std::span<const std::byte> s) {
  return std::all_of(s.begin(), s.end(), [](std::byte b) { return b == std::byte{0}; });
}

using Impl = bool (*)(std::span<const std::byte>);

bool portable(std::span<const std::byte> s) {
  return detail::is_zero_portable(reinterpret_cast<const unsigned char*>(s.data()), s.size());
}
#if defined(__SSE2__)
bool sse2(std::span<const std::byte> s) {
  return detail::is_zero_sse2(reinterpret_cast<const unsigned char*>(s.data()), s.size());
}
#endif

std::vector<std::pair<const char*, Impl>> impls() {
  std::vector<std::pair<const char*, Impl>> v = {{"is_zero_page", is_zero_page}, {"portable", portable}};
#if defined(__SSE2__)
  v.emplace_back("sse2", sse2);
#endif
  return v;
}

TEST(IsZeroPage, ZeroPage) {
  std::vector<std::byte> page(kPage);
  for (auto [name, f] : impls()) EXPECT_TRUE(f(page)) << name;
}

TEST(IsZeroPage, EmptySpanIsZero) {
  for (auto [name, f] : impls()) EXPECT_TRUE(f({})) << name;
}

// Every position of a single non-zero byte, with a low, a high and an all-ones bit pattern.
TEST(IsZeroPage, SingleNonZeroByteAnywhere) {
  std::vector<std::byte> page(kPage);
  for (auto [name, f] : impls()) {
    for (size_t i = 0; i < kPage; ++i) {
      for (std::byte v : {std::byte{0x01}, std::byte{0x80}, std::byte{0xFF}}) {
        page[i] = v;
        ASSERT_FALSE(f(page)) << name << " byte " << i;
        page[i] = std::byte{0};
      }
    }
    EXPECT_TRUE(f(page)) << name;
  }
}

// Any length and any alignment (the start of a span need not be aligned).
TEST(IsZeroPage, AllLengthsAndAlignments) {
  std::vector<std::byte> buf(kPage + 256);
  for (auto [name, f] : impls()) {
    for (size_t offset = 0; offset < 17; ++offset) {
      for (size_t len = 0; len <= 300; ++len) {
        auto s = std::span(buf).subspan(offset, len);
        ASSERT_TRUE(f(s)) << name << " offset " << offset << " len " << len;
        for (size_t i = 0; i < len; ++i) {
          s[i] = std::byte{0x10};
          ASSERT_FALSE(f(s)) << name << " offset " << offset << " len " << len << " byte " << i;
          s[i] = std::byte{0};
        }
      }
      // A non-zero byte just outside the span is not looked at.
      auto s = std::span(buf).subspan(offset + 1, kPage);
      buf[offset] = std::byte{1};
      buf[offset + 1 + kPage] = std::byte{1};
      EXPECT_TRUE(f(s)) << name << " offset " << offset;
      buf[offset] = std::byte{0};
      buf[offset + 1 + kPage] = std::byte{0};
    }
  }
}

TEST(IsZeroPage, AgreesWithReferenceOnGeneratedPages) {
  for (bench::PageKind kind : bench::kAllPageKinds) {
    for (uint64_t i = 0; i < 64; ++i) {
      auto page = page_of(kind, 8, i);
      for (auto [name, f] : impls()) EXPECT_EQ(f(page), reference(page)) << name;
    }
  }
}

}  // namespace
}  // namespace vmc::compress::testing
