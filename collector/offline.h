// Work on an existing dump rather than /proc/vmcore: re-filtering a dump to a
// higher level, --split into several files written in parallel, and
// --reassemble of such a set. The CLI (run.cc) calls these; the page work
// itself is the engine's, the byte-level joining is formats/kdump_split.
#pragma once

#include <atomic>
#include <cstddef>
#include <span>
#include <string>
#include <vector>

#include "collector/messages.h"
#include "collector/options.h"
#include "formats/dump_writer.h"
#include "formats/physical_memory.h"
#include "vmcoreinfo/page_filter.h"

namespace vmc {

// makedumpfile's rule when the input is a filtered dump: the pages it left
// out cannot come back, so the level becomes the requested one ORed with the
// input's, and the user is told ("dump_level is changed to ...").
int refilter_dump_level(int requested, const DumpMetadata& input, const std::string& input_name,
                        const Messenger& m);

// The notes plus a VMCOREINFO note holding `vmcoreinfo`, when they have none
// (a QEMU dump read with -i): the output then carries it, as makedumpfile's
// does with -i. Notes that have one are returned unchanged.
std::vector<std::byte> notes_with_vmcoreinfo(std::span<const std::byte> notes,
                                             const std::string& vmcoreinfo);

// --split: header describes the whole dump; each DUMPFILE gets a pfn range
// holding about the same number of pages. Returns the exit status.
int run_split(const Options& o, PhysicalMemory& memory, const PageFilter* filter,
              const DumpHeaderInfo& header, const std::atomic<int>* cancel, Messenger& m);

// --reassemble DUMPFILE1 .. DUMPFILEn DUMPFILE. Returns the exit status.
int run_reassemble(const Options& o, Messenger& m);

}  // namespace vmc
