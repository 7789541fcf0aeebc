// Why mem_section is decoded with a vote: the same SYMBOL(mem_section) has
// meant "the root array" and "a pointer to the root array" (4.14/4.15), and
// the section_mem_map flag bits grew from 2 to 6 with no export. Trying each
// encoding and keeping the one whose present sections all decode to kernel
// addresses (as makedumpfile does) finds the layout; on VMEMMAP kernels every
// section must then decode to the same base, so a section that disagrees is
// damaged and is left out rather than read from a wrong address.
#include "vmcoreinfo/pages/mem_map.h"

#include <algorithm>
#include <cstring>
#include <map>

#include "base/checked_math.h"

namespace vmc {
namespace {

// Lowest kernel-half address on x86_64 with 5-level paging (4-level: 0xffff8...).
constexpr uint64_t kMinKernelAddress = 0xff00000000000000;
constexpr uint64_t kSectionMapMask = ~((uint64_t{1} << kSectionFlagBits) - 1);

bool kernel_address(uint64_t v) { return v >= kMinKernelAddress; }

uint64_t load_u64(const std::byte* p) {
  uint64_t v;
  std::memcpy(&v, p, sizeof v);
  return v;
}

enum class Encoding { kStaticArray, kRootArray, kRootPointer };

const char* encoding_name(Encoding e) {
  switch (e) {
    case Encoding::kStaticArray: return "SPARSEMEM (static mem_section array)";
    case Encoding::kRootArray: return "SPARSEMEM_EXTREME (mem_section root array)";
    case Encoding::kRootPointer: return "SPARSEMEM_EXTREME (pointer to the mem_section root array)";
  }
  return "";
}

}  // namespace

class MemoryModelLoader {
 public:
  MemoryModelLoader(const KernelAddressSpace& kernel, const VmcoreInfo& info,
                    std::vector<std::string>& warnings)
      : kernel_(kernel), info_(info), warnings_(warnings) {}

  Result<KernelMemoryModel> load() {
    auto size = info_.require_size("page");
    if (!size) return std::move(size).error();
    if (*size == 0 || *size > 4096) {
      return Error(ErrorKind::kBadInput, "VMCOREINFO SIZE(page)=" + std::to_string(*size) + " is not plausible");
    }
    m_.struct_size_ = *size;
    page_size_ = kernel_.memory().page_size();
    max_pfn_ = kernel_.memory().max_pfn();
    if (info_.symbol("mem_section")) return load_sparse();
    if (info_.symbol("mem_map")) return load_flat();
    return Error(ErrorKind::kUnsupported,
                 "VMCOREINFO has neither SYMBOL(mem_section) nor SYMBOL(mem_map): cannot find mem_map");
  }

 private:
  // ---- SPARSEMEM ------------------------------------------------------------

  Status section_geometry() {
    unsigned page_shift = static_cast<unsigned>(__builtin_ctzll(page_size_));
    int64_t ssb = 27, mpb = 46;  // x86_64 defaults before 5.13 / 5.8 exported them
    if (auto v = info_.number("SECTION_SIZE_BITS")) {
      ssb = *v;
    } else {
      warnings_.push_back("VMCOREINFO has no NUMBER(SECTION_SIZE_BITS) (before 5.13); using the x86_64 value 27");
    }
    if (auto v = info_.number("MAX_PHYSMEM_BITS")) {
      mpb = *v;
    } else if (info_.number("pgtable_l5_enabled").value_or(0) != 0) {
      mpb = 52;
    }
    if (ssb <= page_shift || ssb >= mpb || mpb > 64 || mpb - ssb > 40) {
      return Error(ErrorKind::kBadInput, "VMCOREINFO section geometry SECTION_SIZE_BITS=" + std::to_string(ssb) +
                                             " MAX_PHYSMEM_BITS=" + std::to_string(mpb) + " is not plausible");
    }
    m_.section_pfn_shift_ = static_cast<unsigned>(ssb) - page_shift;
    nr_mem_sections_ = uint64_t{1} << (mpb - ssb);
    uint64_t pps = m_.pfns_per_section();
    needed_ = std::min(nr_mem_sections_, (max_pfn_ + pps - 1) / pps);
    return {};
  }

