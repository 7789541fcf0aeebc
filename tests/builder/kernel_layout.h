// The kernel side of a synthetic x86_64 dump, for the page filter and the
// address space: page tables (4 or 5 levels; 1 GiB direct map, 2 MiB or
// 4 KiB vmemmap, 2 MiB kernel text), mem_section in each encoding the kernel
// has used, mem_map, and the matching VMCOREINFO. A KernelSpec describes one
// kernel version's layout as far as filtering cares (struct page offsets,
// flag bits, page-type values, where compound pages keep their order and
// hugetlb mark); the page-state helpers write struct pages the way that
// version's kernel writes them, so a test reads "an anonymous THP here, a free
// order-3 block there" for every version alike.
#pragma once

#include <array>
#include <cstdint>
#include <map>
#include <optional>
#include <ostream>
#include <string>
#include <vector>

#include "tests/builder/dump_builder.h"

namespace vmc::testing {

struct KernelSpec {
  std::string name;       // test-name friendly: "rhel7_3_10"
  std::string osrelease;  // OSRELEASE=

  // ---- struct page (x86_64: SIZE(page) = 64 in all of these) ----
  uint32_t page_struct_size = 64;
  uint32_t off_flags = 0, off_lru = 8, off_mapping = 24, off_private = 40, off_mapcount = 48, off_refcount = 52;
  bool refcount_is_count = false;  // OFFSET(page._count) before 4.7
  std::optional<uint32_t> off_compound_head;  // 4.4+ (the tail mark, bit 0)
  bool compound_info_name = false;            // 7.1: OFFSET(page.compound_info)
  // Compound order / dtor in the first tail.
  enum class Order { kLruPrev, kCompoundFields, kFolioFields, kFlags1 } order = Order::kCompoundFields;
  uint32_t off_compound_dtor = 16, off_compound_order = 17;  // kCompoundFields (page[1])
  uint32_t compound_width = 1;                                // 2 before 4.16
  uint32_t off_folio_dtor = 80, off_folio_order = 81;        // kFolioFields (struct folio)

  // ---- page flags (-1: not exported / does not exist) ----
  int pg_lru = 4, pg_private = 13, pg_swapcache = 10, pg_swapbacked = 19, pg_slab = 9, pg_hwpoison = 23;
  int pg_head = 16, pg_tail = -1, pg_reserved = 12, pg_hugetlb = -1;  // pg_hugetlb: in page[1].flags (6.6-6.8)
  bool export_swapbacked = true, export_head_mask = true;

  // ---- _mapcount / page_type values as VMCOREINFO prints them ----
  int64_t buddy = -129;
  std::optional<int64_t> offline = -257, slab_type, hugetlb_type, unaccepted_type;
  std::optional<int64_t> hugetlb_dtor = 2;  // NUMBER(HUGETLB_PAGE_DTOR), 4.4-6.5
  bool free_huge_page = false;              // SYMBOL(free_huge_page), the <= 4.3 marker
  int64_t thp_dtor = 3;                     // TRANSHUGE_PAGE_DTOR (not exported)
  uint32_t page_table_type = 0xfffffdff;    // not exported; what a page-table page carries
  uint32_t free_orders = 11;                // LENGTH(zone.free_area)

  // ---- memory model ----
  uint32_t mem_section_size = 16;
  // kRootArray: static array of root pointers (SPARSEMEM_EXTREME before 4.15);
  // kRootPointer: 4.15+ pointer, exported as the root array's address;
  // kRootPointerVariable: the pointer variable's own address (how some 4.14-era
  // and -x vmlinux setups give it); kStatic: plain SPARSEMEM array.
  enum class Sections { kRootArray, kRootPointer, kRootPointerVariable, kStatic } sections = Sections::kRootPointer;
  bool export_section_size_bits = true, export_max_physmem_bits = true, export_length = true;
  // OFFSET(uts_namespace.name), 5.11+; before, a struct kref put the name at 4.
  bool export_uts_name_offset = true;
  uint64_t section_flags = 0xf;  // PRESENT | HAS_MEM_MAP | ONLINE (4.13) | EARLY (5.3)
  uint32_t max_physmem_bits = 46;  // 52 with five_level

  // ---- address space ----
  bool number_phys_base = true;  // NUMBER(phys_base) (4.10+), else SYMBOL(phys_base)
  std::string top_pgt = "init_top_pgt";
  bool kaslr = true;
  bool five_level = false;
  bool export_l5 = true;  // NUMBER(pgtable_l5_enabled)
  uint64_t sme_mask = 0;

  bool before_4_4() const { return order == Order::kLruPrev; }
};

// gtest prints a parameter with this: the name, not 368 bytes of hex.
inline void PrintTo(const KernelSpec& k, std::ostream* os) { *os << k.name; }

KernelSpec rhel7_3_10();
KernelSpec rhel8_4_18();
KernelSpec rhel9_5_14_la57();  // RHEL 9 on a 5-level (LA57) machine
KernelSpec ubuntu_5_15_sme();  // Ubuntu 5.15 on an AMD SME machine
KernelSpec debian_6_1();
KernelSpec debian_6_12();
KernelSpec linux_6_4();   // folio._folio_order / _folio_dtor (6.3-6.5)
KernelSpec linux_6_8();   // PG_hugetlb in folio._flags_1 (6.6-6.8)
KernelSpec linux_7_1();   // compound_info, unaccepted pages
// All of the above, in version order.
std::vector<KernelSpec> all_kernel_specs();

// The dead machine.
struct MachineSpec {
  // RAM as [start, end) physical byte ranges, page aligned, sorted.
  std::vector<std::pair<uint64_t, uint64_t>> ram{{0x1000, 0x9f000}, {0x100000, 0x20000000}};
  uint64_t kernel_phys = 0x5000000;     // where the kernel image is loaded (2 MiB aligned)
  uint64_t kaslr_offset = 0x1e000000;   // KERNELOFFSET when the spec has kaslr
  std::optional<uint64_t> page_offset;  // default: randomized-looking (kaslr) or the fixed base
  std::optional<uint64_t> vmemmap_base;
  bool vmemmap_4k = false;         // map vmemmap with 4 KiB pages instead of 2 MiB ones
  bool per_section_maps = false;   // SPARSEMEM without VMEMMAP: each section's map in the direct map
  bool kernel_text_segment = true; // the kernel-text PT_LOAD of /proc/vmcore
};

class KernelLayoutBuilder {
 public:
  explicit KernelLayoutBuilder(KernelSpec spec, MachineSpec machine = {});

