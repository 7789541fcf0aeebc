// Kernel page tables as data: one walker, and a small description per
// architecture and configuration (levels, index bits per level, how an entry
// says "valid", "ends the walk here" and "the next address is"). Architecture
// is chosen from the dump, never from the host, so the description carries
// the tables' byte order too: the dump's on x86_64 and arm64, and always
// big-endian for ppc64, whose radix tree is big-endian on ppc64le as well.
#pragma once

#include <bit>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "base/error.h"
#include "base/physical_memory.h"

namespace vmc {

// How a table entry encodes validity, leaves and addresses.
enum class EntryEncoding : uint8_t {
  kX86_64,       // present bit 0; PSE (bit 7) makes a 1 GiB / 2 MiB leaf; address bits 12-51
  kArm64,        // valid bit 0; bits[1:0] 0b01 a block above the last level; address bits [47:page_shift]
  kArm64Lpa64k,  // as kArm64 with 64 KiB pages and 52-bit PA: address bits [51:48] in entry bits [15:12]
  kArm64Lpa2,    // as kArm64 with 4/16 KiB pages and LPA2: address bits [49:page_shift], [51:50] in bits [9:8]
  kPpc64Radix,   // valid bit 63; _PAGE_PTE (bit 62) marks a leaf; next table at bits [59:8]
};

struct PageTableFormat {
  std::string name;                       // for messages: "x86_64 4-level", "arm64 16K 48-bit VA"
  EntryEncoding encoding = EntryEncoding::kX86_64;
  unsigned page_shift = 12;               // the smallest page, mapped by the last level
  std::vector<unsigned> index_bits;       // per level, the top level first
  std::vector<std::string> level_names;   // per level, the top level first
  std::endian byte_order = std::endian::little;
  uint64_t strip_mask = 0;                // bits cleared from every entry first (x86_64's SME C-bit)
  unsigned max_leaf_height = 2;           // how many levels above the last one a leaf may be

  int levels() const { return static_cast<int>(index_bits.size()); }
  // The virtual address bits the tables translate.
  unsigned va_bits() const;
};

// x86_64 with 4 or 5 levels of 512 entries.
PageTableFormat x86_64_page_tables(int levels, uint64_t sme_mask);
// arm64's translation table for TTBR1 (kernel addresses): page_shift 12, 14
// or 16; va_bits 36 to 52 (the level count and the top table's size follow,
// as in the kernel's ARM64_HW_PGTABLE_LEVELS); pa52 for a kernel built with
// 52-bit physical addresses (LPA with 64 KiB pages, LPA2 with 4 or 16 KiB).
Result<PageTableFormat> arm64_page_tables(unsigned page_shift, unsigned va_bits, bool pa52);
// ppc64's radix tree (POWER9 and later): 64 KiB pages (13/9/9/5 index bits)
// or 4 KiB pages (9/9/9/9).
Result<PageTableFormat> ppc64_radix_page_tables(unsigned page_shift);

// Where a walk ended: the physical address, and how many bytes from there
// stay physically contiguous within the same mapping (to the end of its page
// or block).
struct PageTableHit {
  uint64_t paddr;
  uint64_t contiguous;
};

// Walks tables in a dump, keeping the tables it read (each read whole, the
// cache bounded), so that walking a terabyte machine's mem_map reads each
// table once. Thread-safe.
class PageTableWalker {
 public:
  PageTableWalker(PhysicalMemory& memory, PageTableFormat format);
  ~PageTableWalker();
  PageTableWalker(const PageTableWalker&) = delete;
  PageTableWalker& operator=(const PageTableWalker&) = delete;

  const PageTableFormat& format() const { return format_; }
  // top_table: the physical address of the top-level table.
  Result<PageTableHit> walk(uint64_t top_table, uint64_t vaddr) const;

 private:
  class TableCache;
  Result<uint64_t> entry(int level, uint64_t table, uint64_t index) const;

  PhysicalMemory& memory_;
  PageTableFormat format_;
  std::unique_ptr<TableCache> cache_;
};

}  // namespace vmc
