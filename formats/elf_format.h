// ELF64 core layouts as the kernel writes /proc/vmcore (x86_64, little-endian),
// declared with explicit byte order so a parser can read them from untrusted
// bytes on any host.
#pragma once

#include <cstddef>
#include <cstdint>

#include "base/endian.h"

namespace vmc::elf {

inline constexpr uint8_t kMagic[4] = {0x7f, 'E', 'L', 'F'};
inline constexpr uint8_t kClass64 = 2;
inline constexpr uint8_t kData2Lsb = 1;
inline constexpr uint16_t kTypeCore = 4;
inline constexpr uint16_t kMachineX86_64 = 62;
inline constexpr uint32_t kPtLoad = 1;
inline constexpr uint32_t kPtNote = 4;
inline constexpr uint16_t kPnXnum = 0xffff;  // e_phnum overflow: real count in shdr[0].sh_info
inline constexpr uint32_t kNtPrstatus = 1;
inline constexpr uint32_t kDumpElfIncomplete = 0x1;  // e_flags, as makedumpfile marks it

struct Ehdr {
  uint8_t e_ident[16];
  Le16 e_type;
  Le16 e_machine;
  Le32 e_version;
  Le64 e_entry;
  Le64 e_phoff;
  Le64 e_shoff;
  Le32 e_flags;
  Le16 e_ehsize;
  Le16 e_phentsize;
  Le16 e_phnum;
  Le16 e_shentsize;
  Le16 e_shnum;
  Le16 e_shstrndx;
};
static_assert(sizeof(Ehdr) == 64);
static_assert(offsetof(Ehdr, e_phoff) == 32 && offsetof(Ehdr, e_phnum) == 56);

struct Phdr {
  Le32 p_type;
  Le32 p_flags;
  Le64 p_offset;
  Le64 p_vaddr;
  Le64 p_paddr;
  Le64 p_filesz;
  Le64 p_memsz;
  Le64 p_align;
};
static_assert(sizeof(Phdr) == 56);

struct Shdr {
  Le32 sh_name;
  Le32 sh_type;
  Le64 sh_flags;
  Le64 sh_addr;
  Le64 sh_offset;
  Le64 sh_size;
  Le32 sh_link;
  Le32 sh_info;
  Le64 sh_addralign;
  Le64 sh_entsize;
};
static_assert(sizeof(Shdr) == 64);

struct Nhdr {
  Le32 n_namesz;
  Le32 n_descsz;
  Le32 n_type;
};
static_assert(sizeof(Nhdr) == 12);

inline constexpr uint64_t note_align(uint64_t n) { return (n + 3) & ~uint64_t{3}; }

}  // namespace vmc::elf
