// A synthetic terabyte-class dump: a sparse ELF core of an x86_64 6.1 kernel
// whose mem_map says almost all memory is free, in order-10 buddy blocks (the
// largest 6.1 builds), with some kernel, user and page-cache pages below
// them. It exists to show that a collector's time and memory do not grow
// with the bytes the machine had but with what it keeps: the filter must
// skip free blocks, and nothing may be sized by max_pfn.
//
// What keeps the file small: only non-zero bytes are written, everything
// else is a hole. A free block needs only its head's struct page (PageBuddy
// in page_type, the order in private, the buddy list pointers): readers that
// honour the order skip the tails, as the kernel's own walkers do, so the
// tails stay zero (a real kernel leaves zone and section bits in their flags;
// nothing a filter needs). That is one non-zero 4 KiB mem_map page per 4 MiB
// of free memory: 1 GiB of data for 1 TiB, plus the filled pages.
#pragma once

#include <cstdint>
#include <string>

#include "base/error.h"
#include "tests/builder/kernel_layout.h"

namespace vmc::testing {

struct TibSpec {
  uint64_t ram_bytes = uint64_t{1} << 40;
  uint64_t kernel_data_bytes = uint64_t{256} << 20;  // in-use kernel pages, filled (text and random)
  uint64_t user_bytes = uint64_t{64} << 20;          // anonymous pages (first few filled)
  uint64_t cache_bytes = uint64_t{64} << 20;         // page cache (first few filled)
  uint64_t seed = 1;
};

// What the filter should find at -d 31 (before the engine drops zero pages).
struct TibCounts {
  uint64_t ram_pages = 0;
  uint64_t free_pages = 0;
  uint64_t user_pages = 0;
  uint64_t cache_pages = 0;
  uint64_t stored_pages = 0;     // pages with data in the file (all others are holes)
  uint64_t kept_data_pages = 0;  // of those, the ones -d 31 keeps (not user or cache)
};

// Describes the machine into a KernelLayoutBuilder (finished) and writes it
// to path as a sparse ELF core. Needs about (mem_map pages written +
// kernel_data_bytes) of memory while it runs: ~1.3 GiB for the default 1 TiB.
Result<TibCounts> write_tib_dump(const TibSpec& spec, const std::string& path);

}  // namespace vmc::testing
