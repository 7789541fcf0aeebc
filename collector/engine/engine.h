// The collection pipeline: available pages -> filter (mem_map) -> read, zero
// check and compress (parallel, one pass over page data) -> ordered writer.
// Works a cycle of pfns at a time, so memory stays bounded whatever the dump.
#pragma once

#include <atomic>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "base/error.h"
#include "base/physical_memory.h"
#include "compress/codec.h"
#include "formats/dump_writer.h"
#include "vmcoreinfo/pages/page_filter.h"

namespace vmc {

struct CollectOptions {
  int dump_level = 0;
  compress::CodecKind codec = compress::CodecKind::kNone;
  int threads = 1;
  uint64_t cycle_pfns = uint64_t{1} << 20;  // bitmap granularity: 128 KiB of bitmap per cycle
  uint32_t chunk_pages = 256;  // pages read, compressed and written together (1 MiB of input: stays in L2)
  const std::atomic<int>* cancel = nullptr; // non-zero: stop, keep what was written (a signal number)
  // --split: only pfns [write_start, write_end) are read and written; the
  // bitmaps still describe the whole dump (the other split files hold the rest).
  uint64_t write_start = 0;
  uint64_t write_end = UINT64_MAX;
  // Called after each chunk with pages processed so far and the total.
  std::function<void(uint64_t done, uint64_t total)> progress;
};

struct CollectReport {
  uint64_t max_pfn = 0;
  uint64_t ram_pages = 0;     // "Original pages"
  uint64_t memory_hole = 0;   // pfns below max_pfn that are not RAM
  uint64_t dumped_pages = 0;
  uint64_t data_bytes = 0;
  FilterStats excluded;
  std::vector<PfnRange> unreadable;  // pages the input could not give us
  std::vector<std::string> warnings;
  bool incomplete = false;
  std::optional<Error> error;        // what cut the dump short, when incomplete
};

// What the filter pass found, before any page is read.
struct DumpPlan {
  uint64_t pages = 0;  // pfns kept
  uint64_t runs = 0;   // runs of consecutive kept pfns
};

// Creates the writer once the plan is known.
using WriterFactory = std::function<Result<std::unique_ptr<DumpWriter>>(const DumpPlan& plan)>;

// Runs the whole dump. Returns an error only when nothing useful could be
// written; a dump cut short (full disk, signal, unreadable input) returns a
// report with incomplete = true and the error that stopped it.
Result<CollectReport> collect(PhysicalMemory& memory, const PageFilter* filter,
                              const WriterFactory& make_writer, const CollectOptions& options);

// --split: the first pfn of each of `parts` files, plus max_pfn at the end, so
// that each file holds about as many pages as the others (makedumpfile splits
// by dumpable pages too). Runs the filter pass over mem_map once.
std::vector<uint64_t> split_boundaries(PhysicalMemory& memory, const PageFilter* filter,
                                       const CollectOptions& options, int parts);

}  // namespace vmc
