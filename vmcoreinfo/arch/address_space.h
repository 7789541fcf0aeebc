// Kernel virtual to physical translation over a dump's physical memory, so the
// kernel model and the log decoders can follow kernel pointers.
#pragma once

#include <cstdint>
#include <memory>
#include <span>

#include "base/error.h"
#include "base/physical_memory.h"
#include "vmcoreinfo/table/vmcoreinfo.h"

namespace vmc {

class KernelAddressSpace {
 public:
  virtual ~KernelAddressSpace() = default;
  // The physical address of a kernel virtual address, or an error naming it.
  virtual Result<uint64_t> virt_to_phys(uint64_t vaddr) const = 0;
  // The physical address of vaddr and how many bytes from there on stay
  // physically contiguous within the same mapping (to the end of its 4 KiB,
  // 2 MiB or 1 GiB page, or of the direct map), so bulk readers such as the
  // mem_map scan can read a whole run at once. The default asks virt_to_phys
  // and stops at the end of the 4 KiB page.
  struct Translation {
    uint64_t paddr;
    uint64_t contiguous;  // bytes, at least 1
  };
  virtual Result<Translation> translate(uint64_t vaddr) const;
  // Reads kernel virtual memory, translating page by page.
  Status read_virtual(uint64_t vaddr, std::span<std::byte> out) const;

  PhysicalMemory& memory() const { return memory_; }

 protected:
  explicit KernelAddressSpace(PhysicalMemory& memory) : memory_(memory) {}

 private:
  PhysicalMemory& memory_;
};

// The translation for the dump's architecture, chosen from the dump, never
// from the host: the machine its header names (a kdump header's
// utsname.machine), else x86_64, the only machine whose ELF cores the reader
// opens so far. Architectures not built yet are refused by name.
Result<std::unique_ptr<KernelAddressSpace>> make_address_space(PhysicalMemory& memory, const VmcoreInfo& info);

// x86_64: the kernel text map via phys_base, the direct map via the offset the
// dump's segments reveal, and everything else (vmemmap, vmalloc) by walking the
// kernel's own page tables (4 or 5 levels) from init_top_pgt.
Result<std::unique_ptr<KernelAddressSpace>> make_x86_64_address_space(PhysicalMemory& memory,
                                                                      const VmcoreInfo& info);

}  // namespace vmc
