// Output formats behind one interface. The engine hands a writer pages in pfn
// order, already compressed, a chunk at a time, and the two bitmaps once per
// cycle of pfns; the writer decides where they go in the file. Memory stays
// bounded: nothing is kept beyond the current chunk, and for ELF the list of
// runs.
#pragma once

#include <cstdint>
#include <memory>
#include <span>
#include <string>
#include <vector>

#include "base/error.h"
#include "base/io.h"
#include "base/physical_memory.h"
#include "compress/codec.h"

namespace vmc {

enum class OutputFormat : uint8_t { kKdump, kElf };

// What the header needs, gathered before the first page is written.
struct DumpHeaderInfo {
  uint32_t page_size = 4096;
  uint64_t max_pfn = 0;            // one past the highest pfn (max_mapnr)
  uint64_t max_dumped_pages = 0;   // pages the filter kept (sizes the descriptor table)
  uint64_t max_runs = 0;           // bound on runs of consecutive kept pfns (ELF PT_LOADs)
  int dump_level = 0;
  compress::CodecKind codec = compress::CodecKind::kNone;
  std::vector<std::byte> notes;    // PT_NOTE contents, carried verbatim
  std::string vmcoreinfo;          // located inside notes for the kdump sub header
  std::vector<MemorySegment> segments;  // for ELF p_vaddr
  std::vector<MemorySegment> kernel_text;  // ELF: PT_LOADs aliasing these (DumpMetadata::kernel_text)
  std::vector<std::byte> eraseinfo;
  uint64_t phys_base = 0;
  int nr_cpus = 0;
  int64_t timestamp_sec = 0;
  std::string sysname = "Linux";
  std::string nodename, release, version, machine = "x86_64", domainname;
  // Split dumps (--split): this file holds pfns [split_start, split_end).
  bool split = false;
  uint64_t split_start = 0, split_end = 0;
};

// One dumped page as the writer stores it.
struct PageRecord {
  uint64_t pfn;
  std::span<const std::byte> data;  // compressed bytes, or the raw page
  compress::CodecKind codec;        // what compressed data; none: the raw page
  bool zero;                        // all zeros: the writer may share one copy
};

class DumpWriter {
 public:
  virtual ~DumpWriter() = default;
  virtual Status begin() = 0;
  // Pages in strictly increasing pfn order across all calls.
  virtual Status write_pages(std::span<const PageRecord> pages) = 0;
  // Both bitmaps for pfns [start, end), start a multiple of 64. ram: pfns that
  // exist; dumped: pfns whose pages were passed to write_pages. Called after the
  // cycle's pages, cycles in increasing order.
  virtual Status end_cycle(uint64_t start, uint64_t end, std::span<const uint64_t> ram,
                           std::span<const uint64_t> dumped) = 0;
  // Completes the file. With incomplete, marks it so readers know pages are
  // missing (kdump header status / ELF e_flags, as makedumpfile does) and
  // writes as much of the metadata as it can.
  virtual Status finish(bool incomplete) = 0;
  // Bytes of page data written so far (for the report).
  virtual uint64_t data_bytes() const = 0;
};

std::unique_ptr<DumpWriter> make_kdump_writer(io::OutputFile& out, DumpHeaderInfo header);
std::unique_ptr<DumpWriter> make_elf_writer(io::OutputFile& out, DumpHeaderInfo header);

// An OutputFile that turns every positioned write into a flattened-format
// record on a sequential stream (a pipe to ssh, stdout). finish() writes the
// end marker and finishes the stream.
std::unique_ptr<io::OutputFile> make_flattened_output(io::OutputFile& stream);

}  // namespace vmc
