// The filter's policy, separate from how the facts were read: classify() is a
// pure function of what decode() proved about one struct page and of the dump
// level, so it is tested as a table. Every kernel-version difference stays in
// page_decode.{h,cc}.
#pragma once

#include <cstdint>
#include <optional>

#include "vmcoreinfo/pages/dump_level.h"

namespace vmc {

// What one struct page provably says. A fact decode() could not establish
// (damaged struct page, VMCOREINFO entry missing) is left false, so the page
// is kept.
struct PageInfo {
  bool tail = false;        // a compound tail page: its head decides for it
  bool slab = false;        // slab fields overlay the page: overlay tests are void
  bool other_type = false;  // a page type not exported (page table, guard, zsmalloc, ...)
  bool buddy = false;       // a free buddy block head, of buddy_order
  uint8_t buddy_order = 0;
  bool unaccepted = false;  // a not-yet-accepted block (6.16+), of unaccepted_order
  uint8_t unaccepted_order = 0;
  bool lru = false;         // PG_lru
  bool swapcache = false;   // PG_swapcache that really means swap cache (with PG_swapbacked from 4.10)
  bool private_data = false;  // PG_private
  bool anon = false;        // mapping bit 0 (anonymous or KSM)
  bool hugetlb = false;     // a hugetlbfs page head
  bool hwpoison = false;    // PG_hwpoison
  bool offline = false;     // page type PG_offline (ballooned, not onlined)
  // The order of the compound page this head starts, once validated (aligned,
  // linked from its first tail); 0 for a single page or an unproven head.
  uint8_t compound_order = 0;

  bool cache() const { return lru || swapcache; }
};

// Keep (no reason), or leave out 2^order pages from the page's pfn.
struct Verdict {
  std::optional<ExcludeReason> reason;
  uint8_t order = 0;
  bool operator==(const Verdict&) const = default;
};

// makedumpfile's order: tail -> free (buddy, unaccepted) -> cache -> private
// cache -> user (anon, hugetlb) -> hwpoison -> offline. Slab and other typed
// pages are ruled out before any test whose fields the slab overlays.
// hwpoison and offline apply at any level.
Verdict classify(const PageInfo& page, int dump_level);

const char* exclude_reason_name(ExcludeReason reason);

}  // namespace vmc