  Result<KernelMemoryModel> load_sparse() {
    auto sec_size = info_.require_size("mem_section");
    if (!sec_size) return std::move(sec_size).error();
    auto off = info_.require_offset("mem_section.section_mem_map");
    if (!off) return std::move(off).error();
    if (*sec_size < 8 || *sec_size > page_size_ || !fits_within(*off, 8, *sec_size)) {
      return Error(ErrorKind::kBadInput, "VMCOREINFO SIZE(mem_section)=" + std::to_string(*sec_size) +
                                             " / OFFSET(mem_section.section_mem_map)=" + std::to_string(*off) +
                                             " are not plausible");
    }
    sec_size_ = *sec_size;
    map_off_ = *off;
    VMC_TRY(section_geometry());
    uint64_t symbol = *info_.symbol("mem_section");
    // A static array has one entry per section; SPARSEMEM_EXTREME one root per
    // page of sections (or no LENGTH at all).
    std::vector<Encoding> order{Encoding::kRootArray, Encoding::kRootPointer};
    if (info_.length("mem_section") == nr_mem_sections_) order = {Encoding::kStaticArray};
    std::string tried;
    for (Encoding e : order) {
      size_t keep_warnings = warnings_.size();
      auto words = read_section_words(e, symbol);
      if (!words) {
        warnings_.resize(keep_warnings);
        tried += std::string(tried.empty() ? "" : "; ") + encoding_name(e) + ": " + words.error().describe();
        continue;
      }
      auto why = accept(*words);
      if (!why.empty()) warnings_.resize(keep_warnings);  // only the accepted encoding speaks
      if (why.empty()) {
        m_.description_ = std::string(encoding_name(e)) + m_.description_;
        return std::move(m_);
      }
      tried += std::string(tried.empty() ? "" : "; ") + encoding_name(e) + ": " + why;
    }
    return Error(ErrorKind::kBadInput, "cannot decode mem_section at " + hex(symbol) + " (" + tried + ")");
  }

  // The raw section_mem_map word of each needed section (0 when absent).
  Result<std::vector<uint64_t>> read_section_words(Encoding e, uint64_t symbol) {
    std::vector<uint64_t> words(needed_, 0);
    if (e == Encoding::kStaticArray) {
      std::vector<std::byte> buf(needed_ * sec_size_);
      VMC_TRY(kernel_.read_virtual(symbol, buf));
      for (uint64_t i = 0; i < needed_; ++i) words[i] = load_u64(buf.data() + i * sec_size_ + map_off_);
      return words;
    }
    uint64_t roots_at = symbol;
    if (e == Encoding::kRootPointer) {
      std::byte p[8];
      VMC_TRY(kernel_.read_virtual(symbol, p));
      roots_at = load_u64(p);
      if (!kernel_address(roots_at)) {
        return Error(ErrorKind::kBadInput, "the pointer holds " + hex(roots_at) + ", not a kernel address");
      }
    }
    uint64_t per_root = page_size_ / sec_size_;
    uint64_t nr_roots = (needed_ + per_root - 1) / per_root;
    std::vector<std::byte> roots(nr_roots * 8);
    VMC_TRY(kernel_.read_virtual(roots_at, roots));
    std::vector<std::byte> secs(per_root * sec_size_);
    for (uint64_t r = 0; r < nr_roots; ++r) {
      uint64_t root = load_u64(roots.data() + r * 8);
      if (root == 0) continue;
      if (!kernel_address(root)) {
        return Error(ErrorKind::kBadInput, "root " + std::to_string(r) + " is " + hex(root) + ", not a kernel address");
      }
      if (auto st = kernel_.read_virtual(root, secs); !st) {
        warnings_.push_back("mem_section root " + std::to_string(r) + " at " + hex(root) +
                            " is unreadable (" + st.error().describe() + "); its pages are kept");
        continue;
      }
      for (uint64_t i = 0; i < per_root && r * per_root + i < needed_; ++i) {
        words[r * per_root + i] = load_u64(secs.data() + i * sec_size_ + map_off_);
      }
    }
    return words;
  }

  // Empty when the words make a usable model (stored in m_), else why not.
  std::string accept(const std::vector<uint64_t>& words) {
    m_.vmemmap_base_.reset();
    std::vector<uint64_t> maps(words.size(), 0);
    std::map<uint64_t, uint64_t> bases;  // encoded base -> sections
    uint64_t present = 0;
    std::vector<std::string> bad;
    for (uint64_t nr = 0; nr < words.size(); ++nr) {
      uint64_t w = words[nr];
      if ((w & (kSectionMarkedPresent | kSectionHasMemMap)) != (kSectionMarkedPresent | kSectionHasMemMap)) continue;
      uint64_t mem_map = (w & kSectionMapMask) + (nr << m_.section_pfn_shift_) * m_.struct_size_;
      if (!kernel_address(mem_map)) {
        bad.push_back("section " + std::to_string(nr) + " decodes to " + hex(mem_map) + ", not a kernel address");
        continue;
      }
      maps[nr] = mem_map;
      ++bases[w & kSectionMapMask];
      ++present;
    }
    if (present == 0) return bad.empty() ? "no present section" : bad.front();
    // A wrong guess at the encoding decodes garbage; a right one may still
    // hold a few damaged sections, which are left out.
    if (bad.size() >= present) return bad.front() + " (and " + std::to_string(bad.size() - 1) + " more)";
    for (auto& b : bad) warnings_.push_back(b + "; its pages are kept");
    auto best = std::max_element(bases.begin(), bases.end(),
                                 [](const auto& a, const auto& b) { return a.second < b.second; });
    // VMEMMAP: the encoded value is mem_map - pfn, i.e. the same base for all.
    if (best->second * 2 > present) {
      m_.vmemmap_base_ = best->first;
      drop_disagreeing(words, maps, best->first);
    }
    drop_untranslatable(maps);
    m_.maps_ = std::move(maps);
    if (m_.usable_sections() == 0) return "no section's mem_map can be translated";
    m_.description_ = ", " + std::to_string(m_.usable_sections()) + " of " + std::to_string(present) +
                      " present sections usable" +
                      (m_.vmemmap_base_ ? ", VMEMMAP at " + hex(*m_.vmemmap_base_) : std::string());
    return {};
  }

