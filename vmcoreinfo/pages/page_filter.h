// The engine's view of page filtering: for a range of pfns, which pages the
// dump level leaves out and why. Everything kernel-version-specific (struct page
// layout, flag numbers, page types, mem_section encoding) lives behind this.
#pragma once

#include <cstdint>
#include <memory>
#include <span>
#include <string>
#include <vector>

#include "base/error.h"
#include "base/physical_memory.h"
#include "vmcoreinfo/pages/dump_level.h"
#include "vmcoreinfo/table/vmcoreinfo.h"

namespace vmc {

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
