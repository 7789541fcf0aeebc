// makedumpfile's closing statistics (--message-level 16), plus peak memory.
#pragma once

#include <string>

#include "collector/cli/messages.h"
#include "collector/engine/engine.h"

namespace vmc {

std::string format_report(const CollectReport& report, bool elf_output);
// "unreadable pages: pfn 0x..-0x.., ..." for the error stream.
std::string format_unreadable(const CollectReport& report);
// The closing messages every mode that ran the engine says alike, on the
// error stream: the run's warnings less the filter's own, which were said when
// it was made; and, when pages are missing, which ones and what stopped the run.
void say_run_warnings(const CollectReport& report, const PageFilter* filter, const Messenger& m);
void say_missing_pages(const CollectReport& report, const Messenger& m);
// Peak resident set size of this process in KiB (getrusage).
uint64_t peak_rss_kib();

}  // namespace vmc
