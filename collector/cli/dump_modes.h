// The modes beyond one input and one output file, for /proc/vmcore and dump
// files alike: the re-filtering rule for a filtered input, --split into
// several files written in parallel, and --reassemble of such a set. run.cc
// calls these; the page work is the engine's, the byte-level joining is
// formats/kdump_reassemble.
#pragma once

#include <atomic>
#include <cstddef>
#include <span>
#include <string>
#include <vector>

#include "base/physical_memory.h"
#include "collector/cli/messages.h"
#include "collector/cli/options.h"
#include "formats/dump_writer.h"
#include "vmcoreinfo/pages/page_filter.h"

namespace vmc {

// makedumpfile's rule when the input is a filtered dump: the pages it left
// out cannot come back, so the level becomes the requested one ORed with the
// input's, and the user is told ("dump_level is changed to ...").
int refilter_dump_level(int requested, const DumpMetadata& input, const std::string& input_name,
                        const Messenger& m);

// --split: header describes the whole dump; each DUMPFILE gets a pfn range
// holding about the same number of pages. Returns the exit status.
int run_split(const Options& o, PhysicalMemory& memory, const PageFilter* filter,
              const DumpHeaderInfo& header, const std::atomic<int>* cancel, Messenger& m);

// --reassemble DUMPFILE1 .. DUMPFILEn DUMPFILE. Returns the exit status.
int run_reassemble(const Options& o, Messenger& m);

}  // namespace vmc
