// Shared plumbing of the fuzz targets (tests/fuzz): why it exists.
//
// Parsers that read memory through a kernel address space (page tables,
// mem_map, printk) need a whole dead machine as input. A fuzzer mutates
// bytes best when the input is small and flat, so those targets take a
// "memory image": the VMCOREINFO text, the RAM segments and a list of stored
// pages, everything else reading as zeros. The seed generator (seeds.cc)
// writes images from the dump builder; the targets decode them here. Also a
// sink output (flattened replay and split reassembly may claim terabyte
// offsets: counting them is enough, allocating them is the harness's bug).
#pragma once

#include <cstddef>
#include <cstdint>
#include <map>
#include <memory>
#include <span>
#include <string>
#include <vector>

#include "base/io.h"
#include "base/physical_memory.h"
#include "vmcoreinfo/arch/address_space.h"
#include "vmcoreinfo/printk/dmesg.h"

namespace vmc::fuzz {

inline constexpr uint32_t kImagePage = 4096;
// 256 MiB of RAM at most. Under ASan a log buffer of gigabytes (a length
// the fuzzer sets, inside a machine that big) takes over ten seconds to read;
// a length beyond the image's RAM still reaches the parsers' size checks.
inline constexpr uint64_t kImageMaxPfn = uint64_t{1} << 16;

// Encoding (little-endian):
//   u16 text_len, text (VMCOREINFO)
//   u8 nseg, nseg x {u64 paddr, u64 vaddr, u64 size}    (RAM, as PT_LOADs)
//   repeated {u32 pfn, kImagePage bytes}                 (a short last page is zero-padded)
struct MemoryImage {
  std::string vmcoreinfo;
  std::vector<MemorySegment> segments;
  std::map<uint64_t, std::vector<std::byte>> pages;  // pfn -> bytes
};
std::vector<std::byte> encode_image(const MemoryImage& image);

// A PhysicalMemory over an encoded image; nullptr when the bytes do not even
// hold the header. RAM is the segments (below kImageMaxPfn); unstored RAM reads zero.
std::unique_ptr<PhysicalMemory> decode_image(std::span<const uint8_t> data);

// Kernel virtual = physical + the direct-map offset of the first segment that
// has a virtual address (the printk decoders do not need page tables).
std::unique_ptr<KernelAddressSpace> direct_map_space(PhysicalMemory& memory);

// The printk targets' whole body: decode the image (nothing to do without a
// header), parse its VMCOREINFO (nothing to do if it does not parse) and run
// one log decoder on it through direct_map_space(). Returns 0, as
// LLVMFuzzerTestOneInput must.
using LogDecoder = Result<DmesgResult> (*)(const KernelAddressSpace& kernel, const VmcoreInfo& info,
                                          const DmesgOptions& options);
int fuzz_log_decoder(std::span<const uint8_t> data, LogDecoder decode);

// Reads what a dump reader offers, as the engine would: up to max_pages
// available pages (in runs and one by one) and some read_physical() calls.
void exercise_memory(PhysicalMemory& memory, uint64_t max_pages);

// An OutputFile that keeps only sizes.
class SinkOutput final : public io::OutputFile {
 public:
  const std::string& name() const override { return name_; }
  bool seekable() const override { return true; }
  Status write_at(uint64_t offset, std::span<const std::byte> data) override;
  uint64_t bytes_written() const override { return end_; }
  Status finish() override { return {}; }

 private:
  std::string name_ = "<sink>";
  uint64_t end_ = 0;
  uint64_t checksum_ = 0;  // touches every byte, so ASan sees bad spans
};

}  // namespace vmc::fuzz

// Every target defines this (libFuzzer's entry point).
extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size);
