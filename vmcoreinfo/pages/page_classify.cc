// The policy as makedumpfile HEAD's __exclude_unnecessary_pages applies it,
// with two extra guards that only ever keep pages: a slab page is never cache,
// user, free or offline (its fields overlay flags-independent words), and a
// page carrying a type we do not know how to filter (page tables, guard,
// zsmalloc, large kmalloc) is never excluded.
#include "vmcoreinfo/pages/page_classify.h"

namespace vmc {

Verdict classify(const PageInfo& p, int level) {
  if (p.tail || p.other_type) return {};
  if (!p.slab) {
    if ((level & kDumpLevelFree) && p.buddy) return {ExcludeReason::kFree, p.buddy_order};
    if ((level & kDumpLevelFree) && p.unaccepted) return {ExcludeReason::kFree, p.unaccepted_order};
    if ((level & kDumpLevelCache) && p.cache() && !p.private_data && !p.anon) {
      return {ExcludeReason::kCache, p.compound_order};
    }
    if ((level & kDumpLevelCachePrivate) && p.cache() && !p.anon) {
      return {p.private_data ? ExcludeReason::kCachePrivate : ExcludeReason::kCache, p.compound_order};
    }
    if ((level & kDumpLevelUser) && (p.anon || p.hugetlb)) return {ExcludeReason::kUser, p.compound_order};
  }
  if (p.hwpoison) return {ExcludeReason::kHwpoison, p.compound_order};
  if (p.offline && !p.slab) return {ExcludeReason::kOffline, p.compound_order};
  return {};
}

const char* exclude_reason_name(ExcludeReason reason) {
  switch (reason) {
    case ExcludeReason::kZero: return "zero";
    case ExcludeReason::kCache: return "cache";
    case ExcludeReason::kCachePrivate: return "cache private";
    case ExcludeReason::kUser: return "user";
    case ExcludeReason::kFree: return "free";
    case ExcludeReason::kHwpoison: return "hwpoison";
    case ExcludeReason::kOffline: return "offline";
    case ExcludeReason::kUnreadable: return "unreadable";
    case ExcludeReason::kCount: break;
  }
  return "?";
}

}  // namespace vmc
