// A PhysicalMemory for engine tests: RAM ranges whose page contents are a pure
// function of the pfn (zero, random or text-like), and pfns that fail to read.
#pragma once

#include <set>

#include "base/physical_memory.h"

namespace vmc::testing {

enum class FakeContent { kZero, kRandom, kText };

class FakeMemory final : public PhysicalMemory {
 public:
  FakeMemory(std::vector<PfnRange> ram, uint32_t page_size = 4096);
  const DumpMetadata& metadata() const override { return metadata_; }
  const std::vector<PfnRange>& ram() const override { return ram_; }
  void available(uint64_t start, uint64_t end, std::span<uint64_t> bits) const override;
  Result<io::ByteView> pages(uint64_t pfn, uint64_t count) override;
  Status read_physical(uint64_t paddr, std::span<std::byte> out) override;
  // Whether the engine copies page data into its buffers (as from a dump
  // file) or uses pages()' views (as from /proc/vmcore).
  bool prefers_copy() const override { return prefers_copy_; }
  void set_prefers_copy(bool on) { prefers_copy_ = on; }

  // Content of a pfn: zero when pfn % 5 == 0, random when pfn % 5 == 1, else text.
  static FakeContent content_of(uint64_t pfn);
  std::vector<std::byte> page_bytes(uint64_t pfn) const;
  void fail_reads(uint64_t pfn) { bad_.insert(pfn); }
  // Makes [begin, end) all-zero pages, on top of the pfn % 5 pattern.
  void zero_range(uint64_t begin, uint64_t end) { zero_ranges_.push_back({begin, end}); }
  bool is_zero(uint64_t pfn) const;
  DumpMetadata& mutable_metadata() { return metadata_; }

 private:
  bool in_ram(uint64_t pfn) const;
  std::vector<PfnRange> ram_;
  DumpMetadata metadata_;
  std::set<uint64_t> bad_;
  std::vector<PfnRange> zero_ranges_;
  bool prefers_copy_ = false;
};

}  // namespace vmc::testing
