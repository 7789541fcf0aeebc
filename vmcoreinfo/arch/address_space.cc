// Why translation works this way on x86_64: since 4.8 the direct map, vmalloc
// and vmemmap bases are randomized and not exported, so only two shortcuts
// are safe (the kernel image map through phys_base, the direct map through
// the offset a direct-map segment reveals); everything else, vmemmap first of
// all, is found by walking the kernel's own page tables (page_table.h, which
// keeps the tables it read, so walking the mem_map of a terabyte machine reads
// each table once).
#include "vmcoreinfo/arch/address_space.h"

#include <algorithm>
#include <map>

#include "base/checked_math.h"
#include "vmcoreinfo/arch/page_table.h"
#include "vmcoreinfo/arch/x86_64.h"

namespace vmc {

Result<KernelAddressSpace::Translation> KernelAddressSpace::translate(uint64_t vaddr) const {
  auto paddr = virt_to_phys(vaddr);
  if (!paddr) return std::move(paddr).error();
  return Translation{*paddr, 4096 - (vaddr & 4095)};
}

Status KernelAddressSpace::read_virtual(uint64_t vaddr, std::span<std::byte> out) const {
  while (!out.empty()) {
    auto t = translate(vaddr);
    if (!t) return std::move(t).error();
    size_t n = static_cast<size_t>(std::min<uint64_t>(out.size(), t->contiguous));
    VMC_TRY_CTX(memory_.read_physical(t->paddr, out.first(n)),
                "reading kernel virtual address " + hex(vaddr));
    out = out.subspan(n);
    vaddr += n;
  }
  return {};
}

namespace x86_64 {
namespace {

// A 4- or 5-level walk from a top table, as the layout says.
Result<KernelAddressSpace::Translation> walk(const PageTableWalker& walker, uint64_t top, uint64_t vaddr) {
  auto hit = walker.walk(top, vaddr);
  if (!hit) return std::move(hit).error();
  return KernelAddressSpace::Translation{hit->paddr, hit->contiguous};
}

class X86_64AddressSpace final : public KernelAddressSpace {
 public:
  X86_64AddressSpace(PhysicalMemory& memory, Layout layout)
      : KernelAddressSpace(memory),
        layout_(std::move(layout)),
        walker_(memory, x86_64_page_tables(layout_.levels, layout_.sme_mask)) {}

  Result<uint64_t> virt_to_phys(uint64_t vaddr) const override {
    auto t = translate(vaddr);
    if (!t) return std::move(t).error();
    return t->paddr;
  }

  Result<Translation> translate(uint64_t vaddr) const override {
    if (vaddr >= kStartKernelMap && vaddr - kStartKernelMap < layout_.kernel_image_size) {
      uint64_t end = kStartKernelMap + layout_.kernel_image_size;
      return Translation{vaddr - kStartKernelMap + layout_.phys_base, end - vaddr};
    }
    if (layout_.page_offset && vaddr >= *layout_.page_offset &&
        vaddr - *layout_.page_offset < layout_.direct_map_size) {
      uint64_t paddr = vaddr - *layout_.page_offset;
      return Translation{paddr, layout_.direct_map_size - paddr};
    }
    return walk(walker_, layout_.top_table, vaddr);
  }

