// What the x86_64 address space found out about the dead kernel's layout, and
// how: exposed for tests and for -D style diagnostics. make_x86_64_address_space
// (address_space.h) builds on these facts.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "base/error.h"
#include "base/physical_memory.h"
#include "vmcoreinfo/table/vmcoreinfo.h"

namespace vmc::x86_64 {

inline constexpr uint64_t kStartKernelMap = 0xffffffff80000000;  // __START_KERNEL_map

struct Layout {
  // __pa_symbol(x) = x - __START_KERNEL_map + phys_base for the kernel image.
  uint64_t phys_base = 0;
  // [kStartKernelMap, kStartKernelMap + kernel_image_size) is the kernel image map.
  uint64_t kernel_image_size = 0;
  // The direct map's virtual base (page_offset_base, randomized since 4.8),
  // when a direct-map segment of the dump reveals it.
  std::optional<uint64_t> page_offset;
  // The direct map covers at least [page_offset, page_offset + direct_map_size).
  uint64_t direct_map_size = 0;
  uint64_t top_table = 0;  // physical address of init_top_pgt / init_level4_pgt
  int levels = 4;          // 4, or 5 with NUMBER(pgtable_l5_enabled)=1
  uint64_t sme_mask = 0;   // the SME C-bit, stripped from every table entry
  std::vector<std::string> notes;  // how each fact was found, for diagnostics
};

// Derives the layout from VMCOREINFO and the dump. phys_base comes from, in
// order: NUMBER(phys_base) (4.10+), a kernel-text segment of the dump, the
// kdump sub header, and last a search for the 2 MiB-aligned value under
// which the kernel's top page table maps its own address to itself (3.10-era
// kernels that export only SYMBOL(phys_base)).
Result<Layout> derive_layout(PhysicalMemory& memory, const VmcoreInfo& info);

}  // namespace vmc::x86_64
