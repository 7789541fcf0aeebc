// From struct page bytes to PageInfo facts. PageLayout holds, resolved once
// from VMCOREINFO, everything that differs between kernel versions: field
// offsets, flag bits, page-type values, where a compound page keeps its order
// and hugetlb marker, and how a tail links to its head. Only what VMCOREINFO
// does not carry comes from the kernel version (field widths: 2-byte
// compound_order/dtor before 4.16; the 6.6+ order byte when no hugetlb entry
// says so).
#pragma once

#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include "base/error.h"
#include "vmcoreinfo/pages/page_classify.h"
#include "vmcoreinfo/table/vmcoreinfo.h"

namespace vmc {

// The largest compound page on x86_64 is a 1 GiB gigantic hugetlb page (PUD
// order 18); a head claiming more is damaged. Also how far back the filter
// looks for blocks that begin before its range.
inline constexpr unsigned kMaxCompoundOrder = 18;

// Where a compound head's order is, in its first tail page.
enum class OrderSource : uint8_t {
  kNone,
  kLruPrev,        // <= 4.3: page[1].lru.prev, a whole word
  kCompoundOrder,  // 4.4-6.2: OFFSET(page.compound_order), 2 bytes before 4.16, 1 after
  kFolioOrder,     // 6.3-6.5: OFFSET(folio._folio_order) - SIZE(page), 1 byte
  kFlags1Byte,     // 6.6+: the low byte of page[1].flags (folio._flags_1)
};

// How a hugetlbfs head is recognised.
enum class HugetlbMarker : uint8_t {
  kNone,
  kFreeHugePage,  // <= 4.3: page[1].lru.next == SYMBOL(free_huge_page)
  kDtor,          // 4.4-6.5: compound_dtor == NUMBER(HUGETLB_PAGE_DTOR)
  kFlags1Bit,     // 6.6-6.8: NUMBER(PG_hugetlb) set in page[1].flags
  kPageType,      // 6.9+: head page type == NUMBER(PAGE_HUGETLB_MAPCOUNT_VALUE)
};

// How the first tail of a compound page points back at its head.
enum class TailLink : uint8_t {
  kNone,
  kFirstPage,     // <= 4.3: page[1].first_page (shares page.private) == head
  kCompoundHead,  // 4.4+: page[1].compound_head == head | 1
  kCompoundInfo,  // 7.1+: compound_info, a head pointer | 1 or a mask (HVO)
};

struct PageLayout {
  uint32_t size = 0;  // SIZE(page)
  uint32_t flags_off = 0;
  std::optional<uint32_t> mapping_off, mapcount_off, private_off, compound_head_off;

  uint64_t lru_mask = 0, private_mask = 0, swapcache_mask = 0, swapbacked_mask = 0;
  uint64_t hwpoison_mask = 0, head_mask = 0, slab_mask = 0;
  // PG_swapcache is its own bit before 4.10; after, an alias of
  // PG_owner_priv_1 that means swap cache only with PG_swapbacked.
  bool swapcache_alone = false;

  // Page-type / _mapcount values, compared as 32-bit words.
  std::optional<uint32_t> buddy_value, offline_value, slab_value, hugetlb_value, unaccepted_value;
  uint32_t free_orders = 0;  // LENGTH(zone.free_area): orders 0 .. free_orders - 1

  OrderSource order_source = OrderSource::kNone;
  uint32_t order_off = 0, order_width = 1;
  HugetlbMarker hugetlb_marker = HugetlbMarker::kNone;
  uint32_t dtor_off = 0, dtor_width = 1;
  uint64_t hugetlb_id = 0;  // the dtor id, free_huge_page's address or the PG_hugetlb mask
  TailLink tail_link = TailLink::kNone;

  // The dump level bits whose entries VMCOREINFO has (others: warned, kept).
  int usable_level = 0;
  std::optional<uint32_t> kernel_version;
};

// Resolves the layout for a dump level. Fails only without SIZE(page) or
// OFFSET(page.flags); every other missing entry becomes a warning naming it
// and disables what needs it.
Result<PageLayout> make_page_layout(const VmcoreInfo& info, int dump_level,
                                    std::vector<std::string>& warnings);

// The kernel versions whose struct page rules are known here (the layouts of
// tests/builder, RHEL 7's 3.10 to 7.1). Outside them, or with no usable
// OSRELEASE, the layout is still taken from VMCOREINFO, with a warning.
inline constexpr uint32_t kOldestKnownLayout = kernel_version_code(3, 10, 0);
inline constexpr uint32_t kNewestKnownLayout = kernel_version_code(7, 1, 255);

// One struct page, the one after it (the first tail, if this is a compound
// head; empty when not available) and the virtual address of the first.
struct StructPageBytes {
  std::span<const std::byte> page;
  std::span<const std::byte> next;
  uint64_t vaddr = 0;
  uint64_t pfn = 0;
};

// Never fails: bytes that prove nothing decode to a PageInfo that keeps the
// page. page must hold layout.size bytes.
PageInfo decode(const PageLayout& layout, const StructPageBytes& bytes);

}  // namespace vmc
