// ELF64 core reader (see elf_core_reader.h for what it promises). Headers are
// parsed through CheckedBytes; PT_LOADs are turned once into sorted, disjoint
// "pieces" of physical memory, each served from one segment's file range, so
// a chunk of pages is one binary search and, in the common case, one mapped
// window of the input.
#include "formats/elf_core_reader.h"

#include <algorithm>
#include <charconv>
#include <cstring>
#include <map>

#include "base/checked_reader.h"
#include "base/pfn_ranges.h"
#include "formats/elf_format.h"
#include "formats/elf_notes.h"

namespace vmc {
namespace {

constexpr uint64_t kKernelTextBase = 0xffffffff80000000ull;  // x86_64 __START_KERNEL_map
// Memory follows the program headers (about 380 bytes per PT_LOAD, parsed
// into loads, pieces and segments), so their count is capped: a real
// /proc/vmcore has one PT_LOAD per RAM range, a few hundred on the largest
// machines; 65536 cost 25 MB, well inside a capture kernel's memory.
constexpr uint64_t kMaxPhnum = 65536;
constexpr uint64_t kMaxNotesBytes = uint64_t{64} << 20;
constexpr uint64_t kNotPaddr = ~uint64_t{0};

// One PT_LOAD as the program header says, plus how much of it the file holds.
struct Load {
  size_t phdr_index;
  uint64_t offset, paddr, vaddr, filesz, memsz;
  uint64_t present;  // bytes of filesz inside the file (< filesz: truncated)
  bool kernel_text;
};

// A disjoint run of physical memory served by one PT_LOAD.
struct Piece {
  uint64_t pstart, pend;  // physical bytes [pstart, pend)
  uint64_t file_offset;   // file offset of pstart
  uint64_t file_end;      // physical end of the p_filesz part; zeros from here to pend
  uint64_t present_end;   // physical end of the bytes the file holds (<= file_end)
  uint64_t vaddr;         // virtual address of pstart
  size_t load;            // index into the loads
};

std::string seg_name(const Load& l) {
  return "PT_LOAD segment " + std::to_string(l.phdr_index) + " (paddr " + hex(l.paddr) + "-" +
         hex(l.paddr + l.memsz) + ")";
}

// ---- header parsing ------------------------------------------------------

struct ParsedHeaders {
  elf::Ehdr eh;
  uint64_t phnum;
  std::vector<elf::Phdr> phdrs;
};

Status check_ident(const CheckedBytes& b, const elf::Ehdr& eh) {
  if (eh.e_ident[4] != elf::kClass64) {
    return Error(ErrorKind::kUnsupported, b.file() + ": ELF class " +
                                              std::to_string(eh.e_ident[4]) +
                                              (eh.e_ident[4] == 1 ? " (32-bit)" : "") +
                                              " is not supported; only ELF64 cores are");
  }
  if (eh.e_ident[5] != elf::kData2Lsb) {
    return Error(ErrorKind::kUnsupported, b.file() + ": ELF data encoding " +
                                              std::to_string(eh.e_ident[5]) +
                                              " (big-endian?) is not supported; only "
                                              "little-endian cores are");
  }
  if (eh.e_type != elf::kTypeCore) {
    return b.error(16, "not a core dump: ELF type is " + std::to_string(eh.e_type.get()) +
                           " (ET_CORE is 4); is this a kernel image or a program?");
  }
  if (eh.e_machine != elf::kMachineX86_64) {
    return Error(ErrorKind::kUnsupported, b.file() + ": ELF machine " +
                                              std::to_string(eh.e_machine.get()) +
                                              " is not supported; only x86_64 (62) is");
  }
  return {};
}

Result<uint64_t> program_header_count(io::InputFile& in, const elf::Ehdr& eh, uint64_t base) {
  if (eh.e_phnum != elf::kPnXnum) return uint64_t{eh.e_phnum};
  // PN_XNUM: the real count is in section header 0's sh_info.
  if (eh.e_shoff == 0) {
    return bad_input_at(in.name(), base + 56,
                        "e_phnum is PN_XNUM (0xffff) but there is no section "
                        "header 0 holding the real count (e_shoff is 0)");
  }
  if (eh.e_shentsize != 0 && eh.e_shentsize < sizeof(elf::Shdr)) {
    return bad_input_at(in.name(), base + 58,
                        "e_shentsize " + std::to_string(eh.e_shentsize.get()) +
                            " is smaller than an ELF64 section header");
  }
  if (eh.e_shoff > ~uint64_t{0} - base) {
    return bad_input_at(in.name(), base + 40, "e_shoff " + hex(eh.e_shoff) + " wraps around");
  }
  auto sh = read_checked(in, base + eh.e_shoff, sizeof(elf::Shdr), sizeof(elf::Shdr),
                         "section header 0 (PN_XNUM program header count)");
  if (!sh) return std::move(sh).error();
  return uint64_t{load<elf::Shdr>(sh->data()).sh_info};
}

// The ELF header sits at file offset base (0 but for an elfcorehdr in raw
// memory); e_phoff and e_shoff count from it.
Result<ParsedHeaders> parse_headers(io::InputFile& in, uint64_t base) {
  uint64_t avail = in.size() > base ? in.size() - base : 0;
  std::vector<std::byte> head(static_cast<size_t>(std::min<uint64_t>(avail, 64)));
  if (!head.empty()) VMC_TRY_CTX(in.read_at(base, head), "reading the ELF header");
  if (!looks_like_elf(head)) {
    return Error(ErrorKind::kBadInput, in.name() + " is not an ELF file (no ELF magic)");
  }
  CheckedBytes b(in.name(), base, head);
  auto eh = b.get<elf::Ehdr>(0, "ELF header");
  if (!eh)
    return std::move(eh).error().add_context("file is " + std::to_string(in.size()) + " bytes");
  VMC_TRY(check_ident(b, *eh));
  auto phnum = program_header_count(in, *eh, base);
  if (!phnum) return std::move(phnum).error();
  if (*phnum == 0) return b.error(56, "the core has no program headers");
  if (eh->e_phentsize != sizeof(elf::Phdr)) {
    return b.error(54, "e_phentsize is " + std::to_string(eh->e_phentsize.get()) +
                           ", not the 56 bytes of an ELF64 program header");
  }
  if (*phnum > kMaxPhnum) {
    return b.error(56, std::to_string(*phnum) + " program headers are more than the " + std::to_string(kMaxPhnum) +
                           " this reader accepts (a core has one PT_LOAD per RAM range; corrupt or hostile?)");
  }
  if (eh->e_phoff > ~uint64_t{0} - base) return b.error(32, "e_phoff wraps around");
  auto table =
      read_checked(in, base + eh->e_phoff, *phnum * sizeof(elf::Phdr), kMaxPhnum * sizeof(elf::Phdr),
                   std::to_string(*phnum) + " program headers (e_phoff " + hex(eh->e_phoff) + ")");
  if (!table) return std::move(table).error();
  ParsedHeaders p{*eh, *phnum, std::vector<elf::Phdr>(static_cast<size_t>(*phnum))};
  std::memcpy(p.phdrs.data(), table->data(), table->size());
  return p;
}

std::optional<uint32_t> pagesize_from_vmcoreinfo(std::string_view text) {
  size_t at = text.starts_with("PAGESIZE=") ? 0 : text.find("\nPAGESIZE=");
  if (at == std::string_view::npos) return std::nullopt;
  at = text.find('=', at) + 1;
  uint32_t v = 0;
  auto [end, ec] = std::from_chars(text.data() + at, text.data() + text.size(), v);
  if (ec != std::errc()) return std::nullopt;
  return v;
}

// ---- pieces ----------------------------------------------------------------

// Adds the parts of [a, b) (inside `l`) not yet covered.
void add_uncovered(std::map<uint64_t, Piece>& covered, const Load& l, size_t load_index, uint64_t a,
                   uint64_t b) {
  uint64_t pos = a;
  auto after = covered.upper_bound(a);
  if (after != covered.begin() && std::prev(after)->second.pend > pos) {
    pos = std::prev(after)->second.pend;
  }
  while (pos < b) {
    auto it = covered.lower_bound(pos);
    uint64_t gap_end = it == covered.end() ? b : std::min(b, it->first);
    if (gap_end > pos) {
      uint64_t delta = pos - l.paddr;
      Piece p{pos,
              gap_end,
              l.offset + delta,
              l.paddr + l.filesz,
              l.paddr + l.present,
              l.vaddr + delta,
              load_index};
      p.file_end = std::clamp(p.file_end, p.pstart, p.pend);
      p.present_end = std::clamp(p.present_end, p.pstart, p.file_end);
      covered.emplace(pos, p);
    }
    if (it == covered.end() || it->first >= b) break;
    pos = std::max(pos, it->second.pend);
  }
}

// ---- the reader -------------------------------------------------------------

class ElfCoreReader final : public PhysicalMemory {
 public:
  ElfCoreReader(std::unique_ptr<io::InputFile> in, ElfCoreLayout layout)
      : in_(std::move(in)), layout_(std::move(layout)) {
    md_.format = layout_.format_name;
  }

