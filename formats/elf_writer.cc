// Writes an ELF64 core holding only the dumped pages (-E), readable by crash,
// libkdumpfile and makedumpfile. Each run of consecutive dumped pfns becomes a
// PT_LOAD (short runs of zero pages inside a run are written, see kMinGap).
// The exact number of runs is known only after the last page (zero pages are
// found while writing), and makedumpfile reads program headers right after the
// ELF header whatever e_phoff says; so the header area is sized for a bound
// (the filter's runs, plus one hole per kMinGap kept pages) and data follows.
// The input's kernel-text PT_LOADs are repeated first, as in /proc/vmcore and
// makedumpfile's -E output, as headers aliasing the file bytes of the runs
// they overlap (no data is written twice).
#include <algorithm>
#include <cstring>

#include "formats/dump_writer.h"
#include "formats/elf_format.h"

namespace vmc {
namespace {

// Runs of fewer excluded pages than this are written, as makedumpfile does.
constexpr uint64_t kMinGap = 256;

class ElfWriter final : public DumpWriter {
 public:
  ElfWriter(io::OutputFile& out, DumpHeaderInfo header) : out_(out), h_(std::move(header)) {
    // PT_NOTE + the filter's runs + the holes long zero runs can add.
    uint64_t max_runs = h_.max_runs + h_.max_dumped_pages / kMinGap + 1;
    max_phdrs_ = 1 + max_runs + max_text_aliases(max_runs);
    notes_offset_ = sizeof(elf::Ehdr) + max_phdrs_ * sizeof(elf::Phdr);
    data_cursor_ = (notes_offset_ + h_.notes.size() + h_.page_size - 1) / h_.page_size * h_.page_size;
  }

  Status begin() override {
    if (h_.codec != compress::CodecKind::kNone) {
      return Error(ErrorKind::kInvalidArgument, "ELF output cannot hold compressed pages");
    }
    VMC_TRY(write_ehdr(0, 0, 0, /*incomplete=*/true));
    if (!h_.notes.empty()) VMC_TRY_CTX(out_.write_at(notes_offset_, h_.notes), "writing ELF notes");
    return {};
  }

  Status write_pages(std::span<const PageRecord> pages) override {
    if (pages.empty()) return {};
    pieces_.clear();
    staged_ = 0;
    uint64_t start = data_cursor_;
    for (const auto& page : pages) {
      if (page.codec != compress::CodecKind::kNone) {
        return Error(ErrorKind::kInvalidArgument, "ELF output got a compressed page");
      }
      if (page.zero && drop_zero_pages_) {
        hold_zero_page(page.pfn);
        continue;
      }
      flush_held_zero_pages(page.pfn);
      extend_runs(page.pfn);
      stage(page.zero && page.data.size() != h_.page_size ? zero_page() : page.data);
    }
    if (staged_ == 0) return {};
    VMC_TRY_CTX(out_.write_gather(start, pieces_), "writing page data for pfn " + hex(pages.front().pfn));
    data_cursor_ += staged_;
    data_bytes_ += staged_;
    return {};
  }

  Status end_cycle(uint64_t, uint64_t, std::span<const uint64_t>, std::span<const uint64_t>) override {
    return {};
  }

  Status finish(bool incomplete) override {
    std::vector<elf::Phdr> phdrs;
    phdrs.reserve(runs_.size() + 1);
    elf::Phdr note{};
    note.p_type = elf::kPtNote;
    note.p_offset = notes_offset_;
    note.p_filesz = h_.notes.size();
    note.p_memsz = h_.notes.size();
    phdrs.push_back(note);
    for (const auto& text : h_.kernel_text) {
      for (const auto& r : runs_) add_text_alias(text, r, phdrs);
    }
    for (const auto& r : runs_) phdrs.push_back(load_header(r));
    if (phdrs.size() > max_phdrs_) {
      return Error(ErrorKind::kBadInput, std::to_string(phdrs.size()) +
                                             " program headers, more than the " +
                                             std::to_string(max_phdrs_) + " the filter bounded");
    }
    uint64_t phoff = sizeof(elf::Ehdr);
    VMC_TRY_CTX(out_.write_at(phoff, std::as_bytes(std::span(phdrs))), "writing program headers");
    uint64_t shoff = 0;
    if (phdrs.size() >= elf::kPnXnum) {
      // Too many segments for e_phnum: the count goes in section header 0.
      elf::Shdr sh{};
      sh.sh_info = static_cast<uint32_t>(phdrs.size());
      shoff = (data_cursor_ + 7) & ~uint64_t{7};
      VMC_TRY_CTX(out_.write_at(shoff, std::as_bytes(std::span(&sh, 1))), "writing section header");
    }
    VMC_TRY(write_ehdr(phoff, phdrs.size(), shoff, incomplete));
    return out_.finish();
  }

  uint64_t data_bytes() const override { return data_bytes_; }

 private:
  struct Run {
    uint64_t first_pfn;
    uint64_t pages;
    uint64_t file_offset;
  };

  // ELF cannot share one zero page, so -d 1 leaves zero pages out; but, as
  // makedumpfile does, only runs of kMinGap pages or more become holes between
  // PT_LOADs. Shorter runs are written (as zeros, which they are), which keeps
  // the segment table small and small kernel structures (the printk ring)
  // whole for readers that cannot step over a missing page.
  void hold_zero_page(uint64_t pfn) {
    if (held_zero_count_ != 0 && held_zero_start_ + held_zero_count_ == pfn) {
      ++held_zero_count_;
    } else {
      held_zero_start_ = pfn;
      held_zero_count_ = 1;
    }
  }

