// Why decoding is separate from policy and so cautious: struct page is a stack
// of unions whose meaning depends on the page's own type, and its fields moved
// in almost every kernel release from 3.10 to 7.x. Each fact below is taken
// only when the entries that define it are exported and the words agree
// (a compound head's first tail must point back at it, a buddy order must fit
// LENGTH(zone.free_area) and the pfn's alignment); anything else keeps the page.
#include "vmcoreinfo/pages/page_decode.h"

#include <cstring>
#include <limits>

#include "base/checked_math.h"

namespace vmc {
namespace {

constexpr int kMemMapLevels = kDumpLevelCache | kDumpLevelCachePrivate | kDumpLevelUser | kDumpLevelFree;

template <typename T>
T load(std::span<const std::byte> bytes, uint32_t off) {
  T v;
  std::memcpy(&v, bytes.data() + off, sizeof v);
  return v;
}

uint64_t load_width(std::span<const std::byte> bytes, uint32_t off, uint32_t width) {
  switch (width) {
    case 1: return load<uint8_t>(bytes, off);
    case 2: return load<uint16_t>(bytes, off);
    case 4: return load<uint32_t>(bytes, off);
    default: return load<uint64_t>(bytes, off);
  }
}

bool aligned(uint64_t pfn, unsigned order) { return order < 64 && (pfn & ((uint64_t{1} << order) - 1)) == 0; }

class LayoutBuilder {
 public:
  LayoutBuilder(const VmcoreInfo& info, int level, std::vector<std::string>& warnings)
      : info_(info), level_(level), warnings_(warnings) {}

  Result<PageLayout> build() {
    auto size = info_.require_size("page");
    if (!size) return std::move(size).error();
    if (*size < 16 || *size > 4096) {
      return Error(ErrorKind::kBadInput, "VMCOREINFO SIZE(page)=" + std::to_string(*size) + " is not plausible");
    }
    l_.size = static_cast<uint32_t>(*size);
    auto flags = field("page.flags", 8);
    if (!flags && info_.offset("page.flags")) {
      return Error(ErrorKind::kBadInput, "VMCOREINFO OFFSET(page.flags)=" + std::to_string(*info_.offset("page.flags")) +
                                             " does not fit SIZE(page)=" + std::to_string(l_.size));
    }
    if (!flags) return Error(ErrorKind::kUnsupported, "VMCOREINFO has no usable OFFSET(page.flags)");
    l_.flags_off = *flags;
    l_.kernel_version = info_.kernel_version();
    version_warning();
    l_.mapping_off = field("page.mapping", 8);
    l_.mapcount_off = field("page._mapcount", 4);
    l_.private_off = field("page.private", 8);
    flag_bits();
    type_values();
    compound();
    usable_levels();
    return l_;
  }

 private:
  bool before(uint32_t major, uint32_t minor) const {
    return l_.kernel_version && *l_.kernel_version < kernel_version_code(major, minor, 0);
  }
  bool at_least(uint32_t major, uint32_t minor) const {
    return l_.kernel_version && *l_.kernel_version >= kernel_version_code(major, minor, 0);
  }

  // What the version decides is only what VMCOREINFO does not say (field
  // widths, where a compound order or tail link is when no entry names it);
  // without a known version none of it is assumed, so those pages are kept
  // or judged by their head alone, each with its own warning below.
  void version_warning() {
    if ((level_ & kMemMapLevels) == 0) return;
    const std::string release = info_.osrelease();
    const char* consequence = ": the struct page layout is taken from VMCOREINFO alone, and pages it cannot "
                              "judge are kept";
    if (!l_.kernel_version) {
      warnings_.push_back("VMCOREINFO has no usable OSRELEASE" + (release.empty() ? "" : " (\"" + release + "\")") +
                          ", so the kernel version is unknown" + consequence);
    } else if (*l_.kernel_version < kOldestKnownLayout || *l_.kernel_version > kNewestKnownLayout) {
      warnings_.push_back("kernel " + release + " (VMCOREINFO OSRELEASE) is outside the versions whose page rules "
                          "vmcollect knows (3.10 to 7.1)" + consequence);
    }
  }

