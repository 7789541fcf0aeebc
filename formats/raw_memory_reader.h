// PhysicalMemory over raw physical memory: /dev/oldmem (the device through
// which kernels before 3.12 gave the capture kernel the dead kernel's memory)
// and raw memory images (QEMU pmemsave, raw acquisition tools). In both, a
// file offset is a physical address.
//
// Nothing in such a file says where RAM is. The kdump way: the ELF core
// header that kexec built for /proc/vmcore sits in old memory at the address
// the capture kernel's elfcorehdr= names. Its PT_LOADs give RAM (p_paddr) and
// where each range's bytes are (p_offset, also a physical address: on x86_64
// kexec-tools points the first 640 KiB at the backup copy purgatory made
// before the capture kernel reused that memory, exactly as /proc/vmcore reads
// it); its PT_NOTEs point at the per-CPU crash notes and the VMCOREINFO note,
// each sized for the largest note, so they are trimmed at the first empty note
// header as /proc/vmcore does. That header is parsed by the ELF core reader
// (open_elf_core_at), so page service, overlap handling and errors are one
// code path for both inputs.
//
// Without a header (an image from elsewhere), RAM comes from --mem-ranges;
// VMCOREINFO then comes from -i, which the collector applies to any input.
//
// Memory stays bounded: pages are served through the input's view() windows,
// as for /proc/vmcore; the image is never mapped whole. /dev/oldmem cannot be
// mapped and has no size: it is read with pread(), and its end is where reads
// stop.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "base/error.h"
#include "base/io.h"
#include "base/physical_memory.h"

namespace vmc {

// Raw physical memory (/dev/oldmem, QEMU pmemsave images): file offset ==
// physical address. See formats/raw_memory_reader.h.
struct RawMemoryOptions {
  std::optional<uint64_t> elfcorehdr;  // --elfcorehdr: physical address of the ELF core header
  // --mem-ranges: RAM as physical byte ranges [start, end), for an image without a header.
  std::vector<std::pair<uint64_t, uint64_t>> ranges;
  std::string cmdline_path = "/proc/cmdline";  // where /dev/oldmem's elfcorehdr= is found
  bool given() const { return elfcorehdr.has_value() || !ranges.empty(); }
};

// True for the old kernels' raw old-memory device.
bool is_oldmem_path(const std::string& path);

// The kernel's elfcorehdr= value: [SIZE@]ADDRESS, each a number in C syntax
// (decimal, 0x hex, 0 octal) with an optional K, M, G, T, P or E suffix, as
// the kernel's memparse() reads it (kexec-tools writes e.g. "671092K").
Result<uint64_t> parse_elfcorehdr(std::string_view value);

// The elfcorehdr= address on a kernel command line (the last one wins, as in
// the kernel); nullopt when there is none.
Result<std::optional<uint64_t>> elfcorehdr_from_cmdline(std::string_view cmdline);

// --mem-ranges: "START-END[,START-END...]", hex numbers (0x optional) with END
// inclusive, as /proc/iomem prints them, so "System RAM" lines can be pasted.
// Returns [start, end) byte ranges, sorted; overlaps are an error.
Result<std::vector<std::pair<uint64_t, uint64_t>>> parse_mem_ranges(std::string_view text);

struct RawInput {
  bool oldmem = false;  // /dev/oldmem: elfcorehdr= from the command line by default, size unknown
};

// Opens raw memory as options say: the ELF core header at options.elfcorehdr
// (or, for /dev/oldmem, at the elfcorehdr= of options.cmdline_path), or the
// given ranges (then metadata() has no notes and no VMCOREINFO). Errors name the
// image, the address and what is wrong: no address, an address outside the
// image, no ELF core header there, a range beyond the end of the image.
Result<std::unique_ptr<PhysicalMemory>> open_raw_memory(std::unique_ptr<io::InputFile> input,
                                                        const RawMemoryOptions& options,
                                                        RawInput kind = {});

}  // namespace vmc
