// ELF notes (PT_NOTE contents): the one walker every reader and writer uses,
// the summary the readers keep, and the VMCOREINFO note's place and addition.
// Notes come from the dead kernel or a file: namesz and descsz are never
// trusted.
#pragma once

#include <cstddef>
#include <cstdint>
#include <functional>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "base/error.h"

namespace vmc {

struct ElfNote {
  std::string_view name;            // trailing NULs dropped
  uint32_t type = 0;
  uint64_t desc_pos = 0;            // the descriptor's offset in the notes
  std::span<const std::byte> desc;
};

// Calls visit for each note in order until the end, zero padding, or visit
// returning false. Returns the bytes up to the end of the last note walked;
// a note that runs past the end is an error naming `file` and the note's
// offset there (the notes began at `file_offset`).
Result<uint64_t> walk_elf_notes(std::span<const std::byte> notes, const std::string& file,
                                uint64_t file_offset, const std::function<bool(const ElfNote&)>& visit);

struct ElfNotes {
  std::string vmcoreinfo;   // the "VMCOREINFO" note's text, trailing NULs dropped
  int nr_prstatus = 0;      // "CORE" notes of type NT_PRSTATUS
  uint64_t used_bytes = 0;  // bytes up to the end of the last note
};

Result<ElfNotes> parse_elf_notes(std::span<const std::byte> notes, const std::string& file,
                                 uint64_t file_offset);

// The VMCOREINFO note's descriptor, when the notes have one.
std::optional<ElfNote> find_vmcoreinfo_note(std::span<const std::byte> notes);

// The notes plus a VMCOREINFO note holding `vmcoreinfo`, when they have none
// (a QEMU dump read with -i): the output then carries it, as makedumpfile's
// does with -i. Notes that have one, or an empty text, are returned unchanged.
std::vector<std::byte> notes_with_vmcoreinfo(std::span<const std::byte> notes,
                                             const std::string& vmcoreinfo);

}  // namespace vmc