  const KernelSpec& spec() const { return spec_; }
  const MachineSpec& machine() const { return machine_; }
  DumpBuilder& dump() { return dump_; }
  uint64_t phys_base() const { return phys_base_; }
  uint64_t page_offset() const { return page_offset_; }
  uint64_t vmemmap_base() const { return vmemmap_base_; }
  uint64_t image_vaddr() const { return image_vaddr_; }  // the kernel image's first byte
  uint64_t top_table() const { return top_table_; }      // physical address of init_top_pgt
  uint64_t struct_page_vaddr(uint64_t pfn) const;

  // ---- struct page, raw ----
  std::array<std::byte, 64>& raw(uint64_t pfn) { return pages_[pfn]; }
  void set_u64(uint64_t pfn, uint32_t off, uint64_t v);
  void set_u32(uint64_t pfn, uint32_t off, uint32_t v);
  void set_width(uint64_t pfn, uint32_t off, uint32_t width, uint64_t v);
  void set_flag(uint64_t pfn, int bit);  // no-op for -1

  // ---- page states, as this kernel version writes them ----
  void in_use(uint64_t pfn);                          // a kernel page: refcount 1, mapcount -1
  void free_block(uint64_t pfn, unsigned order);
  void anon(uint64_t pfn);                            // mapped anonymous, on the LRU
  void file_cache(uint64_t pfn, bool private_data = false);
  void swap_cache(uint64_t pfn);                      // swap cache, not mapped: PG_swapcache+PG_swapbacked
  void owner_priv_only(uint64_t pfn);                 // PG_owner_priv_1 (fs PG_checked) without PG_swapbacked
  void slab(uint64_t pfn, bool odd_mapping = true);   // with an odd word where mapping is (6.2+ slab.slabs)
  void page_table(uint64_t pfn);
  void hwpoison(uint64_t pfn);
  void offline(uint64_t pfn);
  void unaccepted(uint64_t pfn);
  void reserved(uint64_t pfn);
  enum class Compound { kAnonThp, kFileFolio, kHugetlb, kSlab };
  void compound(uint64_t pfn, unsigned order, Compound kind);

  // ---- memory-model damage (before finish) ----
  // Raw section_mem_map words to write instead of the computed ones.
  void override_section_word(uint64_t section, uint64_t word) { section_override_[section] = word; }
  void omit_vmcoreinfo(const std::string& key_prefix) { omit_.push_back(key_prefix); }
  void extra_vmcoreinfo(const std::string& line) { extra_.push_back(line); }

  // Writes page tables, mem_section, mem_map and VMCOREINFO into dump().
  // Call once, after the page states.
  DumpBuilder& finish();
  std::string vmcoreinfo() const;

  // Physical ranges the builder took for kernel data (image, tables, mem_map).
  const std::vector<std::pair<uint64_t, uint64_t>>& kernel_ranges() const { return taken_; }
  uint64_t pfns_per_section() const { return uint64_t{1} << (27 - 12); }
  uint64_t max_pfn() const { return machine_.ram.back().second / 4096; }

 private:
  void write_utsname();  // init_uts_ns.name
  uint64_t alloc(uint64_t size, uint64_t align);
  uint64_t table_for(uint64_t parent_table, unsigned index);
  void map(uint64_t vaddr, uint64_t paddr, unsigned level_of_leaf);  // leaf level: 1 (4K), 2 (2M), 3 (1G)
  uint64_t image_symbol(uint64_t offset) const { return image_vaddr_ + offset; }
  uint64_t image_phys(uint64_t offset) const { return machine_.kernel_phys + offset; }
  void build_page_tables();
  void build_mem_map();
  void build_mem_section();
  uint64_t page_flags_word(uint64_t pfn) const;

  KernelSpec spec_;
  MachineSpec machine_;
  DumpBuilder dump_;
  uint64_t phys_base_ = 0, page_offset_ = 0, vmemmap_base_ = 0, image_vaddr_ = 0, top_table_ = 0;
  uint64_t alloc_top_ = 0;
  std::vector<std::pair<uint64_t, uint64_t>> taken_;
  std::map<uint64_t, std::array<uint64_t, 512>> tables_;  // physical address -> entries
  std::map<uint64_t, std::array<std::byte, 64>> pages_;   // pfn -> struct page
  std::map<uint64_t, uint64_t> section_maps_;             // section -> decoded mem_map vaddr
  std::map<uint64_t, uint64_t> section_override_;
  uint64_t mem_section_symbol_ = 0, roots_vaddr_ = 0;
  std::vector<std::string> omit_, extra_;
  bool finished_ = false;
};

}  // namespace vmc::testing