  Status open() {
    auto headers = layout_.program_headers ? given_headers() : parse_headers(*in_, layout_.header_offset);
    if (!headers) return std::move(headers).error();
    if (headers->eh.e_flags & elf::kDumpElfIncomplete) {
      md_.incomplete = true;
      md_.warnings.push_back(in_->name() +
                             " is marked incomplete (DUMP_ELF_INCOMPLETE in "
                             "e_flags): the tool that wrote it was cut short");
    }
    for (size_t i = 0; i < headers->phdrs.size(); ++i) {
      const elf::Phdr& ph = headers->phdrs[i];
      uint64_t where = layout_.header_offset + headers->eh.e_phoff + i * sizeof(elf::Phdr);
      if (ph.p_type == elf::kPtNote) VMC_TRY(add_notes(ph, i, where));
      if (ph.p_type == elf::kPtLoad) VMC_TRY(add_load(ph, i, where));
    }
    VMC_TRY(settle_page_size());
    build_pieces();
    return {};
  }

  const DumpMetadata& metadata() const override { return md_; }
  const std::vector<PfnRange>& ram() const override { return ram_; }

  void available(uint64_t start, uint64_t end, std::span<uint64_t> bits) const override {
    set_range_bits(available_, start, end, bits);
  }

  Result<io::ByteView> pages(uint64_t pfn, uint64_t count) override {
    uint64_t ps = md_.page_size;
    if (count == 0) return io::ByteView();
    VMC_TRY(check_readable(pfn, count));
    uint64_t paddr = pfn * ps, len = count * ps;
    const Piece* p = find_piece(paddr);
    if (p != nullptr && paddr + len <= p->present_end) {
      uint64_t off = p->file_offset + (paddr - p->pstart);
      auto v = in_->view(off, len);
      if (!v) return std::move(v).error().add_context(what_pfns(pfn, count, off));
      return v;
    }
    std::vector<std::byte> buf(static_cast<size_t>(len));
    VMC_TRY(assemble(paddr, buf, pfn, count));
    return io::ByteView::copy_of(std::move(buf));
  }

