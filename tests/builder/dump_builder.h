// The shared synthetic-dump builder. A test describes the dead machine's
// physical memory (RAM ranges, bytes at physical addresses, VMCOREINFO text,
// CPU notes) and gets back an ELF core like /proc/vmcore, a kdump-compressed
// file or a flattened stream of it. Storage is sparse: only written pages are
// kept, so a builder can describe terabytes of RAM and write_elf() leaves the
// rest as file holes.
//
// Other areas build on top of this (mem_map, page tables, printk rings) with
// write_physical()/write_value() and the VMCOREINFO setters; keep the API
// additive.
//
// The kdump and flattened writers here are deliberately small and independent
// of formats/kdump_writer.cc and compress/: reader tests should not only read
// back what our own writer wrote. Codecs are called through their libraries
// the way makedumpfile calls them (compress2, lzo1x_1_compress,
// snappy_compress, ZSTD_compress).
#pragma once

#include <cstddef>
#include <cstdint>
#include <cstring>
#include <map>
#include <memory>
#include <optional>
#include <set>
#include <span>
#include <string>
#include <type_traits>
#include <vector>

#include "base/error.h"
#include "base/io.h"

namespace vmc::testing {

enum class PageFill { kZero, kRandom, kText };

class DumpBuilder {
 public:
  struct Segment {
    uint64_t paddr;
    uint64_t size;
    uint64_t vaddr;
    bool kernel_text;  // a duplicate mapping of memory another segment covers
  };

  explicit DumpBuilder(uint32_t page_size = 4096);

  // One PT_LOAD each, in the order added. paddr and size must be page aligned.
  DumpBuilder& add_ram(uint64_t paddr, uint64_t size, uint64_t vaddr = 0);
  // The kernel-text PT_LOAD of x86_64 /proc/vmcore: the same physical bytes as
  // the direct-map segment covering [paddr, paddr + size), mapped at vaddr.
  DumpBuilder& add_kernel_text_segment(uint64_t vaddr, uint64_t paddr, uint64_t size);
  // Bytes at a physical address; every byte must lie inside RAM (aborts the
  // test binary otherwise: a builder misuse is a bug in the test).
  DumpBuilder& write_physical(uint64_t paddr, std::span<const std::byte> bytes);
  template <typename T>
  DumpBuilder& write_value(uint64_t paddr, const T& value) {
    static_assert(std::is_trivially_copyable_v<T>);
    return write_physical(paddr, std::as_bytes(std::span(&value, 1)));
  }
  // Fills a whole page: zeros (stored, not a hole), seeded random bytes
  // (incompressible) or seeded text-like bytes (compressible).
  DumpBuilder& fill_page(uint64_t pfn, PageFill kind, uint64_t seed = 0);
  // Zeros where unwritten. The range need not be inside RAM.
  std::vector<std::byte> read_physical(uint64_t paddr, size_t len) const;

  DumpBuilder& set_vmcoreinfo(std::string text);
  DumpBuilder& append_vmcoreinfo(std::string line);  // adds "LINE\n"
  DumpBuilder& set_prstatus_notes(int nr_cpus);      // NT_PRSTATUS "CORE" notes (zeroed regs)
  DumpBuilder& set_elf_flags(uint32_t e_flags);
  // Writes e_phnum = PN_XNUM and the real count in section header 0's sh_info,
  // as the kernel does past 65535 program headers (forced here for tests).
  DumpBuilder& set_force_pn_xnum(bool on);

  std::vector<std::byte> build_elf() const;  // whole ELF core in memory
  // To a file, sparse: the file is sized first and only stored pages are
  // written, so unwritten RAM becomes holes (terabyte dumps stay cheap).
  Status write_elf(const std::string& path) const;
  std::unique_ptr<io::InputFile> elf_input(std::string name = "synthetic.vmcore") const;