 private:
  Layout layout_;
  PageTableWalker walker_;
};

// ---- Deriving the layout ----------------------------------------------------

bool in_ram(const PhysicalMemory& memory, uint64_t paddr, uint64_t len) {
  auto end = checked_add(paddr, len);  // an address from VMCOREINFO near 2^64 must not wrap into RAM
  if (len == 0 || !end) return false;
  uint64_t ps = memory.page_size();
  uint64_t first = paddr / ps, last = (*end - 1) / ps;
  for (const auto& r : memory.ram()) {
    if (first >= r.start && last < r.end) return true;
  }
  return false;
}

std::optional<uint64_t> top_table_symbol(const VmcoreInfo& info) {
  for (const char* name : {"init_top_pgt", "init_level4_pgt", "swapper_pg_dir"}) {
    if (auto v = info.symbol(name)) return v;
  }
  return std::nullopt;
}

// The direct-map offset most direct-map segments agree on.
std::optional<uint64_t> page_offset_from_segments(const DumpMetadata& md) {
  std::map<uint64_t, uint64_t> votes;  // offset -> bytes
  for (const auto& s : md.segments) {
    if (s.vaddr == 0 || s.vaddr >= kStartKernelMap || s.vaddr < 0xff00000000000000) continue;
    if (s.vaddr < s.paddr) continue;
    votes[s.vaddr - s.paddr] += s.size;
  }
  if (votes.empty()) return std::nullopt;
  return std::max_element(votes.begin(), votes.end(),
                          [](const auto& a, const auto& b) { return a.second < b.second; })
      ->first;
}

std::optional<uint64_t> phys_base_from_segments(const DumpMetadata& md) {
  for (const auto& s : md.segments) {
    if (s.vaddr >= kStartKernelMap && s.paddr + kStartKernelMap >= s.vaddr) {
      return s.paddr - (s.vaddr - kStartKernelMap);
    }
  }
  return std::nullopt;
}

// True when, with this phys_base, the top table maps its own kernel-image
// address to where phys_base puts it (and SYMBOL(phys_base), if exported,
// holds the candidate): a self-consistency that random memory does not pass.
bool phys_base_consistent(PhysicalMemory& memory, const VmcoreInfo& info, const Layout& l,
                          uint64_t top_symbol, uint64_t candidate) {
  uint64_t top = top_symbol - kStartKernelMap + candidate;
  if (!in_ram(memory, top, 4096)) return false;
  if (auto sym = info.symbol("phys_base")) {
    uint64_t where = *sym - kStartKernelMap + candidate, value = 0;
    if (!in_ram(memory, where, 8)) return false;
    if (!memory.read_physical(where, std::as_writable_bytes(std::span(&value, 1)))) return false;
    if (value != candidate) return false;
  }
  PageTableWalker walker(memory, x86_64_page_tables(l.levels, l.sme_mask));
  auto t = walk(walker, top, top_symbol);
  return t && t->paddr == top;
}

Result<uint64_t> find_phys_base(PhysicalMemory& memory, const VmcoreInfo& info, Layout& l,
                                uint64_t top_symbol) {
  if (auto n = info.number("phys_base")) {
    l.notes.push_back("phys_base from NUMBER(phys_base)");
    return static_cast<uint64_t>(*n);
  }
  if (auto s = phys_base_from_segments(memory.metadata())) {
    l.notes.push_back("phys_base from the kernel-text segment");
    return *s;
  }
  if (auto h = memory.metadata().phys_base) {
    l.notes.push_back("phys_base from the kdump sub header");
    return *h;
  }
  // Kernels load at a 2 MiB-aligned address (CONFIG_PHYSICAL_ALIGN), so
  // phys_base is a multiple of 2 MiB; try 0 first, then low memory upwards.
  constexpr uint64_t kAlign = uint64_t{2} << 20, kSearchLimit = uint64_t{64} << 30;
  uint64_t limit = std::min(kSearchLimit, memory.max_pfn() * memory.page_size());
  for (uint64_t c = 0; c < limit; c += kAlign) {
    if (phys_base_consistent(memory, info, l, top_symbol, c)) {
      l.notes.push_back("phys_base " + hex(c) + " found by a page-table self-consistency search");
      return c;
    }
  }
  return Error(ErrorKind::kUnsupported,
               "cannot determine phys_base: VMCOREINFO has no NUMBER(phys_base), the dump has no "
               "kernel-text segment or kdump header value, and no candidate below " + hex(limit) +
                   " maps the top page table onto itself");
}

// Keeps the segment-derived direct-map offset unless the page tables, where
// they can be read, say otherwise.
void check_page_offset(PhysicalMemory& memory, Layout& l) {
  if (!l.page_offset) return;
  PageTableWalker walker(memory, x86_64_page_tables(l.levels, l.sme_mask));
  auto t = walk(walker, l.top_table, *l.page_offset + l.top_table);
  if (t && t->paddr != l.top_table) {
    l.notes.push_back("direct-map offset " + hex(*l.page_offset) +
                      " from the segments disagrees with the page tables; not used");
    l.page_offset.reset();
  }
}

}  // namespace

Result<Layout> derive_layout(PhysicalMemory& memory, const VmcoreInfo& info) {
  Layout l;
  auto top_symbol = top_table_symbol(info);
  if (!top_symbol) {
    return Error(ErrorKind::kUnsupported,
                 "VMCOREINFO has no SYMBOL(init_top_pgt), SYMBOL(init_level4_pgt) or "
                 "SYMBOL(swapper_pg_dir): cannot walk the kernel page tables");
  }
  l.levels = info.number("pgtable_l5_enabled").value_or(0) != 0 ? 5 : 4;
  l.sme_mask = static_cast<uint64_t>(info.number("sme_mask").value_or(0));
  // KERNEL_IMAGE_SIZE: 512 MiB, or 1 GiB with CONFIG_RANDOMIZE_BASE (which is
  // when KERNELOFFSET appears).
  uint64_t default_image = info.kernel_offset() ? uint64_t{1} << 30 : uint64_t{512} << 20;
  l.kernel_image_size = static_cast<uint64_t>(info.number("KERNEL_IMAGE_SIZE").value_or(
      static_cast<int64_t>(default_image)));
  if (l.kernel_image_size == 0 || l.kernel_image_size > (uint64_t{2} << 30)) {
    l.kernel_image_size = default_image;
  }
  auto pb = find_phys_base(memory, info, l, *top_symbol);
  if (!pb) return std::move(pb).error();
  l.phys_base = *pb;
  l.top_table = *top_symbol - kStartKernelMap + l.phys_base;
  if (*top_symbol < kStartKernelMap || !in_ram(memory, l.top_table, 4096)) {
    return Error(ErrorKind::kBadInput, "the top page table (virtual " + hex(*top_symbol) +
                                           ", physical " + hex(l.top_table) +
                                           ") is not in the dump's RAM");
  }
  l.direct_map_size = memory.max_pfn() * memory.page_size();
  l.page_offset = page_offset_from_segments(memory.metadata());
  if (l.page_offset) l.notes.push_back("direct map at " + hex(*l.page_offset) + " from the segments");
  check_page_offset(memory, l);
  return l;
}

}  // namespace x86_64

Result<std::unique_ptr<KernelAddressSpace>> make_x86_64_address_space(PhysicalMemory& memory,
                                                                      const VmcoreInfo& info) {
  auto layout = x86_64::derive_layout(memory, info);
  if (!layout) return std::move(layout).error().add_context("setting up x86_64 address translation");
  return std::unique_ptr<KernelAddressSpace>(
      std::make_unique<x86_64::X86_64AddressSpace>(memory, std::move(*layout)));
}

Result<std::unique_ptr<KernelAddressSpace>> make_address_space(PhysicalMemory& memory, const VmcoreInfo& info) {
  const std::string& machine = memory.metadata().utsname_machine;
  if (machine.empty() || machine == "x86_64") return make_x86_64_address_space(memory, info);
  return Error(ErrorKind::kUnsupported,
               "kernel address translation for " + machine + " dumps is not built yet (x86_64 only)");
}

}  // namespace vmc
