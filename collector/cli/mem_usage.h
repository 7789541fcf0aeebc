// --mem-usage: how much of an ELF dump (/proc/vmcore, /proc/kcore) each kind
// of page takes, in makedumpfile's table, without writing a dump. It is the
// -d 31 filter pass plus the zero-page check of every page left, so the
// numbers are exactly what a -d 31 dump would leave out.
#pragma once

#include <memory>
#include <string>

#include "collector/engine/engine.h"
#include "formats/dump_writer.h"

namespace vmc {

// A writer that keeps nothing: the engine reads, zero-checks and counts every
// candidate page, and the pages go nowhere.
std::unique_ptr<DumpWriter> make_discarding_writer();

// makedumpfile 1.7.2's --mem-usage table (TYPE/PAGES/EXCLUDABLE/DESCRIPTION,
// then page size and the totals), from a -d 31 run's report.
std::string format_mem_usage(const CollectReport& report, uint32_t page_size);

}  // namespace vmc