  // An OFFSET that leaves room for a field of `width` bytes inside the page.
  std::optional<uint32_t> field(const char* name, uint32_t width, uint32_t in_size = 0) {
    auto off = info_.offset(name);
    if (!off) return std::nullopt;
    uint32_t limit = in_size ? in_size : l_.size;
    if (!fits_within(*off, width, limit)) {  // an offset near 2^64 must not wrap past the check
      warnings_.push_back("VMCOREINFO OFFSET(" + std::string(name) + ")=" + std::to_string(*off) +
                          " does not fit SIZE(page)=" + std::to_string(l_.size) + "; ignored");
      return std::nullopt;
    }
    return static_cast<uint32_t>(*off);
  }

  // Where the pointer `link` (list_head.prev or .next, default_link when not
  // exported) of the list_head at OFFSET(list) lies in struct page, when all 8
  // bytes of it fit in the page.
  std::optional<uint32_t> list_link(const char* list, const char* link, uint64_t default_link) {
    auto list_off = info_.offset(list);
    if (!list_off) return std::nullopt;
    auto off = checked_add(*list_off, info_.offset(link).value_or(default_link));
    if (!off || !fits_within(*off, 8, l_.size)) return std::nullopt;
    return static_cast<uint32_t>(*off);
  }

  uint64_t bit(const char* name) {
    auto n = info_.number(name);
    if (!n) return 0;
    if (*n < 0 || *n > 63) {
      warnings_.push_back("VMCOREINFO NUMBER(" + std::string(name) + ")=" + std::to_string(*n) +
                          " is not a page flag bit; ignored");
      return 0;
    }
    return uint64_t{1} << *n;
  }

  std::optional<uint32_t> type_value(const char* name) {
    auto n = info_.number(name);
    if (!n) return std::nullopt;
    // Printed with %ld: negative for the mask-era values (~0x80 = -129), and
    // either sign for 6.12's PGTY_x << 24. Both mean the same 32-bit word.
    if (*n < std::numeric_limits<int32_t>::min() || *n > int64_t{std::numeric_limits<uint32_t>::max()}) {
      warnings_.push_back("VMCOREINFO NUMBER(" + std::string(name) + ")=" + std::to_string(*n) +
                          " does not fit the 32-bit _mapcount/page_type word; ignored");
      return std::nullopt;
    }
    return static_cast<uint32_t>(*n);
  }

  void flag_bits() {
    l_.lru_mask = bit("PG_lru");
    l_.private_mask = bit("PG_private");
    l_.swapcache_mask = bit("PG_swapcache");
    l_.swapbacked_mask = bit("PG_swapbacked");
    l_.hwpoison_mask = bit("PG_hwpoison");
    l_.slab_mask = bit("PG_slab");  // <= 6.9; a page type from 6.10
    if (auto m = info_.number("PG_head_mask"); m && *m > 0 && (*m & (*m - 1)) == 0) {
      l_.head_mask = static_cast<uint64_t>(*m);
    }
    if (l_.swapcache_mask && !l_.swapbacked_mask) {
      auto sc = info_.number("PG_swapcache"), pr = info_.number("PG_private");
      if (pr && *sc < *pr && *pr + 6 < 64) {
        // 4.10-4.16: PG_swapcache aliases PG_owner_priv_1 (below PG_private)
        // and PG_swapbacked is not exported yet; it sits 6 bits above
        // PG_private in those kernels (makedumpfile ca1f31e).
        l_.swapbacked_mask = uint64_t{1} << (*pr + 6);
        warnings_.push_back("VMCOREINFO has no NUMBER(PG_swapbacked); assuming PG_private+6 = " +
                            std::to_string(*pr + 6) + " as 4.10-4.16 kernels have it");
      } else {
        l_.swapcache_alone = true;  // before 4.10 PG_swapcache means swap cache by itself
      }
    }
  }

  void type_values() {
    l_.buddy_value = type_value("PAGE_BUDDY_MAPCOUNT_VALUE");
    l_.offline_value = type_value("PAGE_OFFLINE_MAPCOUNT_VALUE");
    l_.slab_value = type_value("PAGE_SLAB_MAPCOUNT_VALUE");
    l_.hugetlb_value = type_value("PAGE_HUGETLB_MAPCOUNT_VALUE");
    l_.unaccepted_value = type_value("PAGE_UNACCEPTED_MAPCOUNT_VALUE");
    if (!l_.mapcount_off) {
      l_.buddy_value = l_.offline_value = l_.slab_value = l_.hugetlb_value = l_.unaccepted_value = std::nullopt;
    }
    if (auto n = info_.length("zone.free_area"); n && *n >= 1 && *n <= 64) l_.free_orders = static_cast<uint32_t>(*n);
  }

