// The kdump-compressed ("diskdump") format as makedumpfile writes it and crash,
// libkdumpfile and makedumpfile read it. All integers are little-endian (x86_64
// dumps); the C declarations in makedumpfile use int/long/off_t, so the x86_64
// sizes and paddings are spelled out here and checked.
//
// File layout, in blocks of block_size (= page size):
//   block 0                 DiskDumpHeader
//   block 1..sub_hdr_size   KdumpSubHeader, then the ELF notes (VMCOREINFO inside)
//   next bitmap_blocks      1st bitmap (pfns that exist), then 2nd (pfns dumped),
//                           each bitmap_blocks/2 blocks, bit = pfn, LSB first
//   then                    one PageDescriptor per dumped pfn, in pfn order
//   then                    page data, pointed to by the descriptors
//   end                     erase info (offset/size in the sub header)
#pragma once

#include <cstddef>
#include <cstdint>
#include <cstring>
#include <string>

#include "base/endian.h"
#include "base/new_utsname.h"

namespace vmc::kdump {

inline constexpr char kSignature[8] = {'K', 'D', 'U', 'M', 'P', ' ', ' ', ' '};
inline constexpr int32_t kHeaderVersion = 6;  // 64-bit pfns in the sub header

// DiskDumpHeader::status and PageDescriptor::flags.
inline constexpr uint32_t kCompressedZlib = 0x1;
inline constexpr uint32_t kCompressedLzo = 0x2;
inline constexpr uint32_t kCompressedSnappy = 0x4;
inline constexpr uint32_t kIncomplete = 0x8;  // status only: the dump was cut short
inline constexpr uint32_t kExcludedVmemmap = 0x10;
inline constexpr uint32_t kCompressedZstd = 0x20;
inline constexpr uint32_t kCompressionMask =
    kCompressedZlib | kCompressedLzo | kCompressedSnappy | kCompressedZstd;

using NewUtsname = vmc::NewUtsname;  // the kernel's struct, embedded as is

struct DiskDumpHeader {
  char signature[8];
  LeI32 header_version;
  NewUtsname utsname;
  uint8_t pad_before_timestamp[6];  // struct timeval is 8-aligned on x86_64
  LeI64 timestamp_sec;
  LeI64 timestamp_usec;
  Le32 status;
  LeI32 block_size;
  LeI32 sub_hdr_size;   // blocks
  Le32 bitmap_blocks;   // both bitmaps
  Le32 max_mapnr;       // truncated to 32 bits; the real one is in the sub header
  Le32 total_ram_blocks;
  Le32 device_blocks;
  Le32 written_blocks;
  Le32 current_cpu;
  LeI32 nr_cpus;
};
static_assert(sizeof(DiskDumpHeader) == 464);
static_assert(offsetof(DiskDumpHeader, utsname) == 12);
static_assert(offsetof(DiskDumpHeader, timestamp_sec) == 408);
static_assert(offsetof(DiskDumpHeader, status) == 424);
static_assert(offsetof(DiskDumpHeader, bitmap_blocks) == 436);
static_assert(offsetof(DiskDumpHeader, nr_cpus) == 460);

struct KdumpSubHeader {
  Le64 phys_base;
  LeI32 dump_level;
  LeI32 split;
  Le64 start_pfn;  // 32-bit values, obsolete: see *_64
  Le64 end_pfn;
  LeI64 offset_vmcoreinfo;
  Le64 size_vmcoreinfo;
  LeI64 offset_note;
  Le64 size_note;
  LeI64 offset_eraseinfo;
  Le64 size_eraseinfo;
  Le64 start_pfn_64;
  Le64 end_pfn_64;
  Le64 max_mapnr_64;
};
static_assert(sizeof(KdumpSubHeader) == 104);
static_assert(offsetof(KdumpSubHeader, offset_vmcoreinfo) == 32);
static_assert(offsetof(KdumpSubHeader, offset_eraseinfo) == 64);
static_assert(offsetof(KdumpSubHeader, max_mapnr_64) == 96);

struct PageDescriptor {
  LeI64 offset;  // file offset of the page data
  Le32 size;     // bytes stored
  Le32 flags;    // kCompressed* of the codec used, 0 when stored raw
  Le64 page_flags;
};
static_assert(sizeof(PageDescriptor) == 24);

// The header block is block 0; the sub header starts at block 1.
inline constexpr uint64_t kHeaderBlocks = 1;

}  // namespace vmc::kdump
