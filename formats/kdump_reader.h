// PhysicalMemory over a kdump-compressed ("diskdump") file: makedumpfile's,
// vmcollect's or QEMU's (header versions 1 to 6, "KDUMP   " or the older
// "DISKDUMP" signature, pages raw or compressed with zlib, lzo, snappy or zstd,
// split files of makedumpfile --split).
//
// ram() comes from the 1st bitmap, available() from the 2nd. A page's
// descriptor index is the number of 2nd-bitmap bits before its pfn; a prefix
// count per 32768 pfns, built lazily as pfns are asked for, keeps that O(1)-ish
// (8 bytes of memory per 128 MiB of a 4 KiB-page machine).
//
// Incomplete dumps (header status kIncomplete, or a file cut short): pages
// whose descriptor is empty (offset 0) or points beyond the end of the file
// are not available(), and pages() on them fails naming the pfn.
//
// Thread safety: after open, pages(), copy_pages(), read_physical() and available() may be
// called concurrently from several threads. The shared state (the prefix
// table, a pool of codecs, a small cache of decoded pages for
// read_physical) is behind a mutex; decompression runs outside it with a
// codec leased from the pool, so disjoint reads decompress in parallel. The
// InputFile must allow concurrent read_at()/view() (the POSIX and memory
// inputs do).
#pragma once

#include <memory>
#include <span>
#include <string>

#include "base/error.h"
#include "base/io.h"
#include "base/physical_memory.h"

namespace vmc {

// True when the first bytes carry the "KDUMP   " or "DISKDUMP" signature.
bool looks_like_kdump(std::span<const std::byte> head);

// format_name goes into metadata().format ("kdump", or "flattened" when the
// input is a flattened stream seen through its record index).
Result<std::unique_ptr<PhysicalMemory>> open_kdump(std::unique_ptr<io::InputFile> input,
                                                   std::string format_name = "kdump");

}  // namespace vmc