  void compound() {
    if (auto off = field("page.compound_info", 8)) {  // 7.1 rename
      l_.compound_head_off = off;
      l_.tail_link = TailLink::kCompoundInfo;
    } else if ((off = field("page.compound_head", 8))) {
      l_.compound_head_off = off;
      l_.tail_link = TailLink::kCompoundHead;
    } else if (before(4, 4) && l_.private_off) {
      l_.tail_link = TailLink::kFirstPage;
    }
    order_source();
    hugetlb_marker();
  }

  void order_source() {
    if (auto off = info_.offset("folio._folio_order"); off && *off >= l_.size && *off < 2 * l_.size) {
      l_.order_source = OrderSource::kFolioOrder;  // 6.3-6.5
      l_.order_off = static_cast<uint32_t>(*off - l_.size);
    } else if (auto o = field("page.compound_order", 1)) {
      l_.order_source = OrderSource::kCompoundOrder;  // 4.4-6.2
      l_.order_off = *o;
      l_.order_width = before(4, 16) ? 2 : 1;  // shrunk to a byte in 4.16 (036e7aa49fb2)
      if (!fits_within(l_.order_off, l_.order_width, l_.size)) l_.order_width = 1;
    } else if (info_.number("PG_hugetlb") || info_.number("PAGE_HUGETLB_MAPCOUNT_VALUE") ||
               (l_.compound_head_off && at_least(6, 6))) {
      l_.order_source = OrderSource::kFlags1Byte;  // 6.6+ (ebc1baf5c9b4)
    } else if (before(4, 4)) {
      if (auto prev = list_link("page.lru", "list_head.prev", 8)) {
        l_.order_source = OrderSource::kLruPrev;  // page[1].lru.prev
        l_.order_off = *prev;
        l_.order_width = 8;
      }
    }
  }

  void hugetlb_marker() {
    if (l_.hugetlb_value) {
      l_.hugetlb_marker = HugetlbMarker::kPageType;  // 6.9+
    } else if (uint64_t m = bit("PG_hugetlb")) {
      l_.hugetlb_marker = HugetlbMarker::kFlags1Bit;  // 6.6-6.8
      l_.hugetlb_id = m;
    } else if (auto id = info_.number("HUGETLB_PAGE_DTOR"); id && *id >= 0) {
      std::optional<uint32_t> off;
      if (auto f = info_.offset("folio._folio_dtor"); f && *f >= l_.size && *f < 2 * l_.size) {
        off = static_cast<uint32_t>(*f - l_.size);
      } else {
        off = field("page.compound_dtor", 1);
      }
      if (off) {
        l_.hugetlb_marker = HugetlbMarker::kDtor;  // 4.4-6.5
        l_.dtor_off = *off;
        l_.dtor_width = before(4, 16) && fits_within(*off, 2, l_.size) ? 2 : 1;
        l_.hugetlb_id = static_cast<uint64_t>(*id);
      }
    } else if (auto sym = info_.symbol("free_huge_page"); sym && before(4, 4)) {
      if (auto next = list_link("page.lru", "list_head.next", 0)) {
        l_.hugetlb_marker = HugetlbMarker::kFreeHugePage;  // page[1].lru.next
        l_.dtor_off = *next;
        l_.dtor_width = 8;
        l_.hugetlb_id = *sym;
      }
    }
  }

  void lose(int bits, const std::string& why) {
    if ((l_.usable_level & bits) == 0) return;
    std::string names;
    for (auto [b, n] : {std::pair{kDumpLevelCache, "2 (cache)"}, {kDumpLevelCachePrivate, "4 (private cache)"},
                        {kDumpLevelUser, "8 (user data)"}, {kDumpLevelFree, "16 (free)"}}) {
      if (l_.usable_level & bits & b) names += std::string(names.empty() ? "" : ", ") + n;
    }
    warnings_.push_back(why + ": dump level bit " + names + " cannot be applied; those pages are kept");
    l_.usable_level &= ~bits;
  }

