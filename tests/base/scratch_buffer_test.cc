// io::ScratchBuffer: small buffers from the heap, large ones mapped 2 MiB
// aligned (so that THP can back them), every byte writable, moves that leave
// one owner.
#include "base/scratch_buffer.h"

#include <gtest/gtest.h>

#include <cstdint>
#include <cstring>
#include <utility>

namespace vmc::io {
namespace {

constexpr size_t kHuge = ScratchBuffer::kHugePage;

void expect_writable(const ScratchBuffer& b) {
  std::memset(b.data(), 0xA5, b.size());
  EXPECT_EQ(b.data()[0], std::byte{0xA5});
  EXPECT_EQ(b.data()[b.size() - 1], std::byte{0xA5});
}

TEST(ScratchBuffer, SmallBuffersComeFromTheHeap) {
  ScratchBuffer b(64 << 10);
  EXPECT_FALSE(b.mapped());
  EXPECT_EQ(b.size(), size_t{64} << 10);
  expect_writable(b);
}

TEST(ScratchBuffer, LargeBuffersAreMappedOnAHugePageBoundary) {
  for (size_t bytes : {ScratchBuffer::kMapAtLeast, size_t{256} * 4419 + 1, kHuge, kHuge + 64,
                       3 * kHuge + (kHuge / 2)}) {
    ScratchBuffer b(bytes);
    EXPECT_TRUE(b.mapped()) << bytes;
    EXPECT_EQ(b.size(), bytes);
    EXPECT_EQ(reinterpret_cast<uintptr_t>(b.data()) % kHuge, 0u) << bytes;
    expect_writable(b);
  }
}

TEST(ScratchBuffer, MovingLeavesOneOwner) {
  ScratchBuffer a(kHuge);
  std::byte* p = a.data();
  ScratchBuffer b(std::move(a));
  EXPECT_EQ(b.data(), p);
  EXPECT_EQ(a.data(), nullptr);  // NOLINT(bugprone-use-after-move): the point of the test
  EXPECT_EQ(a.size(), 0u);
  ScratchBuffer c(16);
  c = std::move(b);
  EXPECT_EQ(c.data(), p);
  EXPECT_TRUE(c.mapped());
  expect_writable(c);
}

TEST(ScratchBuffer, AnEmptyBufferIsValid) {
  ScratchBuffer none;
  EXPECT_EQ(none.data(), nullptr);
  ScratchBuffer zero(0);
  EXPECT_EQ(zero.size(), 0u);
  EXPECT_FALSE(zero.mapped());
}

}  // namespace
}  // namespace vmc::io
