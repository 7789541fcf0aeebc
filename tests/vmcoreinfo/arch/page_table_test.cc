// The page-table walker on tables written here by hand, entry by entry as
// each architecture's manual lays them out: x86_64, arm64 with each page size
// and address width, and ppc64's big-endian radix tree.
#include "vmcoreinfo/arch/page_table.h"

#include <gtest/gtest.h>

#include <cstring>
#include <map>

#include "base/endian.h"

namespace vmc::testing {
namespace {

// Physical memory that holds only what a test wrote.
class SparseMemory final : public PhysicalMemory {
 public:
  const DumpMetadata& metadata() const override { return metadata_; }
  const std::vector<PfnRange>& ram() const override { return ram_; }
  void available(uint64_t, uint64_t, std::span<uint64_t>) const override {}
  Result<io::ByteView> pages(uint64_t pfn, uint64_t) override {
    return Error(ErrorKind::kIo, "no page data at pfn " + hex(pfn));
  }
  Status read_physical(uint64_t paddr, std::span<std::byte> out) override {
    for (size_t i = 0; i < out.size(); ++i) {
      auto it = bytes_.find(paddr + i);
      if (it == bytes_.end()) return Error(ErrorKind::kIo, "nothing at " + hex(paddr + i));
      out[i] = it->second;
    }
    return {};
  }
  void write(uint64_t paddr, std::span<const std::byte> data) {
    for (size_t i = 0; i < data.size(); ++i) bytes_[paddr + i] = data[i];
  }

 private:
  DumpMetadata metadata_;
  std::vector<PfnRange> ram_;
  std::map<uint64_t, std::byte> bytes_;
};

// Lays out tables for one format: a zeroed table per level as a walk needs
// it, and the entries that lead from the top table to a mapping.
class TableWriter {
 public:
  using Encode = uint64_t (*)(uint64_t address, bool leaf, unsigned height);
  TableWriter(SparseMemory& memory, PageTableFormat format, Encode encode)
      : memory_(memory), format_(std::move(format)), encode_(encode), top_(allocate(0)) {}

  uint64_t top() const { return top_; }

  // Maps vaddr to paddr with a leaf `height` levels above the last.
  void map(uint64_t vaddr, uint64_t paddr, unsigned height) {
    unsigned shift = format_.va_bits();
    uint64_t table = top_;
    int levels = format_.levels();
    for (int level = 0; level < levels; ++level) {
      unsigned bits = format_.index_bits[static_cast<size_t>(level)];
      shift -= bits;
      uint64_t slot = table + ((vaddr >> shift) & ((uint64_t{1} << bits) - 1)) * 8;
      auto h = static_cast<unsigned>(levels - 1 - level);
      if (h == height) {
        put(slot, encode_(paddr, true, h));
        return;
      }
      auto [it, fresh] = next_table_.try_emplace(slot, 0);
      if (fresh) {
        it->second = allocate(level + 1);
        put(slot, encode_(it->second, false, h));
      }
      table = it->second;
    }
  }

  void put(uint64_t slot, uint64_t value) {
    std::byte raw[8];
    if (format_.byte_order == std::endian::big) {
      Be64 v(value);
      std::memcpy(raw, &v, 8);
    } else {
      Le64 v(value);
      std::memcpy(raw, &v, 8);
    }
    memory_.write(slot, raw);
  }

 private:
  uint64_t allocate(int level) {
    uint64_t size = (uint64_t{1} << format_.index_bits[static_cast<size_t>(level)]) * 8;
    uint64_t align = std::max<uint64_t>(size, 256);
    next_free_ = (next_free_ + align - 1) / align * align;
    uint64_t at = next_free_;
    next_free_ += size;
    std::vector<std::byte> zeros(size);
    memory_.write(at, zeros);
    return at;
  }