  void usable_levels() {
    l_.usable_level = level_ & kMemMapLevels;
    bool slab_known = l_.slab_mask || l_.slab_value;
    const char* no_slab = "VMCOREINFO has no NUMBER(PG_slab) or NUMBER(PAGE_SLAB_MAPCOUNT_VALUE), so slab pages "
                          "cannot be ruled out";
    if (!slab_known) {
      lose(kDumpLevelFree | kDumpLevelUser, no_slab);
      l_.offline_value.reset();
    }
    if (!l_.mapcount_off) lose(kDumpLevelFree, "VMCOREINFO has no OFFSET(page._mapcount)");
    if (!l_.private_off) lose(kDumpLevelFree, "VMCOREINFO has no OFFSET(page.private)");
    if (!l_.buddy_value) lose(kDumpLevelFree, "VMCOREINFO has no NUMBER(PAGE_BUDDY_MAPCOUNT_VALUE)");
    if (!l_.free_orders) {
      lose(kDumpLevelFree, "VMCOREINFO has no LENGTH(zone.free_area)");
      l_.unaccepted_value.reset();
    }
    if (!l_.mapping_off) {
      lose(kDumpLevelCache | kDumpLevelCachePrivate | kDumpLevelUser,
           "VMCOREINFO has no OFFSET(page.mapping), so anonymous pages cannot be told apart");
    }
    if (!l_.lru_mask) lose(kDumpLevelCache | kDumpLevelCachePrivate, "VMCOREINFO has no NUMBER(PG_lru)");
    if (!l_.private_mask) lose(kDumpLevelCache, "VMCOREINFO has no NUMBER(PG_private)");
    if (!l_.compound_head_off && !before(4, 4)) {
      // From 4.5 a THP's first tail holds compound_mapcount where mapping is,
      // which looks anonymous: without the tail mark tails would be dropped.
      lose(kDumpLevelUser, "VMCOREINFO has no OFFSET(page.compound_head), so compound tail pages cannot be "
                           "recognised");
    }
    if ((l_.usable_level & (kDumpLevelCache | kDumpLevelCachePrivate | kDumpLevelUser)) &&
        (!l_.head_mask || l_.order_source == OrderSource::kNone || l_.tail_link == TailLink::kNone)) {
      warnings_.push_back(std::string("VMCOREINFO has no ") +
                          (!l_.head_mask ? "NUMBER(PG_head_mask)"
                           : l_.order_source == OrderSource::kNone
                               ? "entry locating the compound order (OFFSET(page.compound_order), "
                                 "OFFSET(folio._folio_order), NUMBER(PG_hugetlb) or "
                                 "NUMBER(PAGE_HUGETLB_MAPCOUNT_VALUE))"
                               : "OFFSET(page.compound_head)") +
                          ": compound pages are filtered by their head page only");
      l_.order_source = OrderSource::kNone;
    }
  }

