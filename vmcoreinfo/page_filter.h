// The engine's view of page filtering: for a range of pfns, which pages the
// dump level leaves out and why. Everything kernel-version-specific (struct page
// layout, flag numbers, page types, mem_section encoding) lives behind this.
#pragma once

#include <cstdint>
#include <memory>
#include <span>
#include <string>
#include <vector>

#include "formats/error.h"
#include "formats/physical_memory.h"
#include "vmcoreinfo/vmcoreinfo.h"

namespace vmc {

// makedumpfile's dump level bits (-d).
inline constexpr int kDumpLevelZero = 1;
inline constexpr int kDumpLevelCache = 2;         // non-private page cache
inline constexpr int kDumpLevelCachePrivate = 4;  // page cache with private data
inline constexpr int kDumpLevelUser = 8;          // user (anonymous) data
inline constexpr int kDumpLevelFree = 16;         // free (buddy) pages
inline constexpr int kDumpLevelMax = 31;

// Why a page was left out; counted per reason for makedumpfile's statistics.
enum class ExcludeReason : uint8_t {
  kZero,
  kCache,
  kCachePrivate,
  kUser,
  kFree,
  kHwpoison,
  kOffline,
  kUnreadable,  // the input could not be read (EIO); reported, not a filter decision
  kCount,
};

struct FilterStats {
  uint64_t excluded[static_cast<size_t>(ExcludeReason::kCount)] = {};
  uint64_t& operator[](ExcludeReason r) { return excluded[static_cast<size_t>(r)]; }
  uint64_t operator[](ExcludeReason r) const { return excluded[static_cast<size_t>(r)]; }
  void merge(const FilterStats& other) {
    for (size_t i = 0; i < std::size(excluded); ++i) excluded[i] += other.excluded[i];
  }
};

class PageFilter {
 public:
  virtual ~PageFilter() = default;
  // For pfns [start, end): clears bit (pfn - start) in `keep` for every page the
  // dump level excludes (bits arrive set for the pages the input holds), and
  // adds the exclusions to stats. Reads only mem_map. Thread-safe for disjoint
  // ranges: the engine calls it in parallel. An unreadable or implausible
  // struct page is kept (never drop a page that is not provably excludable).
  virtual void filter(uint64_t start, uint64_t end, std::span<uint64_t> keep,
                      FilterStats& stats) const = 0;
  // Things the user should know (missing VMCOREINFO entries, unknown kernel),
  // each naming the entry; printed once by the CLI.
  virtual const std::vector<std::string>& warnings() const = 0;
};

// A filter for the dump level's mem_map bits (2, 4, 8, 16; hwpoison and offline
// pages are always excluded when the dump says how to find them). Level bit 1
// (zero pages) is not handled here: the engine detects zero pages while it
// compresses. Fails only when no mem_map can be found at all and the level
// needs it; missing individual entries become warnings and kept pages.
Result<std::unique_ptr<PageFilter>> make_page_filter(PhysicalMemory& memory,
                                                     const VmcoreInfo& info, int dump_level);

}  // namespace vmc
