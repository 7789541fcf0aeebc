// The kernel's memory model as VMCOREINFO describes it: where the struct page
// of a pfn lives. SPARSEMEM keeps one mem_map per 2^SECTION_SIZE_BITS bytes of
// physical memory, found through mem_section (a static array, or with
// SPARSEMEM_EXTREME an array of root pointers, itself a pointer since 4.15);
// with VMEMMAP every section's map is a slice of one virtual array whose base
// is randomized and not exported on x86_64, so it is read back from the
// encoded section maps. FLATMEM has one mem_map from pfn 0.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "base/error.h"
#include "vmcoreinfo/arch/address_space.h"
#include "vmcoreinfo/table/vmcoreinfo.h"

namespace vmc {

enum class MemoryModel : uint8_t { kSparse, kFlat };

// The struct page of a pfn and how many pfns from there have their struct
// pages right after it (to the end of the section).
struct MemMapRun {
  uint64_t vaddr;
  uint64_t pfns;
};

// Bits of mem_section.section_mem_map below the encoded mem_map address. None
// is exported: PRESENT 0, HAS_MEM_MAP 1, ONLINE 2 (4.13), EARLY 3 (5.3),
// TAINT_ZONE_DEVICE 4 (5.12), VMEMMAP_PREINIT 5 (6.15). makedumpfile masks
// 5 bits; we mask 6, which a cache-line aligned mem_map always leaves free.
inline constexpr uint64_t kSectionMarkedPresent = 1;
inline constexpr uint64_t kSectionHasMemMap = 2;
inline constexpr unsigned kSectionFlagBits = 6;

class KernelMemoryModel {
 public:
  // Reads mem_section (or mem_map) through the kernel's address space. Fails
  // when no mem_map can be found; sections that look damaged are left out and
  // named in warnings (their pages are then kept by the filter).
  static Result<KernelMemoryModel> load(const KernelAddressSpace& kernel, const VmcoreInfo& info,
                                        std::vector<std::string>& warnings);

  // nullopt for pfns without a struct page (absent or dropped sections).
  std::optional<MemMapRun> locate(uint64_t pfn) const;

  MemoryModel model() const { return model_; }
  uint64_t struct_page_size() const { return struct_size_; }
  uint64_t pfns_per_section() const { return uint64_t{1} << section_pfn_shift_; }
  // The VMEMMAP base (mem_map[pfn] = base + pfn * SIZE(page)) when every
  // usable section decodes to the same one.
  std::optional<uint64_t> vmemmap_base() const { return vmemmap_base_; }
  uint64_t usable_sections() const;
  // One line for diagnostics: which encoding and base were found.
  const std::string& description() const { return description_; }

 private:
  MemoryModel model_ = MemoryModel::kSparse;
  uint64_t struct_size_ = 64;
  unsigned section_pfn_shift_ = 15;
  // kSparse: the struct page of each section's first pfn (0 = none).
  // kFlat: one entry, the struct page of flat_start_pfn_.
  std::vector<uint64_t> maps_;
  uint64_t flat_start_pfn_ = 0, flat_pfns_ = 0;
  std::optional<uint64_t> vmemmap_base_;
  std::string description_;

  friend class MemoryModelLoader;
};

}  // namespace vmc
