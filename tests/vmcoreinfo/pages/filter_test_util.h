// Shared by the address-space, memory-model and filter tests: open what a
// KernelLayoutBuilder built, and run a PageFilter over RAM the way the engine
// does (bits set for available pages, disjoint slices).
#pragma once

#include <gtest/gtest.h>

#include <algorithm>
#include <memory>
#include <vector>

#include "base/physical_memory.h"
#include "formats/elf_core_reader.h"
#include "tests/builder/kernel_layout.h"
#include "vmcoreinfo/pages/page_filter.h"
#include "vmcoreinfo/table/vmcoreinfo.h"

namespace vmc::testing {

struct OpenedDump {
  std::unique_ptr<PhysicalMemory> memory;
  VmcoreInfo info;
};

// b.finish() must have been called.
inline OpenedDump open_built(KernelLayoutBuilder& b) {
  OpenedDump d;
  auto m = open_elf_core(b.dump().elf_input());
  if (!m.ok()) {
    ADD_FAILURE() << m.error().describe();
    return d;
  }
  d.memory = std::move(*m);
  auto info = VmcoreInfo::parse(d.memory->metadata().vmcoreinfo);
  if (!info.ok()) {
    ADD_FAILURE() << info.error().describe();
    return d;
  }
  d.info = std::move(*info);
  return d;
}

struct FilterRun {
  uint64_t start = 0, end = 0;
  std::vector<uint64_t> keep;  // bit (pfn - start)
  FilterStats stats;
  bool kept(uint64_t pfn) const {
    uint64_t b = pfn - start;
    return (keep[b / 64] >> (b % 64)) & 1;
  }
};

// Filters [start, end) in slices of `slice` pfns (the engine uses whole
// words; any slicing must give the same answer).
inline FilterRun run_filter(const PageFilter& f, PhysicalMemory& m, uint64_t start, uint64_t end, uint64_t slice) {
  FilterRun r;
  r.start = start;
  r.end = end;
  uint64_t n = end - start;
  r.keep.assign((n + 63) / 64, 0);
  m.available(start, end, r.keep);
  // Slices need not be word aligned: filter each into its own buffer and merge.
  for (uint64_t s = start; s < end; s += slice) {
    uint64_t e = std::min(end, s + slice);
    std::vector<uint64_t> bits((e - s + 63) / 64, 0);
    for (uint64_t p = s; p < e; ++p) {
      if (r.kept(p)) bits[(p - s) / 64] |= uint64_t{1} << ((p - s) % 64);
    }
    f.filter(s, e, bits, r.stats);
    for (uint64_t p = s; p < e; ++p) {
      if (!((bits[(p - s) / 64] >> ((p - s) % 64)) & 1)) r.keep[(p - start) / 64] &= ~(uint64_t{1} << ((p - start) % 64));
    }
  }
  return r;
}

inline FilterRun run_filter(const PageFilter& f, PhysicalMemory& m, uint64_t slice = 32768) {
  return run_filter(f, m, 0, m.max_pfn(), slice);
}

}  // namespace vmc::testing