  const VmcoreInfo& info_;
  int level_;
  std::vector<std::string>& warnings_;
  PageLayout l_;
};

// The first tail really belongs to the head at head_vaddr.
bool tail_links_to(const PageLayout& l, std::span<const std::byte> next, uint64_t head_vaddr) {
  switch (l.tail_link) {
    case TailLink::kNone: return false;
    case TailLink::kFirstPage: return load<uint64_t>(next, *l.private_off) == head_vaddr;
    case TailLink::kCompoundHead: return load<uint64_t>(next, *l.compound_head_off) == (head_vaddr | 1);
    case TailLink::kCompoundInfo: {
      uint64_t v = load<uint64_t>(next, *l.compound_head_off);
      if (v == (head_vaddr | 1)) return true;
      // 7.1 with HVO: a mask that recovers the head from the tail's address.
      uint64_t mask = v & ~uint64_t{1};
      return (v & 1) && mask != 0 && ((head_vaddr + l.size) & mask) == head_vaddr;
    }
  }
  return false;
}

unsigned compound_order(const PageLayout& l, std::span<const std::byte> next) {
  switch (l.order_source) {
    case OrderSource::kNone: return 0;
    case OrderSource::kLruPrev: {
      uint64_t v = load<uint64_t>(next, l.order_off);
      return v < 64 ? static_cast<unsigned>(v) : 64;
    }
    case OrderSource::kCompoundOrder:
    case OrderSource::kFolioOrder: return static_cast<unsigned>(load_width(next, l.order_off, l.order_width));
    case OrderSource::kFlags1Byte: return static_cast<unsigned>(load<uint64_t>(next, l.flags_off) & 0xff);
  }
  return 0;
}

bool hugetlb_from_tail(const PageLayout& l, std::span<const std::byte> next) {
  switch (l.hugetlb_marker) {
    case HugetlbMarker::kNone:
    case HugetlbMarker::kPageType: return false;
    case HugetlbMarker::kFreeHugePage:
    case HugetlbMarker::kDtor: return load_width(next, l.dtor_off, l.dtor_width) == l.hugetlb_id;
    case HugetlbMarker::kFlags1Bit: return (load<uint64_t>(next, l.flags_off) & l.hugetlb_id) != 0;
  }
  return false;
}

void decode_compound_head(const PageLayout& l, const StructPageBytes& b, uint32_t mapcount, PageInfo& p) {
  if (l.hugetlb_marker == HugetlbMarker::kPageType && mapcount == *l.hugetlb_value) p.hugetlb = true;
  if (b.next.size() < l.size || !tail_links_to(l, b.next, b.vaddr)) return;
  if (hugetlb_from_tail(l, b.next)) p.hugetlb = true;
  unsigned order = compound_order(l, b.next);
  if (order >= 1 && order <= kMaxCompoundOrder && aligned(b.pfn, order)) p.compound_order = static_cast<uint8_t>(order);
}

bool exported_type(const PageLayout& l, uint32_t v) {
  for (const auto& t : {l.buddy_value, l.offline_value, l.slab_value, l.hugetlb_value, l.unaccepted_value}) {
    if (t && *t == v) return true;
  }
  return false;
}

}  // namespace

Result<PageLayout> make_page_layout(const VmcoreInfo& info, int dump_level, std::vector<std::string>& warnings) {
  return LayoutBuilder(info, dump_level, warnings).build();
}

PageInfo decode(const PageLayout& l, const StructPageBytes& b) {
  PageInfo p;
  if (b.page.size() < l.size) return p;
  if (l.compound_head_off && (load<uint64_t>(b.page, *l.compound_head_off) & 1)) {
    p.tail = true;
    return p;
  }
  uint64_t flags = load<uint64_t>(b.page, l.flags_off);
  // No _mapcount offset: -1, "no mappings, no type", which matches nothing.
  uint32_t mapcount = l.mapcount_off ? load<uint32_t>(b.page, *l.mapcount_off) : 0xffffffff;
  p.slab = (flags & l.slab_mask) != 0 || (l.slab_value && mapcount == *l.slab_value);
  // A mapcount never goes below -1, and types are large negative words in
  // every scheme (~bit masks 4.18-6.11, PGTY << 24 from 6.12).
  p.other_type = !p.slab && static_cast<int32_t>(mapcount) < -128 && !exported_type(l, mapcount);
  p.lru = (flags & l.lru_mask) != 0;
  p.private_data = (flags & l.private_mask) != 0;
  p.swapcache = (flags & l.swapcache_mask) != 0 && (l.swapcache_alone || (flags & l.swapbacked_mask) != 0);
  p.hwpoison = (flags & l.hwpoison_mask) != 0;
  if (l.mapping_off) p.anon = (load<uint64_t>(b.page, *l.mapping_off) & 1) != 0;
  if (!p.slab) {
    if (l.buddy_value && mapcount == *l.buddy_value && l.private_off) {
      uint64_t order = load<uint64_t>(b.page, *l.private_off);
      if (order < l.free_orders && aligned(b.pfn, static_cast<unsigned>(order))) {
        p.buddy = true;
        p.buddy_order = static_cast<uint8_t>(order);
      }
    }
    if (l.unaccepted_value && mapcount == *l.unaccepted_value && l.free_orders &&
        aligned(b.pfn, l.free_orders - 1)) {
      p.unaccepted = true;  // always a MAX_PAGE_ORDER block (makedumpfile c1a9301)
      p.unaccepted_order = static_cast<uint8_t>(l.free_orders - 1);
    }
    p.offline = l.offline_value && mapcount == *l.offline_value;
  }
  if (l.head_mask && (flags & l.head_mask) && !p.slab) decode_compound_head(l, b, mapcount, p);
  return p;
}

}  // namespace vmc