  // Before the dumped page next_pfn: write the held zero run if it is short and
  // leads straight into next_pfn in the same segment, else drop it (a hole).
  void flush_held_zero_pages(uint64_t next_pfn) {
    if (held_zero_count_ == 0) return;
    bool short_hole = held_zero_count_ < kMinGap &&
                      held_zero_start_ + held_zero_count_ == next_pfn &&
                      same_segment(held_zero_start_, next_pfn);
    if (short_hole) {
      for (uint64_t k = 0; k < held_zero_count_; ++k) extend_runs(held_zero_start_ + k);
      for (uint64_t k = 0; k < held_zero_count_; ++k) stage(zero_page());
    }
    held_zero_count_ = 0;
  }

  void stage(std::span<const std::byte> data) {
    pieces_.push_back(data);
    staged_ += data.size();
  }

  std::span<const std::byte> zero_page() {
    if (zero_page_.size() != h_.page_size) zero_page_.assign(h_.page_size, std::byte{0});
    return zero_page_;
  }

  void extend_runs(uint64_t pfn) {
    uint64_t offset = data_cursor_ + staged_;
    if (!runs_.empty()) {
      Run& last = runs_.back();
      if (last.first_pfn + last.pages == pfn && same_segment(last.first_pfn, pfn)) {
        ++last.pages;
        return;
      }
    }
    runs_.push_back({pfn, 1, offset});
  }

  const MemorySegment* segment_of(uint64_t paddr) const {
    for (const auto& s : h_.segments) {
      if (paddr >= s.paddr && paddr - s.paddr < s.size) return &s;
    }
    return nullptr;
  }

  bool same_segment(uint64_t a_pfn, uint64_t b_pfn) const {
    return segment_of(a_pfn * h_.page_size) == segment_of(b_pfn * h_.page_size);
  }

  elf::Phdr load_header(const Run& r) const {
    elf::Phdr p{};
    uint64_t paddr = r.first_pfn * h_.page_size;
    const MemorySegment* seg = segment_of(paddr);
    p.p_type = elf::kPtLoad;
    p.p_flags = 7;  // RWX, as the kernel writes /proc/vmcore
    p.p_offset = r.file_offset;
    p.p_paddr = paddr;
    p.p_vaddr = seg && seg->vaddr ? seg->vaddr + (paddr - seg->paddr) : 0;
    p.p_filesz = r.pages * h_.page_size;
    p.p_memsz = r.pages * h_.page_size;
    p.p_align = 0;
    return p;
  }

  // Alias headers a kernel-text segment can need: one per run it overlaps,
  // and runs inside it are at least a page apart.
  uint64_t max_text_aliases(uint64_t max_runs) const {
    uint64_t bound = 0;
    for (const auto& t : h_.kernel_text) bound += (t.size / h_.page_size + 1) / 2 + 1;
    return std::min(bound, max_runs * std::max<uint64_t>(1, h_.kernel_text.size()));
  }

  // The part of run r inside the kernel-text segment, at its kernel-text vaddr.
  void add_text_alias(const MemorySegment& text, const Run& r, std::vector<elf::Phdr>& phdrs) const {
    uint64_t run_paddr = r.first_pfn * h_.page_size;
    uint64_t begin = std::max(run_paddr, text.paddr);
    uint64_t end = std::min(run_paddr + r.pages * h_.page_size, text.paddr + text.size);
    if (begin >= end) return;
    elf::Phdr p = load_header(r);
    if (p.p_vaddr + (begin - run_paddr) == text.vaddr + (begin - text.paddr)) return;  // no direct map
    p.p_offset = r.file_offset + (begin - run_paddr);
    p.p_paddr = begin;
    p.p_vaddr = text.vaddr + (begin - text.paddr);
    p.p_filesz = end - begin;
    p.p_memsz = end - begin;
    phdrs.push_back(p);
  }

  Status write_ehdr(uint64_t phoff, uint64_t phnum, uint64_t shoff, bool incomplete) {
    elf::Ehdr e{};
    std::memcpy(e.e_ident, elf::kMagic, 4);
    e.e_ident[4] = elf::kClass64;
    e.e_ident[5] = elf::kData2Lsb;
    e.e_ident[6] = 1;  // EV_CURRENT
    e.e_type = elf::kTypeCore;
    e.e_machine = elf::kMachineX86_64;
    e.e_version = 1;
    e.e_phoff = phoff;
    e.e_flags = incomplete ? elf::kDumpElfIncomplete : 0;
    e.e_ehsize = sizeof(elf::Ehdr);
    e.e_phentsize = sizeof(elf::Phdr);
    e.e_phnum = static_cast<uint16_t>(std::min<uint64_t>(phnum, elf::kPnXnum));
    if (shoff != 0) {
      e.e_shoff = shoff;
      e.e_shentsize = sizeof(elf::Shdr);
      e.e_shnum = 1;
    }
    VMC_TRY_CTX(out_.write_at(0, std::as_bytes(std::span(&e, 1))), "writing the ELF header");
    return {};
  }

  io::OutputFile& out_;
  DumpHeaderInfo h_;
  uint64_t max_phdrs_, notes_offset_, data_cursor_, data_bytes_ = 0;
  std::vector<Run> runs_;
  std::vector<std::span<const std::byte>> pieces_;  // the data of one write_pages call
  uint64_t staged_ = 0;                             // their bytes
  std::vector<std::byte> zero_page_;
  bool drop_zero_pages_ = (h_.dump_level & 1) != 0;
  uint64_t held_zero_start_ = 0, held_zero_count_ = 0;
};

}  // namespace

std::unique_ptr<DumpWriter> make_elf_writer(io::OutputFile& out, DumpHeaderInfo header) {
  return std::make_unique<ElfWriter>(out, std::move(header));
}

}  // namespace vmc
