// One entry point for every input: the readers tried in turn (open_dump.cc).
#pragma once

#include <memory>
#include <span>
#include <string>

#include "base/error.h"
#include "base/io.h"
#include "base/physical_memory.h"
#include "formats/raw_memory_reader.h"

namespace vmc {

// Opens any supported dump (ELF core, kdump-compressed, flattened), trying
// each reader's probe in turn; raw memory when options.raw says so or the
// path is /dev/oldmem (raw memory has no magic to probe).
struct OpenDumpOptions {
  io::OpenInputOptions input;
  io::FaultPlan faults;
  RawMemoryOptions raw;
};
// Whether some reader's probe takes a file that starts with head (16 bytes
// are enough for every probe).
bool looks_like_dump(std::span<const std::byte> head);

Result<std::unique_ptr<PhysicalMemory>> open_dump(const std::string& path,
                                                  const OpenDumpOptions& options = {});

}  // namespace vmc
