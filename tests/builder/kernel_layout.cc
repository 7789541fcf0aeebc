// Kernel layouts for synthetic dumps. The per-version facts below (struct page
// offsets, flag bits, type values) are those of x86_64 distribution kernels as
// their VMCOREINFO prints them; where a distribution's exact value was not at
// hand, the mainline value of that release is used (the filter takes them all
// from VMCOREINFO, so what matters is that each layout is self-consistent and
// exercises that version's encoding).
#include "tests/builder/kernel_layout.h"

#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <sstream>

namespace vmc::testing {
namespace {

constexpr uint64_t kStartKernelMap = 0xffffffff80000000;
constexpr uint64_t kSectionPfnShift = 15;  // SECTION_SIZE_BITS 27 - PAGE_SHIFT 12
constexpr uint64_t k1G = uint64_t{1} << 30, k2M = uint64_t{2} << 20;
constexpr uint64_t kTableFlags = 0x63;     // present, rw, accessed, dirty
constexpr uint64_t kLeafFlags = 0x163;     // + global
constexpr uint64_t kPse = 0x80;
constexpr uint64_t kNx = uint64_t{1} << 63;
constexpr uint64_t kTailMapping = 0xdead000000000401;  // TAIL_MAPPING made odd: tails must be skipped

// Offsets inside the kernel image (the first 2 MiB, mapped by one PMD).
constexpr uint64_t kImgTopPgt = 0x0, kImgPhysBase = 0x1000, kImgUts = 0x1400, kImgMemSection = 0x2000;
constexpr uint64_t kImgStaticSections = 0x10000, kImgFreeHugePage = 0x180000, kImgFreeCompound = 0x181000;

[[noreturn]] void misuse(const std::string& what) {
  std::fprintf(stderr, "KernelLayoutBuilder misuse: %s\n", what.c_str());
  std::abort();
}

std::string hexs(uint64_t v) {
  char b[32];
  std::snprintf(b, sizeof b, "%llx", static_cast<unsigned long long>(v));
  return b;
}

}  // namespace

// ---- Kernel versions ---------------------------------------------------------

KernelSpec rhel7_3_10() {
  KernelSpec k;
  k.name = "rhel7_3_10";
  k.export_uts_name_offset = false;
  k.osrelease = "3.10.0-1160.el7.x86_64";
  // 3.10 struct page: flags, mapping, {index, {_mapcount, _count}}, lru, private/first_page.
  k.off_mapping = 8;
  k.off_mapcount = 24;
  k.off_refcount = 28;
  k.refcount_is_count = true;
  k.off_lru = 32;
  k.off_private = 48;
  k.off_compound_head.reset();
  k.order = KernelSpec::Order::kLruPrev;
  k.pg_lru = 5;
  k.pg_slab = 7;
  k.pg_reserved = 10;
  k.pg_private = 11;
  k.pg_head = 14;
  k.pg_tail = 15;
  k.pg_swapcache = 16;
  k.pg_swapbacked = 19;
  k.export_swapbacked = false;
  k.pg_hwpoison = 23;
  k.buddy = -128;
  k.offline.reset();
  k.hugetlb_dtor.reset();
  k.free_huge_page = true;
  k.page_table_type = 0xffffffff;  // no page types yet
  k.mem_section_size = 32;          // with page_cgroup and padding
  k.sections = KernelSpec::Sections::kRootArray;
  k.export_section_size_bits = false;
  k.export_max_physmem_bits = false;
  k.section_flags = 0x3;
  k.number_phys_base = false;
  k.top_pgt = "init_level4_pgt";
  k.kaslr = false;
  k.export_l5 = false;
  return k;
}

KernelSpec rhel8_4_18() {
  KernelSpec k;
  k.name = "rhel8_4_18";
  k.export_uts_name_offset = false;
  k.osrelease = "4.18.0-513.5.1.el8_9.x86_64";
  k.off_compound_head = 8;
  k.pg_lru = 5;
  k.pg_slab = 8;
  k.pg_swapcache = 9;  // PG_owner_priv_1
  k.pg_reserved = 11;
  k.pg_private = 12;
  k.pg_head = 15;
  k.pg_swapbacked = 18;
  k.pg_hwpoison = 22;
  k.page_table_type = ~uint32_t{0x400};
  k.export_section_size_bits = false;
  k.export_max_physmem_bits = false;
  k.section_flags = 0x7;
  return k;
}

KernelSpec rhel9_5_14_la57() {
  KernelSpec k;
  k.name = "rhel9_5_14_la57";
  k.osrelease = "5.14.0-362.8.1.el9_3.x86_64";
  k.off_compound_head = 8;
  k.page_table_type = ~uint32_t{0x200};
  k.mem_section_size = 24;  // usage, page_ext
  k.five_level = true;
  k.max_physmem_bits = 52;
  return k;
}

KernelSpec ubuntu_5_15_sme() {
  KernelSpec k;
  k.name = "ubuntu_5_15_sme";
  k.osrelease = "5.15.0-91-generic";
  k.off_compound_head = 8;
  k.page_table_type = ~uint32_t{0x200};
  k.sme_mask = uint64_t{1} << 47;
  return k;
}

KernelSpec debian_6_1() {
  KernelSpec k;
  k.name = "debian_6_1";
  k.osrelease = "6.1.0-26-amd64";
  k.off_compound_head = 8;
  k.page_table_type = ~uint32_t{0x200};
  return k;
}

namespace {
// 6.6 reordered the flags: PG_writeback 1, PG_head 6.
void flags_6_6(KernelSpec& k) {
  k.pg_lru = 5;
  k.pg_head = 6;
  k.pg_slab = 11;
  k.pg_swapcache = 12;
  k.pg_reserved = 14;
  k.pg_private = 15;
  k.pg_swapbacked = 19;
  k.pg_hwpoison = 23;
}
// 6.12: PG_error and PG_slab gone.
void flags_6_12(KernelSpec& k) {
  k.pg_lru = 5;
  k.pg_head = 6;
  k.pg_slab = -1;
  k.pg_swapcache = 10;
  k.pg_reserved = 13;
  k.pg_private = 14;
  k.pg_swapbacked = 17;
  k.pg_hwpoison = 20;  // as Debian's 6.12.117 prints it
}
void types_6_12(KernelSpec& k) {
  k.buddy = -268435456;        // PGTY_buddy 0xf0 << 24, printed as a negative int
  k.offline = 0xf1000000;      // the kernel prints -251658240; the positive form must work too
  k.hugetlb_type = -201326592; // 0xf4000000
  k.slab_type = 0xf5000000;
  k.page_table_type = 0xf2000000;
  k.hugetlb_dtor.reset();
}
}  // namespace

KernelSpec debian_6_12() {
  KernelSpec k;
  k.name = "debian_6_12";
  k.osrelease = "6.12.48+deb13-amd64";
  k.off_compound_head = 8;
  k.order = KernelSpec::Order::kFlags1;
  flags_6_12(k);
  types_6_12(k);
  k.section_flags = 0xf | 0x20;  // 6.15's VMEMMAP_PREINIT bit too: must be masked
  return k;
}

KernelSpec linux_6_4() {
  KernelSpec k;
  k.name = "linux_6_4";
  k.osrelease = "6.4.16";
  k.off_compound_head = 8;
  k.order = KernelSpec::Order::kFolioFields;
  k.page_table_type = ~uint32_t{0x200};
  k.free_orders = 11;  // MAX_ORDER 10 inclusive from 6.4: still 11 orders
  k.sections = KernelSpec::Sections::kRootPointerVariable;
  return k;
}

KernelSpec linux_6_8() {
  KernelSpec k;
  k.name = "linux_6_8";
  k.osrelease = "6.8.12";
  k.off_compound_head = 8;
  k.order = KernelSpec::Order::kFlags1;
  flags_6_6(k);
  k.pg_hugetlb = 8;  // in folio._flags_1
  k.hugetlb_dtor.reset();
  k.page_table_type = ~uint32_t{0x200};
  return k;
}

KernelSpec linux_7_1() {
  KernelSpec k;
  k.name = "linux_7_1";
  k.osrelease = "7.1.0";
  k.off_compound_head = 8;
  k.compound_info_name = true;
  k.order = KernelSpec::Order::kFlags1;
  flags_6_12(k);
  types_6_12(k);
  k.unaccepted_type = 0xf7000000;
  return k;
}

std::vector<KernelSpec> all_kernel_specs() {
  return {rhel7_3_10(), rhel8_4_18(), rhel9_5_14_la57(), ubuntu_5_15_sme(), debian_6_1(),
          linux_6_4(),  linux_6_8(),  debian_6_12(),     linux_7_1()};
}

// ---- Builder -------------------------------------------------------------------

KernelLayoutBuilder::KernelLayoutBuilder(KernelSpec spec, MachineSpec machine)
    : spec_(std::move(spec)), machine_(std::move(machine)) {
  if (machine_.kernel_phys % k2M) misuse("kernel_phys must be 2 MiB aligned");
  image_vaddr_ = kStartKernelMap + 0x1000000 + (spec_.kaslr ? machine_.kaslr_offset : 0);
  phys_base_ = machine_.kernel_phys - (image_vaddr_ - kStartKernelMap);
  if (spec_.five_level) {
    page_offset_ = machine_.page_offset.value_or(spec_.kaslr ? 0xff3d4c0000000000 : 0xff11000000000000);
    vmemmap_base_ = machine_.vmemmap_base.value_or(spec_.kaslr ? 0xffd5a00000000000 : 0xffd4000000000000);
  } else {
    page_offset_ = machine_.page_offset.value_or(spec_.kaslr ? 0xffff9a2d00000000 : 0xffff880000000000);
    vmemmap_base_ = machine_.vmemmap_base.value_or(spec_.kaslr ? 0xffffd1a4c0000000 : 0xffffea0000000000);
  }
  if (machine_.kernel_text_segment) {
    dump_.add_kernel_text_segment(image_vaddr_, machine_.kernel_phys, k2M);
  }
  uint64_t largest = 0;
  for (auto [s, e] : machine_.ram) {
    dump_.add_ram(s, e - s, page_offset_ + s);
    if (e - s > largest) {
      largest = e - s;
      alloc_top_ = e;
    }
  }
  if (!dump_.in_ram(machine_.kernel_phys, k2M)) misuse("the kernel image is not in RAM");
  taken_.push_back({machine_.kernel_phys, machine_.kernel_phys + k2M});
  top_table_ = image_phys(kImgTopPgt);
  tables_[top_table_] = {};
  build_mem_map();
  build_page_tables();
}

uint64_t KernelLayoutBuilder::alloc(uint64_t size, uint64_t align) {
  uint64_t at = (alloc_top_ - size) / align * align;
  if (at < machine_.kernel_phys + k2M || !dump_.in_ram(at, size)) misuse("out of memory for kernel data");
  alloc_top_ = at;
  taken_.push_back({at, at + size});
  return at;
}

uint64_t KernelLayoutBuilder::table_for(uint64_t parent, unsigned index) {
  uint64_t& e = tables_[parent][index];
  if (e & 1) return e & 0x000ffffffffff000 & ~spec_.sme_mask;
  uint64_t t = alloc(4096, 4096);
  tables_[t] = {};
  tables_[parent][index] = t | kTableFlags | spec_.sme_mask;
  return t;
}

void KernelLayoutBuilder::map(uint64_t vaddr, uint64_t paddr, unsigned leaf) {
  unsigned levels = spec_.five_level ? 5 : 4;
  uint64_t table = top_table_;
  for (unsigned level = levels; level > leaf; --level) {
    table = table_for(table, static_cast<unsigned>((vaddr >> (12 + 9 * (level - 1))) & 511));
  }
  unsigned idx = static_cast<unsigned>((vaddr >> (12 + 9 * (leaf - 1))) & 511);
  tables_[table][idx] = paddr | kLeafFlags | kNx | spec_.sme_mask | (leaf > 1 ? kPse : 0);
}

void KernelLayoutBuilder::build_page_tables() {
  map(image_vaddr_, machine_.kernel_phys, 2);  // the kernel image (one 2 MiB page)
  for (uint64_t g = 0; g * k1G < machine_.ram.back().second; ++g) {
    bool any = false;
    for (auto [s, e] : machine_.ram) any |= s < (g + 1) * k1G && e > g * k1G;
    if (any) map(page_offset_ + g * k1G, g * k1G, 3);
  }
}

void KernelLayoutBuilder::build_mem_map() {
  uint64_t pps = pfns_per_section();
  for (auto [s, e] : machine_.ram) {
    for (uint64_t sec = (s / 4096) >> kSectionPfnShift; sec <= ((e / 4096) - 1) >> kSectionPfnShift; ++sec) {
      if (section_maps_.count(sec)) continue;
      uint64_t bytes = pps * spec_.page_struct_size;
      if (machine_.per_section_maps) {
        uint64_t chunk = alloc(bytes, 4096);
        section_maps_[sec] = page_offset_ + chunk;
        continue;
      }
      uint64_t chunk = alloc(bytes, k2M);
      uint64_t vaddr = vmemmap_base_ + (sec << kSectionPfnShift) * spec_.page_struct_size;
      section_maps_[sec] = vaddr;
      if (machine_.vmemmap_4k) {
        for (uint64_t off = 0; off < bytes; off += 4096) map(vaddr + off, chunk + off, 1);
      } else {
        map(vaddr, chunk, 2);
      }
    }
  }
}

uint64_t KernelLayoutBuilder::struct_page_vaddr(uint64_t pfn) const {
  auto it = section_maps_.find(pfn >> kSectionPfnShift);
  if (it == section_maps_.end()) misuse("pfn " + std::to_string(pfn) + " has no struct page");
  return it->second + (pfn & (pfns_per_section() - 1)) * spec_.page_struct_size;
}

void KernelLayoutBuilder::build_mem_section() {
  uint64_t nr_sections = uint64_t{1} << (spec_.max_physmem_bits - 27);
  uint64_t per_root = 4096 / spec_.mem_section_size;
  uint64_t nr_roots = (nr_sections + per_root - 1) / per_root;
  std::map<uint64_t, uint64_t> words;
  for (auto [sec, vaddr] : section_maps_) {
    words[sec] = (vaddr - (sec << kSectionPfnShift) * spec_.page_struct_size) | spec_.section_flags;
  }
  for (auto [sec, w] : section_override_) words[sec] = w;
  using S = KernelSpec::Sections;
  if (spec_.sections == S::kStatic) {
    if (nr_sections * spec_.mem_section_size > kImgFreeHugePage - kImgStaticSections) misuse("static mem_section too big");
    mem_section_symbol_ = image_symbol(kImgStaticSections);
    for (auto [sec, w] : words) dump_.write_value(image_phys(kImgStaticSections) + sec * spec_.mem_section_size, w);
    return;
  }
  uint64_t roots_phys;
  if (spec_.sections == S::kRootArray) {
    if (nr_roots * 8 > kImgStaticSections - kImgMemSection) misuse("root array too big for the image");
    roots_phys = image_phys(kImgMemSection);
    roots_vaddr_ = mem_section_symbol_ = image_symbol(kImgMemSection);
  } else {
    roots_phys = alloc(nr_roots * 8, 4096);
    roots_vaddr_ = page_offset_ + roots_phys;
    dump_.write_value(image_phys(kImgMemSection), roots_vaddr_);
    mem_section_symbol_ = spec_.sections == S::kRootPointer ? roots_vaddr_ : image_symbol(kImgMemSection);
  }
  std::map<uint64_t, uint64_t> root_pages;
  for (auto [sec, w] : words) {
    uint64_t r = sec / per_root;
    if (!root_pages.count(r)) {
      root_pages[r] = alloc(4096, 4096);
      dump_.write_value(roots_phys + r * 8, page_offset_ + root_pages[r]);
    }
    dump_.write_value(root_pages[r] + (sec % per_root) * spec_.mem_section_size, w);
  }
}

DumpBuilder& KernelLayoutBuilder::finish() {
  if (finished_) misuse("finish() called twice");
  finished_ = true;
  build_mem_section();
  for (const auto& [paddr, t] : tables_) dump_.write_value(paddr, t);
  for (const auto& [pfn, bytes] : pages_) {
    uint64_t vaddr = struct_page_vaddr(pfn);
    uint64_t paddr;
    if (machine_.per_section_maps) {
      paddr = vaddr - page_offset_;
    } else {
      // Find the chunk through the tables we built.
      uint64_t table = top_table_;
      unsigned levels = spec_.five_level ? 5 : 4;
      paddr = 0;
      for (unsigned level = levels; level >= 1; --level) {
        uint64_t e = tables_.at(table)[(vaddr >> (12 + 9 * (level - 1))) & 511];
        uint64_t a = e & 0x000ffffffffff000 & ~spec_.sme_mask;
        if (level == 1 || (e & kPse)) {
          uint64_t size = uint64_t{1} << (12 + 9 * (level - 1));
          paddr = (a & ~(size - 1)) + (vaddr & (size - 1));
          break;
        }
        table = a;
      }
    }
    dump_.write_physical(paddr, std::span<const std::byte>(bytes.data(), spec_.page_struct_size));
  }
  dump_.write_value(image_phys(kImgPhysBase), phys_base_);
  write_utsname();
  dump_.set_vmcoreinfo(vmcoreinfo());
  return dump_;
}

// init_uts_ns.name, as the kernel's uname reports it.
void KernelLayoutBuilder::write_utsname() {
  constexpr size_t kField = 65;
  std::vector<std::byte> name(6 * kField);
  const std::string fields[] = {"Linux", "vmc-test", spec_.osrelease, "#1 SMP PREEMPT_DYNAMIC vmcollect builder",
                                "x86_64", "(none)"};
  for (size_t i = 0; i < 6; ++i) std::memcpy(name.data() + i * kField, fields[i].data(), fields[i].size());
  uint64_t name_offset = spec_.export_uts_name_offset ? 0 : 4;
  dump_.write_physical(image_phys(kImgUts) + name_offset, name);
}

std::string KernelLayoutBuilder::vmcoreinfo() const {
  std::ostringstream o;
  const KernelSpec& k = spec_;
  uint64_t nr_sections = uint64_t{1} << (k.max_physmem_bits - 27);
  uint64_t per_root = 4096 / k.mem_section_size;
  o << "OSRELEASE=" << k.osrelease << "\n";
  o << "BUILD-ID=0123456789abcdef0123456789abcdef01234567\n";
  o << "PAGESIZE=4096\n";
  o << "SYMBOL(init_uts_ns)=" << hexs(image_symbol(kImgUts)) << "\n";
  if (k.export_uts_name_offset) o << "OFFSET(uts_namespace.name)=0\n";
  o << "SYMBOL(node_online_map)=" << hexs(image_symbol(0x1900)) << "\n";
  o << "SYMBOL(swapper_pg_dir)=" << hexs(image_symbol(kImgTopPgt)) << "\n";
  o << "SYMBOL(_stext)=" << hexs(image_vaddr_) << "\n";
  o << "SYMBOL(mem_section)=" << hexs(mem_section_symbol_) << "\n";
  if (k.export_length) {
    o << "LENGTH(mem_section)="
      << (k.sections == KernelSpec::Sections::kStatic ? nr_sections : (nr_sections + per_root - 1) / per_root) << "\n";
  }
  o << "SIZE(mem_section)=" << k.mem_section_size << "\n";
  o << "OFFSET(mem_section.section_mem_map)=0\n";
  if (k.export_section_size_bits) o << "NUMBER(SECTION_SIZE_BITS)=27\n";
  if (k.export_max_physmem_bits) o << "NUMBER(MAX_PHYSMEM_BITS)=" << k.max_physmem_bits << "\n";
  o << "SIZE(page)=" << k.page_struct_size << "\n";
  o << "SIZE(pglist_data)=" << 171968 << "\n";
  o << "SIZE(zone)=" << 1600 << "\n";
  o << "SIZE(free_area)=" << 104 << "\n";
  o << "SIZE(list_head)=16\n";
  o << "SIZE(nodemask_t)=128\n";
  o << "OFFSET(page.flags)=" << k.off_flags << "\n";
  o << (k.refcount_is_count ? "OFFSET(page._count)=" : "OFFSET(page._refcount)=") << k.off_refcount << "\n";
  o << "OFFSET(page.mapping)=" << k.off_mapping << "\n";
  o << "OFFSET(page.lru)=" << k.off_lru << "\n";
  o << "OFFSET(page._mapcount)=" << k.off_mapcount << "\n";
  o << "OFFSET(page.private)=" << k.off_private << "\n";
  if (k.order == KernelSpec::Order::kCompoundFields) {
    o << "OFFSET(page.compound_dtor)=" << k.off_compound_dtor << "\n";
    o << "OFFSET(page.compound_order)=" << k.off_compound_order << "\n";
  }
  if (k.off_compound_head) {
    o << (k.compound_info_name ? "OFFSET(page.compound_info)=" : "OFFSET(page.compound_head)=") << *k.off_compound_head
      << "\n";
  }
  if (k.order == KernelSpec::Order::kFolioFields) {
    o << "OFFSET(folio._folio_dtor)=" << k.off_folio_dtor << "\n";
    o << "OFFSET(folio._folio_order)=" << k.off_folio_order << "\n";
  }
  o << "OFFSET(pglist_data.node_zones)=0\n";
  o << "OFFSET(list_head.next)=0\n";
  o << "OFFSET(list_head.prev)=8\n";
  o << "LENGTH(zone.free_area)=" << k.free_orders << "\n";
  o << "LENGTH(free_area.free_list)=5\n";
  o << "NUMBER(NR_FREE_PAGES)=0\n";
  o << "NUMBER(PG_lru)=" << k.pg_lru << "\n";
  o << "NUMBER(PG_private)=" << k.pg_private << "\n";
  o << "NUMBER(PG_swapcache)=" << k.pg_swapcache << "\n";
  if (k.export_swapbacked) o << "NUMBER(PG_swapbacked)=" << k.pg_swapbacked << "\n";
  if (k.pg_slab >= 0) o << "NUMBER(PG_slab)=" << k.pg_slab << "\n";
  o << "NUMBER(PG_hwpoison)=" << k.pg_hwpoison << "\n";
  if (k.export_head_mask) o << "NUMBER(PG_head_mask)=" << (uint64_t{1} << k.pg_head) << "\n";
  o << "NUMBER(PAGE_BUDDY_MAPCOUNT_VALUE)=" << k.buddy << "\n";
  if (k.hugetlb_dtor) o << "NUMBER(HUGETLB_PAGE_DTOR)=" << *k.hugetlb_dtor << "\n";
  if (k.pg_hugetlb >= 0) o << "NUMBER(PG_hugetlb)=" << k.pg_hugetlb << "\n";
  if (k.hugetlb_type) o << "NUMBER(PAGE_HUGETLB_MAPCOUNT_VALUE)=" << *k.hugetlb_type << "\n";
  if (k.offline) o << "NUMBER(PAGE_OFFLINE_MAPCOUNT_VALUE)=" << *k.offline << "\n";
  if (k.slab_type) o << "NUMBER(PAGE_SLAB_MAPCOUNT_VALUE)=" << *k.slab_type << "\n";
  if (k.unaccepted_type) o << "NUMBER(PAGE_UNACCEPTED_MAPCOUNT_VALUE)=" << *k.unaccepted_type << "\n";
  if (k.free_huge_page) o << "SYMBOL(free_huge_page)=" << hexs(image_symbol(kImgFreeHugePage)) << "\n";
  if (k.number_phys_base) {
    o << "NUMBER(phys_base)=" << static_cast<int64_t>(phys_base_) << "\n";
  } else {
    o << "SYMBOL(phys_base)=" << hexs(image_symbol(kImgPhysBase)) << "\n";
  }
  o << "SYMBOL(" << k.top_pgt << ")=" << hexs(image_symbol(kImgTopPgt)) << "\n";
  if (k.export_l5) o << "NUMBER(pgtable_l5_enabled)=" << (k.five_level ? 1 : 0) << "\n";
  o << "SYMBOL(node_data)=" << hexs(image_symbol(0x1a00)) << "\n";
  o << "LENGTH(node_data)=1024\n";
  if (k.kaslr) {
    o << "KERNELOFFSET=" << hexs(machine_.kaslr_offset) << "\n";
    o << "NUMBER(KERNEL_IMAGE_SIZE)=1073741824\n";
  }
  o << "NUMBER(sme_mask)=" << k.sme_mask << "\n";
  o << "CRASHTIME=1700000000\n";
  std::string text;
  std::istringstream in(o.str());
  for (std::string line; std::getline(in, line);) {
    bool drop = std::any_of(omit_.begin(), omit_.end(), [&](const std::string& p) { return line.rfind(p, 0) == 0; });
    if (!drop) text += line + "\n";
  }
  for (const auto& l : extra_) text += l + "\n";
  return text;
}

// ---- struct page contents -----------------------------------------------------------

void KernelLayoutBuilder::set_u64(uint64_t pfn, uint32_t off, uint64_t v) {
  std::memcpy(pages_[pfn].data() + off, &v, 8);
}
void KernelLayoutBuilder::set_u32(uint64_t pfn, uint32_t off, uint32_t v) {
  std::memcpy(pages_[pfn].data() + off, &v, 4);
}
void KernelLayoutBuilder::set_width(uint64_t pfn, uint32_t off, uint32_t width, uint64_t v) {
  std::memcpy(pages_[pfn].data() + off, &v, width);  // little-endian
}
void KernelLayoutBuilder::set_flag(uint64_t pfn, int bit) {
  if (bit < 0) return;
  uint64_t f;
  std::memcpy(&f, pages_[pfn].data() + spec_.off_flags, 8);
  f |= uint64_t{1} << bit;
  std::memcpy(pages_[pfn].data() + spec_.off_flags, &f, 8);
}

void KernelLayoutBuilder::in_use(uint64_t pfn) {
  pages_[pfn] = {};
  set_u32(pfn, spec_.off_refcount, 1);
  set_u32(pfn, spec_.off_mapcount, 0xffffffff);
  // A list_head where lru is: even kernel pointers (never a tail mark).
  set_u64(pfn, spec_.off_lru, page_offset_ + 0x1000 * (pfn % 4096));
}

void KernelLayoutBuilder::free_block(uint64_t pfn, unsigned order) {
  for (uint64_t p = pfn; p < pfn + (uint64_t{1} << order); ++p) {
    pages_[p] = {};
    set_u32(p, spec_.off_mapcount, 0xffffffff);
  }
  set_u32(pfn, spec_.off_mapcount, static_cast<uint32_t>(spec_.buddy));
  set_u64(pfn, spec_.off_private, order);
  set_u64(pfn, spec_.off_lru, struct_page_vaddr(pfn));  // buddy list: points at itself
  set_u64(pfn, spec_.off_lru + 8, struct_page_vaddr(pfn));
}

void KernelLayoutBuilder::anon(uint64_t pfn) {
  in_use(pfn);
  set_flag(pfn, spec_.pg_lru);
  set_flag(pfn, spec_.pg_swapbacked);
  set_u64(pfn, spec_.off_mapping, page_offset_ + 0x3450000 + 0x40 * (pfn % 64) + 1);  // anon_vma | PAGE_MAPPING_ANON
  set_u32(pfn, spec_.off_mapcount, 0);
}

void KernelLayoutBuilder::file_cache(uint64_t pfn, bool private_data) {
  in_use(pfn);
  set_flag(pfn, spec_.pg_lru);
  set_u64(pfn, spec_.off_mapping, page_offset_ + 0x2340000 + 0x400 * (pfn % 8));  // an address_space
  if (private_data) {
    set_flag(pfn, spec_.pg_private);
    set_u64(pfn, spec_.off_private, page_offset_ + 0x5670000);  // buffer heads
  }
}

void KernelLayoutBuilder::swap_cache(uint64_t pfn) {
  in_use(pfn);
  set_flag(pfn, spec_.pg_swapcache);
  set_flag(pfn, spec_.pg_swapbacked);
  set_u64(pfn, spec_.off_private, 0x1234);  // swp_entry_t
}

void KernelLayoutBuilder::owner_priv_only(uint64_t pfn) {
  in_use(pfn);
  // PG_owner_priv_1: PG_checked for file systems, PG_pinned for Xen.
  set_flag(pfn, spec_.before_4_4() ? 8 : spec_.pg_swapcache);
  set_u64(pfn, spec_.off_mapping, page_offset_ + 0x2340000);
}

void KernelLayoutBuilder::slab(uint64_t pfn, bool odd_mapping) {
  in_use(pfn);
  if (spec_.pg_slab >= 0) {
    set_flag(pfn, spec_.pg_slab);
    // Slab counters where _mapcount is: make them look like a free page.
    set_u32(pfn, spec_.off_mapcount, static_cast<uint32_t>(spec_.buddy));
    set_u64(pfn, spec_.off_private, 3);
  } else {
    set_u32(pfn, spec_.off_mapcount, static_cast<uint32_t>(*spec_.slab_type));
  }
  if (odd_mapping) set_u64(pfn, spec_.off_mapping, 0x1f);  // slab.slabs (6.2+) or freelist garbage
}

void KernelLayoutBuilder::page_table(uint64_t pfn) {
  in_use(pfn);
  set_u32(pfn, spec_.off_mapcount, spec_.page_table_type);
}

void KernelLayoutBuilder::hwpoison(uint64_t pfn) {
  in_use(pfn);
  set_flag(pfn, spec_.pg_hwpoison);
}

void KernelLayoutBuilder::offline(uint64_t pfn) {
  if (!spec_.offline) misuse(spec_.name + " has no offline pages");
  in_use(pfn);
  set_u32(pfn, spec_.off_mapcount, static_cast<uint32_t>(*spec_.offline));
}

void KernelLayoutBuilder::unaccepted(uint64_t pfn) {
  if (!spec_.unaccepted_type) misuse(spec_.name + " has no unaccepted pages");
  pages_[pfn] = {};
  set_u32(pfn, spec_.off_mapcount, static_cast<uint32_t>(*spec_.unaccepted_type));
}

void KernelLayoutBuilder::reserved(uint64_t pfn) {
  in_use(pfn);
  set_flag(pfn, spec_.pg_reserved);
}

void KernelLayoutBuilder::compound(uint64_t pfn, unsigned order, Compound kind) {
  if (order == 0 || (pfn & ((uint64_t{1} << order) - 1))) misuse("compound page not aligned");
  uint64_t n = uint64_t{1} << order, head_vaddr = struct_page_vaddr(pfn);
  switch (kind) {
    case Compound::kAnonThp: anon(pfn); break;
    case Compound::kFileFolio: file_cache(pfn); break;
    case Compound::kHugetlb:
      in_use(pfn);
      set_u64(pfn, spec_.off_mapping, page_offset_ + 0x6780000);  // the hugetlbfs inode's mapping
      if (spec_.hugetlb_type) set_u32(pfn, spec_.off_mapcount, static_cast<uint32_t>(*spec_.hugetlb_type));
      break;
    case Compound::kSlab: slab(pfn); break;
  }
  set_flag(pfn, spec_.pg_head);
  for (uint64_t i = 1; i < n; ++i) {
    uint64_t t = pfn + i;
    pages_[t] = {};
    set_u32(t, spec_.off_mapcount, 0xffffffff);
    if (spec_.off_compound_head) {
      set_u64(t, *spec_.off_compound_head, head_vaddr | 1);
      if (i > 1) set_u64(t, spec_.off_mapping, kTailMapping);
    } else {
      set_flag(t, spec_.pg_tail);
      set_u64(t, spec_.off_private, head_vaddr);  // first_page
    }
  }
  uint64_t dtor = kind == Compound::kHugetlb ? spec_.hugetlb_dtor.value_or(2) : kind == Compound::kAnonThp ? spec_.thp_dtor : 1;
  uint64_t t1 = pfn + 1;
  switch (spec_.order) {
    case KernelSpec::Order::kLruPrev:
      set_u64(t1, spec_.off_lru + 8, order);
      set_u64(t1, spec_.off_lru, image_symbol(kind == Compound::kHugetlb ? kImgFreeHugePage : kImgFreeCompound));
      break;
    case KernelSpec::Order::kCompoundFields:
      set_width(t1, spec_.off_compound_dtor, spec_.compound_width, dtor);
      set_width(t1, spec_.off_compound_order, spec_.compound_width, order);
      break;
    case KernelSpec::Order::kFolioFields:
      set_width(t1, spec_.off_folio_dtor - spec_.page_struct_size, 1, dtor);
      set_width(t1, spec_.off_folio_order - spec_.page_struct_size, 1, order);
      break;
    case KernelSpec::Order::kFlags1: {
      uint64_t f = order;
      if (kind == Compound::kHugetlb && spec_.pg_hugetlb >= 0) f |= uint64_t{1} << spec_.pg_hugetlb;
      if (kind == Compound::kAnonThp) f |= uint64_t{1} << 9;  // large_rmappable-style bits
      set_u64(t1, spec_.off_flags, f);
      break;
    }
  }
}

}  // namespace vmc::testing
