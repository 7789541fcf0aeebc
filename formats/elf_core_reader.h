// PhysicalMemory over an ELF64 core: /proc/vmcore, an ELF dump file written
// by makedumpfile -E or vmcollect, QEMU's dump-guest-memory ELF.
//
// RAM is the union of the PT_LOAD segments. On x86_64 /proc/vmcore the
// kernel-text PT_LOAD (vaddr 0xffffffff8xxxxxxx) maps physical memory that a
// direct-map PT_LOAD also covers; overlaps are resolved once at open time
// into sorted, disjoint pieces (the non-kernel-text segment wins), so a pfn
// lookup is one binary search. Pages only partly covered by a segment are RAM
// and read zeros where uncovered (as makedumpfile does), and so do
// p_memsz > p_filesz tails; pages wholly inside such a tail are RAM but not
// available() (makedumpfile's ELF output leaves excluded pages that way, and
// its own reader treats them as not dumped). A PT_LOAD cut short by the end of the file does
// not fail the open: what exists stays readable, the rest is unavailable and
// metadata().incomplete is set, with a warning naming the segment.
//
// Thread safety: after open, pages() and read_physical() keep no mutable
// state of their own; they are as thread-safe as the InputFile's view() and
// read_at() (the POSIX and memory inputs are).
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include "base/error.h"
#include "base/io.h"
#include "base/physical_memory.h"
#include "formats/elf_format.h"

namespace vmc {

// What the ELF notes say. Parsing stops at an all-zero note header (padding
// after the last note, as some writers leave it).
// True when the first bytes are the ELF magic.
bool looks_like_elf(std::span<const std::byte> head);

// Opens an ELF64 little-endian x86_64 core. Fails with kBadInput for a file
// that is not an ELF core or whose headers are corrupt, kUnsupported for a
// valid ELF of another class, byte order or machine. format_name goes into
// metadata().format ("elf", or "flattened" for an ELF inside a flattened file).
Result<std::unique_ptr<PhysicalMemory>> open_elf_core(std::unique_ptr<io::InputFile> input,
                                                      std::string format_name = "elf");

// Where an ELF core's headers are when they are not at the start of its file:
// the kernel's elfcorehdr inside a raw image of old memory
// (formats/raw_memory_reader.h). There, p_offset of PT_NOTE and PT_LOAD is a
// physical address, which in a raw image is the file offset, so only the
// ELF header's own position (and e_phoff, which counts from it) moves.
struct ElfCoreLayout {
  std::string format_name = "elf";
  uint64_t header_offset = 0;  // file offset of the ELF header
  // A PT_LOAD beyond the end of the file is an error (a raw image must hold
  // all of RAM), not a truncated dump.
  bool loads_must_fit = false;
  // Program headers from the caller (raw memory without an ELF header: the
  // ranges the user gave); no ELF header is read then.
  std::optional<std::vector<elf::Phdr>> program_headers;
};
Result<std::unique_ptr<PhysicalMemory>> open_elf_core_at(std::unique_ptr<io::InputFile> input,
                                                         ElfCoreLayout layout);

}  // namespace vmc