  void drop_disagreeing(const std::vector<uint64_t>& words, std::vector<uint64_t>& maps, uint64_t base) {
    for (uint64_t nr = 0; nr < maps.size(); ++nr) {
      if (maps[nr] != 0 && (words[nr] & kSectionMapMask) != base) {
        warnings_.push_back("mem_section " + std::to_string(nr) + " encodes mem_map base " +
                            hex(words[nr] & kSectionMapMask) + ", not the VMEMMAP base " + hex(base) +
                            " of the other sections; its pages are kept");
        maps[nr] = 0;
      }
    }
  }

  void drop_untranslatable(std::vector<uint64_t>& maps) {
    for (uint64_t nr = 0; nr < maps.size(); ++nr) {
      if (maps[nr] == 0) continue;
      if (auto t = kernel_.translate(maps[nr]); !t) {
        warnings_.push_back("the mem_map of section " + std::to_string(nr) + " at " + hex(maps[nr]) +
                            " cannot be translated (" + t.error().describe() + "); its pages are kept");
        maps[nr] = 0;
      }
    }
  }

  // ---- FLATMEM --------------------------------------------------------------

  // The member at OFFSET `offset` of the struct at `address`; an offset that
  // would wrap the address space is an error, not a read somewhere else.
  Status read_member(uint64_t address, uint64_t offset, std::span<std::byte> out) {
    auto at = checked_add(address, offset);
    if (!at) {
      return Error(ErrorKind::kBadInput, "VMCOREINFO offset " + hex(offset) + " from " + hex(address) +
                                             " wraps the address space");
    }
    return kernel_.read_virtual(*at, out);
  }

  Result<KernelMemoryModel> load_flat() {
    m_.model_ = MemoryModel::kFlat;
    std::byte p[8];
    VMC_TRY_CTX(kernel_.read_virtual(*info_.symbol("mem_map"), p), "reading the mem_map pointer");
    uint64_t base = load_u64(p), start = 0;
    auto pgdat = info_.symbol("contig_page_data");
    auto node_map = info_.offset("pglist_data.node_mem_map");
    if (base == 0 && pgdat && node_map) {
      VMC_TRY_CTX(read_member(*pgdat, *node_map, p), "reading contig_page_data.node_mem_map");
      base = load_u64(p);
      if (auto o = info_.offset("pglist_data.node_start_pfn")) {
        VMC_TRY_CTX(read_member(*pgdat, *o, p), "reading contig_page_data.node_start_pfn");
        start = load_u64(p);
      }
    }
    if (!kernel_address(base) || start >= max_pfn_) {
      return Error(ErrorKind::kBadInput, "FLATMEM mem_map " + hex(base) + " (from pfn " + std::to_string(start) +
                                             ") is not usable");
    }
    m_.maps_ = {base};
    m_.flat_start_pfn_ = start;
    m_.flat_pfns_ = max_pfn_ - start;
    m_.section_pfn_shift_ = 63;
    m_.description_ = "FLATMEM, mem_map at " + hex(base);
    return std::move(m_);
  }

  const KernelAddressSpace& kernel_;
  const VmcoreInfo& info_;
  std::vector<std::string>& warnings_;
  KernelMemoryModel m_;
  uint64_t page_size_ = 4096, max_pfn_ = 0, sec_size_ = 16, map_off_ = 0;
  uint64_t nr_mem_sections_ = 0, needed_ = 0;
};

Result<KernelMemoryModel> KernelMemoryModel::load(const KernelAddressSpace& kernel, const VmcoreInfo& info,
                                                  std::vector<std::string>& warnings) {
  return MemoryModelLoader(kernel, info, warnings).load();
}

std::optional<MemMapRun> KernelMemoryModel::locate(uint64_t pfn) const {
  if (model_ == MemoryModel::kFlat) {
    if (pfn < flat_start_pfn_ || pfn - flat_start_pfn_ >= flat_pfns_) return std::nullopt;
    uint64_t i = pfn - flat_start_pfn_;
    return MemMapRun{maps_[0] + i * struct_size_, flat_pfns_ - i};
  }
  uint64_t nr = pfn >> section_pfn_shift_;
  if (nr >= maps_.size() || maps_[nr] == 0) return std::nullopt;
  uint64_t i = pfn - (nr << section_pfn_shift_);
  return MemMapRun{maps_[nr] + i * struct_size_, pfns_per_section() - i};
}

uint64_t KernelMemoryModel::usable_sections() const {
  return static_cast<uint64_t>(std::count_if(maps_.begin(), maps_.end(), [](uint64_t m) { return m != 0; }));
}

}  // namespace vmc