  // assemble() reads a run that one piece holds with one read_at and zeros nothing.
  Status copy_pages(uint64_t pfn, uint64_t count, std::span<std::byte> out) override {
    VMC_TRY(check_copy_size(count, out));
    if (count == 0) return {};
    VMC_TRY(check_readable(pfn, count));
    return assemble(pfn * md_.page_size, out, pfn, count);
  }

  bool prefers_copy() const override { return in_->prefers_read(); }

  Status read_physical(uint64_t paddr, std::span<std::byte> out) override {
    if (out.empty()) return {};
    uint64_t ps = md_.page_size;
    if (paddr + out.size() < paddr) {
      return Error(ErrorKind::kInvalidArgument, "physical read at " + hex(paddr) + " wraps around");
    }
    uint64_t first = paddr / ps, last = (paddr + out.size() - 1) / ps;
    VMC_TRY(check_readable(first, last - first + 1));
    return assemble(paddr, out, first, last - first + 1);
  }

 private:
  // The caller's program headers, as if they followed an ELF header at 0.
  Result<ParsedHeaders> given_headers() const {
    ParsedHeaders p{};
    p.eh.e_phoff = 0;
    p.phnum = layout_.program_headers->size();
    p.phdrs = *layout_.program_headers;
    return p;
  }

  Status add_notes(const elf::Phdr& ph, size_t index, uint64_t where) {
    std::string what = "PT_NOTE segment " + std::to_string(index) + " (program header at " +
                       hex(where) + ", p_offset " + hex(ph.p_offset) + ")";
    auto bytes = read_checked(*in_, ph.p_offset, ph.p_filesz, kMaxNotesBytes, what);
    if (!bytes) return std::move(bytes).error();
    auto notes = parse_elf_notes(*bytes, in_->name(), ph.p_offset);
    if (!notes) return std::move(notes).error().add_context("parsing " + what);
    md_.notes.insert(md_.notes.end(), bytes->begin(),
                     bytes->begin() + static_cast<ptrdiff_t>(notes->used_bytes));
    md_.nr_cpus += notes->nr_prstatus;
    if (md_.vmcoreinfo.empty()) md_.vmcoreinfo = std::move(notes->vmcoreinfo);
    return {};
  }

