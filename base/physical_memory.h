// What every dump reader yields: the dead machine's physical memory as pages,
// plus the metadata a writer must carry over (notes, VMCOREINFO, erase info).
// The engine, the kernel model and the log decoders see only this interface,
// so they work the same on /proc/vmcore, an ELF file, a kdump-compressed dump,
// a flattened stream or raw /dev/oldmem.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <utility>
#include <vector>

#include "base/error.h"
#include "base/io.h"

namespace vmc {

struct PfnRange {
  uint64_t start;  // first pfn
  uint64_t end;    // one past the last pfn
  uint64_t count() const { return end - start; }
  bool operator==(const PfnRange&) const = default;
};

// Pages a reader fetched from its input, so that a test can prove a small
// read (the kernel log) did not decompress the whole dump. Counted by the
// kdump reader: every page pages() or copy_pages() hands out (read_physical
// goes through pages(), behind a small cache) is one page read; every codec
// run one page decompressed (pfns sharing one stored page in one call cost one run).
struct ReadCounters {
  uint64_t pages_read = 0;
  uint64_t pages_decompressed = 0;
};

// A run of physical memory and the kernel virtual address it is mapped at,
// for ELF output (p_vaddr) and for deriving the direct-map offset.
struct MemorySegment {
  uint64_t paddr;
  uint64_t vaddr;  // 0 when unknown
  uint64_t size;
};

struct DumpMetadata {
  std::string format;                // "elf", "kdump", "flattened", "raw"
  std::vector<std::byte> notes;      // the whole PT_NOTE contents (NT_PRSTATUS..., VMCOREINFO)
  std::string vmcoreinfo;            // VMCOREINFO text, empty when the dump has none
  std::vector<MemorySegment> segments;  // RAM as the input describes it, sorted by paddr
  // x86_64 /proc/vmcore's kernel-text PT_LOADs (a second mapping of memory the
  // segments above hold): ELF output repeats them, as makedumpfile does, for
  // readers that find kernel symbols by p_vaddr (kexec-tools' vmcore-dmesg).
  std::vector<MemorySegment> kernel_text;
  uint32_t page_size = 4096;
  int nr_cpus = 0;                   // NT_PRSTATUS notes found
  std::optional<int> dump_level;     // of a filtered input
  std::optional<uint64_t> phys_base; // from a kdump sub header
  std::optional<int64_t> timestamp_sec;  // from a kdump header (the crash time)
  std::vector<std::byte> eraseinfo;  // carried over on re-filtering
  std::string utsname_release;       // from a kdump header, when present
  std::string utsname_nodename;
  std::string utsname_version;
  std::string utsname_machine;
  bool incomplete = false;           // the input says it was cut short
  std::vector<std::string> warnings; // non-fatal problems found while opening (truncation...)
};

class PhysicalMemory {
 public:
  virtual ~PhysicalMemory() = default;
  virtual const DumpMetadata& metadata() const = 0;
  uint32_t page_size() const { return metadata().page_size; }

  // pfns the machine had (the output's first bitmap), sorted and disjoint.
  virtual const std::vector<PfnRange>& ram() const = 0;
  // One past the highest pfn of ram().
  uint64_t max_pfn() const { return ram().empty() ? 0 : ram().back().end; }

  // Sets bit (pfn - start) in bits for each pfn in [start, end) whose data the
  // input holds: all of ram() for an ELF core, the dumped pages of a filtered
  // kdump dump. bits must hold (end - start) bits.
  virtual void available(uint64_t start, uint64_t end, std::span<uint64_t> bits) const = 0;

  // Data of `count` consecutive available pages from pfn, zero-copy where the
  // input allows. Fails (naming the pfn and file offset) when the input cannot
  // be read; the caller then retries page by page to isolate bad pages.
  virtual Result<io::ByteView> pages(uint64_t pfn, uint64_t count) = 0;

  // The same pages copied into out (count * page_size bytes), failing as
  // pages() does. The default copies what pages() returns.
  virtual Status copy_pages(uint64_t pfn, uint64_t count, std::span<std::byte> out);
  // True when copy_pages() into a buffer the caller reuses is the cheaper way
  // to read page data once (see io::InputFile::prefers_read).
  virtual bool prefers_copy() const { return false; }

  // A small read at a physical address, possibly crossing pages (mem_map,
  // page tables, printk buffers). Fails on unavailable pages.
  virtual Status read_physical(uint64_t paddr, std::span<std::byte> out) = 0;

  // What reading has cost so far (see ReadCounters); zeros from a reader that
  // does not count.
  virtual ReadCounters read_counters() const { return {}; }

 protected:
  // For copy_pages(): out must hold exactly count pages.
  Status check_copy_size(uint64_t count, std::span<const std::byte> out) const;
};

}  // namespace vmc