  // ---- What was described (for the kdump builder and for extensions) ----
  uint32_t page_size() const { return page_size_; }
  const std::vector<Segment>& segments() const { return segments_; }
  // RAM pfn ranges [start, end), sorted and merged; kernel-text segments excluded.
  std::vector<std::pair<uint64_t, uint64_t>> ram_pfn_ranges() const;
  bool in_ram(uint64_t paddr, uint64_t len) const;
  // pfns with stored data (written or filled), sorted.
  std::vector<uint64_t> stored_pfns() const;
  // The page of a pfn (zeros when unwritten).
  std::vector<std::byte> page(uint64_t pfn) const;
  const std::string& vmcoreinfo() const { return vmcoreinfo_; }
  int nr_cpus() const { return nr_cpus_; }
  uint32_t elf_flags() const { return e_flags_; }
  // The PT_NOTE contents build_elf() writes: NT_PRSTATUS notes, then VMCOREINFO.
  std::vector<std::byte> notes() const;

 private:
  struct ElfLayout;
  ElfLayout layout() const;
  std::vector<std::byte> elf_headers(const ElfLayout& l) const;

  uint32_t page_size_;
  std::vector<Segment> segments_;
  std::map<uint64_t, std::vector<std::byte>> pages_;  // pfn -> page bytes
  std::string vmcoreinfo_;
  int nr_cpus_ = 0;
  uint32_t e_flags_ = 0;
  bool force_pn_xnum_ = false;
};

// ---- kdump-compressed ---------------------------------------------------

struct KdumpBuildOptions {
  int header_version = 6;           // 1..6 (what the sub header carries)
  bool diskdump_signature = false;  // "DISKDUMP" instead of "KDUMP   "
  uint32_t codec_flag = 0;          // kdump::kCompressed* (0: every page raw)
  // Pages to dump (2nd bitmap); nullopt = every RAM pfn. Must be RAM pfns.
  std::optional<std::set<uint64_t>> dumped;
  bool share_zero_pages = true;  // zero pages share one stored copy (QEMU/our writer)
  bool incomplete = false;       // header status kIncomplete
  // With incomplete: descriptors of the last N dumped pages are left zero
  // (offset 0), as when the writer was cut short.
  uint64_t missing_tail_descriptors = 0;
  int dump_level = 31;
  uint64_t phys_base = 0;
  std::vector<std::byte> eraseinfo;  // header_version >= 5
  std::string release = "6.1.0-synthetic";
  std::string nodename = "builder";
  std::string machine = "x86_64";
  std::string version = "#1 SMP PREEMPT_DYNAMIC";
  int64_t timestamp_sec = 1700000000;
  int nr_cpus_field = -1;  // header nr_cpus; -1 = the builder's nr_cpus()
  // Where the VMCOREINFO text goes for header_version >= 3: inside the notes
  // (v4+ with notes, as makedumpfile does) or as a separate blob (v3).
  bool vmcoreinfo_separate = false;
  // makedumpfile --split: this file holds the descriptors and data of pfns
  // [first, second) only; the bitmaps still describe the whole dump.
  std::optional<std::pair<uint64_t, uint64_t>> split;
};

std::vector<std::byte> build_kdump(const DumpBuilder& memory, const KdumpBuildOptions& options);

// ---- flattened ----------------------------------------------------------

// A file as makedumpfile -F sends it: the flat header, then records of at
// most record_size bytes each in file order, then the end marker.
std::vector<std::byte> flatten(std::span<const std::byte> file, size_t record_size);
// The same records in a seeded random order (makedumpfile writes the header
// and bitmaps after the pages, so records arrive out of file order).
std::vector<std::byte> flatten_shuffled(std::span<const std::byte> file, size_t record_size,
                                        uint64_t seed);

// Seeded bytes (xorshift), deterministic across runs.
std::vector<std::byte> random_bytes(size_t n, uint64_t seed);

}  // namespace vmc::testing