  Status add_load(const elf::Phdr& ph, size_t index, uint64_t where) {
    Load l{index, ph.p_offset, ph.p_paddr, ph.p_vaddr, ph.p_filesz, ph.p_memsz, 0, false};
    auto bad = [&](const std::string& why) {
      return bad_input_at(in_->name(), where, seg_name(l) + ": " + why);
    };
    if (l.memsz == 0) return {};
    if (l.paddr == kNotPaddr) {
      md_.warnings.push_back(seg_name(l) + " has no physical address; ignored");
      return {};
    }
    if (l.filesz > l.memsz) {
      return bad("p_filesz " + hex(l.filesz) + " is larger than p_memsz " + hex(l.memsz));
    }
    if (!fits_within(l.paddr, l.memsz, kNotPaddr)) return bad("physical range wraps around");
    if (!fits_within(l.offset, l.filesz, kNotPaddr)) return bad("file range wraps around");
    l.kernel_text = l.vaddr >= kKernelTextBase;
    uint64_t size = in_->size();
    l.present = l.offset >= size ? 0 : std::min(l.filesz, size - l.offset);
    if (l.present < l.filesz && layout_.loads_must_fit) {
      return bad("file bytes " + hex(l.offset) + "-" + hex(l.offset + l.filesz) +
                 " lie outside the image, which ends at " + hex(size));
    }
    if (l.present < l.filesz) {
      md_.incomplete = true;
      md_.warnings.push_back(in_->name() + " is truncated: " + seg_name(l) + " at file offset " +
                             hex(l.offset) + " is missing its last " +
                             std::to_string(l.filesz - l.present) + " of " +
                             std::to_string(l.filesz) + " bytes; those pages are unavailable");
    }
    loads_.push_back(l);
    return {};
  }

  Status settle_page_size() {
    auto ps = pagesize_from_vmcoreinfo(md_.vmcoreinfo);
    if (!ps) return {};
    if (*ps < 4096 || *ps > 65536 || (*ps & (*ps - 1)) != 0) {
      return Error(ErrorKind::kBadInput,
                   in_->name() + ": VMCOREINFO says PAGESIZE=" + std::to_string(*ps) +
                       ", which is not a page size (a power of 2 from 4096 to 65536)");
    }
    md_.page_size = *ps;
    return {};
  }

  void build_pieces() {
    std::vector<size_t> order(loads_.size());
    for (size_t i = 0; i < order.size(); ++i) order[i] = i;
    // Direct-map (and other) segments first, the kernel-text duplicate last.
    std::stable_sort(order.begin(), order.end(), [&](size_t a, size_t b) {
      return !loads_[a].kernel_text && loads_[b].kernel_text;
    });
    // Bytes the file holds first, then bytes cut off by truncation, then
    // p_memsz tails: a truncated direct-map segment falls back on the
    // kernel-text copy where that one survived.
    std::map<uint64_t, Piece> covered;
    for (size_t i : order) {
      const Load& l = loads_[i];
      add_uncovered(covered, l, i, l.paddr, l.paddr + l.present);
    }
    for (size_t i : order) {
      const Load& l = loads_[i];
      add_uncovered(covered, l, i, l.paddr + l.present, l.paddr + l.filesz);
    }
    for (size_t i : order) {
      const Load& l = loads_[i];
      add_uncovered(covered, l, i, l.paddr + l.filesz, l.paddr + l.memsz);
    }
    uint64_t ps = md_.page_size;
    std::vector<PfnRange> missing, with_data;
    for (auto& [start, p] : covered) {
      pieces_.push_back(p);
      // As makedumpfile counts a PT_LOAD: pfns [floor(start), floor(end)). A
      // page the segment covers only in part at its end is not RAM (x86_64's
      // first segment ends at 0x9fc00); readers then agree on the page set.
      append_range(ram_, {p.pstart / ps, p.pend / ps});
      append_range(with_data, {p.pstart / ps, std::min(p.file_end, p.pend) / ps});
      if (p.present_end < p.file_end) {
        append_range(missing, {p.present_end / ps, (p.file_end + ps - 1) / ps});
      }
      if (!md_.segments.empty() &&
          md_.segments.back().paddr + md_.segments.back().size == p.pstart &&
          md_.segments.back().vaddr + md_.segments.back().size == p.vaddr) {
        md_.segments.back().size += p.pend - p.pstart;
      } else {
        md_.segments.push_back({p.pstart, p.vaddr, p.pend - p.pstart});
      }
    }
    for (const Load& l : loads_) {
      if (l.kernel_text) md_.kernel_text.push_back({l.paddr, l.vaddr, l.filesz});
    }
    missing_ = normalize_ranges(std::move(missing));
    // Pages wholly in a p_memsz > p_filesz tail hold no data: makedumpfile
    // writes excluded pages that way in its ELF output, and treats them as
    // not dumped when it reads one (exclude_nodata_pages()). They read zero.
    available_ = subtract_ranges(normalize_ranges(std::move(with_data)), missing_);
  }

