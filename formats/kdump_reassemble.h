// makedumpfile --split sets: N kdump-compressed files, each holding the page
// descriptors and data of one pfn range [start_pfn, end_pfn) (sub header
// split = 1), all carrying the same header, notes and whole-dump bitmaps.
// --reassemble joins them into one dump, as makedumpfile does: header, notes
// and bitmaps from the set, descriptors and data from each file in pfn order,
// copied without decompressing (descriptor offsets rebased).
//
// Every claim of every file is checked before anything is written: a set with
// a file missing, duplicated, truncated, from another dump or not split at all
// is an error naming the file, never a silently short dump.
#pragma once

#include <cstdint>
#include <memory>
#include <vector>

#include "base/error.h"
#include "base/io.h"

namespace vmc {

struct ReassembleResult {
  uint64_t files = 0;
  uint64_t pages = 0;       // page descriptors written
  uint64_t data_bytes = 0;  // page data copied
};

// parts in any order (they are sorted by start_pfn). Calls out.finish().
Result<ReassembleResult> reassemble_kdump(std::vector<std::unique_ptr<io::InputFile>> parts,
                                          io::OutputFile& out);

}  // namespace vmc