  SparseMemory& memory_;
  PageTableFormat format_;
  Encode encode_;
  std::map<uint64_t, uint64_t> next_table_;  // slot -> the table its entry points at
  uint64_t next_free_ = 0x100000;
  uint64_t top_;
};

uint64_t x86_entry(uint64_t address, bool leaf, unsigned height) {
  return address | 0x63 | (leaf && height > 0 ? 0x80 : 0);  // present, rw, accessed, dirty; PSE
}
uint64_t arm64_entry(uint64_t address, bool leaf, unsigned height) {
  return address | 0x400 | (leaf && height > 0 ? 0x1 : 0x3);  // AF; block 0b01, table/page 0b11
}
uint64_t arm64_lpa64k_entry(uint64_t address, bool leaf, unsigned height) {
  return arm64_entry(address & ((uint64_t{1} << 48) - 1), leaf, height) | ((address >> 48) & 0xf) << 12;
}
uint64_t arm64_lpa2_entry(uint64_t address, bool leaf, unsigned height) {
  return arm64_entry(address & ((uint64_t{1} << 50) - 1), leaf, height) | ((address >> 50) & 0x3) << 8;
}
uint64_t radix_entry(uint64_t address, bool leaf, unsigned) {
  return uint64_t{1} << 63 | (leaf ? uint64_t{1} << 62 | 0x10e : 0x5) | address;  // valid; leaf + RWX; or table size
}

TEST(PageTableFormats, Arm64LevelsFollowPageSizeAndAddressWidth) {
  struct Case {
    unsigned page_shift, va_bits;
    std::vector<unsigned> index_bits;
  };
  for (const Case& c : {Case{12, 39, {9, 9, 9}}, Case{12, 48, {9, 9, 9, 9}}, Case{12, 52, {4, 9, 9, 9, 9}},
                        Case{14, 36, {11, 11}}, Case{14, 47, {11, 11, 11}}, Case{14, 48, {1, 11, 11, 11}},
                        Case{16, 42, {13, 13}}, Case{16, 48, {6, 13, 13}}, Case{16, 52, {10, 13, 13}}}) {
    auto f = arm64_page_tables(c.page_shift, c.va_bits, false);
    ASSERT_TRUE(f.ok()) << f.error().describe();
    EXPECT_EQ(f->index_bits, c.index_bits) << f->name;
    EXPECT_EQ(f->va_bits(), c.va_bits) << f->name;
  }
  EXPECT_FALSE(arm64_page_tables(13, 48, false).ok());
  EXPECT_FALSE(arm64_page_tables(12, 64, false).ok());
}

TEST(PageTableWalk, X86_64PagesOfEverySizeAndTheSmeBit) {
  SparseMemory memory;
  const uint64_t sme = uint64_t{1} << 47;
  auto format = x86_64_page_tables(4, sme);
  TableWriter tables(memory, format, [](uint64_t a, bool leaf, unsigned h) { return x86_entry(a, leaf, h) | (uint64_t{1} << 47); });
  tables.map(0xffffea0000001000, 0x7654000, 0);
  tables.map(0xffffea0040000000, 0x40000000, 1);  // 2 MiB
  tables.map(0xffff888100000000, 0x80000000, 2);  // 1 GiB
  PageTableWalker walker(memory, format);
  auto small = walker.walk(tables.top(), 0xffffea0000001234);
  ASSERT_TRUE(small.ok()) << small.error().describe();
  EXPECT_EQ(small->paddr, 0x7654234u);
  EXPECT_EQ(small->contiguous, 0x1000u - 0x234);
  auto medium = walker.walk(tables.top(), 0xffffea0040123456);
  ASSERT_TRUE(medium.ok()) << medium.error().describe();
  EXPECT_EQ(medium->paddr, 0x40123456u);
  EXPECT_EQ(medium->contiguous, 0x200000u - 0x123456);
  auto large = walker.walk(tables.top(), 0xffff888112345678);
  ASSERT_TRUE(large.ok()) << large.error().describe();
  EXPECT_EQ(large->paddr, 0x92345678u);
  auto unmapped = walker.walk(tables.top(), 0xffffc90000000000);
  ASSERT_FALSE(unmapped.ok());
  EXPECT_NE(unmapped.error().message().find("not mapped (PGD entry"), std::string::npos)
      << unmapped.error().message();
}

struct Arm64Case {
  const char* name;
  unsigned page_shift, va_bits;
  bool pa52;
  TableWriter::Encode encode;
  uint64_t vaddr, paddr;
  unsigned height;
};

class Arm64Walk : public ::testing::TestWithParam<Arm64Case> {};

TEST_P(Arm64Walk, TranslatesKernelAddresses) {
  const Arm64Case& c = GetParam();
  SparseMemory memory;
  auto format = arm64_page_tables(c.page_shift, c.va_bits, c.pa52);
  ASSERT_TRUE(format.ok()) << format.error().describe();
  TableWriter tables(memory, *format, c.encode);
  tables.map(c.vaddr, c.paddr, c.height);
  PageTableWalker walker(memory, *format);
  uint64_t leaf_size = uint64_t{1} << (c.page_shift + c.height * (c.page_shift - 3));
  auto hit = walker.walk(tables.top(), c.vaddr + 0x18);
  ASSERT_TRUE(hit.ok()) << hit.error().describe();
  EXPECT_EQ(hit->paddr, c.paddr + 0x18);
  EXPECT_EQ(hit->contiguous, leaf_size - 0x18);
  EXPECT_FALSE(walker.walk(tables.top(), c.vaddr + leaf_size).ok()) << "the next page is not mapped";
}

INSTANTIATE_TEST_SUITE_P(
    Layouts, Arm64Walk,
    ::testing::Values(
        Arm64Case{"k4_va39", 12, 39, false, arm64_entry, 0xffffffc008012000, 0x40012000, 0},
        Arm64Case{"k4_va48", 12, 48, false, arm64_entry, 0xffff800008012000, 0x40012000, 0},
        Arm64Case{"k4_va48_block2m", 12, 48, false, arm64_entry, 0xffff000000200000, 0x80200000, 1},
        Arm64Case{"k4_va48_block1g", 12, 48, false, arm64_entry, 0xffff000040000000, 0xc0000000, 2},
        Arm64Case{"k16_va47", 14, 47, false, arm64_entry, 0xffff800008014000, 0x40014000, 0},
        Arm64Case{"k16_va48", 14, 48, false, arm64_entry, 0xffff800008014000, 0x40014000, 0},
        Arm64Case{"k16_va52_lpa2", 14, 52, true, arm64_lpa2_entry, 0xfff0000008014000, 0x8000040014000, 0},
        Arm64Case{"k4_va52_lpa2", 12, 52, true, arm64_lpa2_entry, 0xfff0000008012000, 0xc000040012000, 0},
        Arm64Case{"k64_va42", 16, 42, false, arm64_entry, 0xfffffe0008010000, 0x40010000, 0},
        Arm64Case{"k64_va48", 16, 48, false, arm64_entry, 0xffff800008010000, 0x40010000, 0},
        Arm64Case{"k64_va52_lpa", 16, 52, true, arm64_lpa64k_entry, 0xfff0000008010000, 0xf000040010000, 0},
        Arm64Case{"k64_va48_block512m", 16, 48, false, arm64_entry, 0xffff000020000000, 0x60000000, 1}),
    [](const auto& p) { return std::string(p.param.name); });

TEST(PageTableWalk, Arm64ReservedLastLevelEntryIsNotAMapping) {
  SparseMemory memory;
  auto format = arm64_page_tables(12, 48, false);
  ASSERT_TRUE(format.ok());
  TableWriter tables(memory, *format, arm64_entry);
  tables.map(0xffff800008012000, 0x40012000, 0);
  PageTableWalker walker(memory, *format);
  ASSERT_TRUE(walker.walk(tables.top(), 0xffff800008012000).ok());
  // The same slot as a "block" (0b01) at the last level: reserved, not a page.
  TableWriter reserved(memory, *format, [](uint64_t a, bool leaf, unsigned h) {
    return h == 0 && leaf ? (a | 0x401) : arm64_entry(a, leaf, h);
  });
  reserved.map(0xffff800008012000, 0x40012000, 0);
  PageTableWalker fresh(memory, *format);  // the first walker keeps the tables it read
  auto hit = fresh.walk(reserved.top(), 0xffff800008012000);
  ASSERT_FALSE(hit.ok());
  EXPECT_NE(hit.error().message().find("not mapped (PTE entry"), std::string::npos) << hit.error().message();
}

TEST(PageTableWalk, Ppc64RadixIsBigEndianWithLeavesAtAnyLevel) {
  for (unsigned page_shift : {16u, 12u}) {
    SparseMemory memory;
    auto format = ppc64_radix_page_tables(page_shift);
    ASSERT_TRUE(format.ok());
    EXPECT_EQ(format->va_bits(), page_shift == 16 ? 52u : 48u);
    TableWriter tables(memory, *format, radix_entry);
    uint64_t page = uint64_t{1} << page_shift;
    tables.map(0xc00a000000000000 + 5 * page, 0x2000000 + 9 * page, 0);
    tables.map(0xc00a000040000000, 0x40000000, 1);  // 2 MiB
    PageTableWalker walker(memory, *format);
    auto small = walker.walk(tables.top(), 0xc00a000000000000 + 5 * page + 0x10);
    ASSERT_TRUE(small.ok()) << small.error().describe();
    EXPECT_EQ(small->paddr, 0x2000000 + 9 * page + 0x10);
    EXPECT_EQ(small->contiguous, page - 0x10);
    auto pmd = walker.walk(tables.top(), 0xc00a000040012345);
    ASSERT_TRUE(pmd.ok()) << pmd.error().describe();
    EXPECT_EQ(pmd->paddr, 0x40012345u);
  }
  EXPECT_FALSE(ppc64_radix_page_tables(14).ok());
}

}  // namespace
}  // namespace vmc::testing