  const Piece* find_piece(uint64_t paddr) const {
    auto it = std::upper_bound(pieces_.begin(), pieces_.end(), paddr,
                               [](uint64_t a, const Piece& p) { return a < p.pstart; });
    if (it == pieces_.begin()) return nullptr;
    --it;
    return paddr < it->pend ? &*it : nullptr;
  }

  Status check_readable(uint64_t pfn, uint64_t count) const {
    if (count > (~uint64_t{0} / md_.page_size) - pfn) {
      return Error(ErrorKind::kInvalidArgument,
                   "pfn range " + hex(pfn) + "+" + std::to_string(count) + " overflows");
    }
    if (auto hole = first_uncovered(ram_, pfn, pfn + count)) {
      return Error(ErrorKind::kBadInput, in_->name() + ": pfn " + hex(*hole) +
                                             " is not in any PT_LOAD segment (a memory hole)");
    }
    if (auto gone = first_covered(missing_, pfn, pfn + count)) {
      const Piece* p = find_piece(*gone * md_.page_size);
      std::string seg = p ? seg_name(loads_[p->load]) : "a PT_LOAD segment";
      return Error(ErrorKind::kBadInput, in_->name() + ": pfn " + hex(*gone) +
                                             " lies in the part of " + seg +
                                             " missing from the file (truncated dump)");
    }
    return {};
  }

  // Copies [paddr, paddr + out.size()) from every piece that overlaps it;
  // bytes no piece holds (a page partly covered, a p_memsz tail) are zeroed,
  // and only those.
  Status assemble(uint64_t paddr, std::span<std::byte> out, uint64_t pfn, uint64_t count) {
    uint64_t end = paddr + out.size();
    uint64_t filled = paddr;  // out is written up to here
    auto zero_until = [&](uint64_t to) {
      if (to > filled) std::memset(out.data() + (filled - paddr), 0, static_cast<size_t>(to - filled));
      filled = std::max(filled, to);
    };
    auto it = std::upper_bound(pieces_.begin(), pieces_.end(), paddr,
                               [](uint64_t a, const Piece& p) { return a < p.pstart; });
    if (it != pieces_.begin()) --it;
    for (; it != pieces_.end() && it->pstart < end; ++it) {
      uint64_t a = std::max(paddr, it->pstart), b = std::min(end, it->present_end);
      if (a >= b) continue;
      zero_until(a);
      uint64_t off = it->file_offset + (a - it->pstart);
      auto dst = out.subspan(static_cast<size_t>(a - paddr), static_cast<size_t>(b - a));
      if (auto s = in_->read_at(off, dst); !s) {
        return std::move(s).error().add_context(what_pfns(pfn, count, off));
      }
      filled = std::max(filled, b);
    }
    zero_until(end);
    return {};
  }

  std::string what_pfns(uint64_t pfn, uint64_t count, uint64_t offset) const {
    return "reading pfn " + hex(pfn) + (count > 1 ? "-" + hex(pfn + count - 1) : std::string()) +
           " from " + in_->name() + " at file offset " + hex(offset);
  }

  std::unique_ptr<io::InputFile> in_;
  ElfCoreLayout layout_;
  DumpMetadata md_;
  std::vector<Load> loads_;
  std::vector<Piece> pieces_;
  std::vector<PfnRange> ram_, missing_, available_;
};

}  // namespace

bool looks_like_elf(std::span<const std::byte> head) {
  return head.size() >= 4 && std::memcmp(head.data(), elf::kMagic, 4) == 0;
}

Result<std::unique_ptr<PhysicalMemory>> open_elf_core(std::unique_ptr<io::InputFile> input,
                                                      std::string format_name) {
  ElfCoreLayout layout;
  layout.format_name = std::move(format_name);
  return open_elf_core_at(std::move(input), std::move(layout));
}

Result<std::unique_ptr<PhysicalMemory>> open_elf_core_at(std::unique_ptr<io::InputFile> input,
                                                         ElfCoreLayout layout) {
  auto reader = std::make_unique<ElfCoreReader>(std::move(input), std::move(layout));
  if (auto s = reader->open(); !s) return std::move(s).error();
  return std::unique_ptr<PhysicalMemory>(std::move(reader));
}

}  // namespace vmc
