// makedumpfile's closing statistics (--message-level 16), plus peak memory.
#pragma once

#include <string>

#include "collector/engine.h"

namespace vmc {

std::string format_report(const CollectReport& report, bool elf_output);
// "unreadable pages: pfn 0x..-0x.., ..." for the error stream.
std::string format_unreadable(const CollectReport& report);
// Peak resident set size of this process in KiB (getrusage).
uint64_t peak_rss_kib();

}  // namespace vmc
