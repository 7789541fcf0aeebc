// Large scratch buffers that the kernel may back with transparent huge pages.
//
// Why: the engine's page buffers and the filter's struct-page window are a few
// MiB that every run touches once. Each first touch of a 4 KiB page is a page
// fault, and on a virtualised host a fault is dear: 13-37 us each on this
// project's 2-vCPU PVM machine (bench/RESULTS.md), where 4 MiB of
// 4 KiB faults cost more than the whole mem_map pass. Backed by 2 MiB pages,
// the same buffer costs one fault per 2 MiB. Where the kernel has no THP, or
// none to spare (a small capture kernel), it falls back to 4 KiB pages.
#pragma once

#include <cstddef>

namespace vmc::io {

class ScratchBuffer {
 public:
  // Buffers at least this big are mapped on their own, 2 MiB aligned. A part
  // beyond the last whole huge page is rounded up to one more if it is at
  // least kMapAtLeast (a 1.1 MiB buffer costs 2 MiB once touched), and to
  // 4 KiB pages if smaller (2 MiB and 64 bytes do not cost 4 MiB). Smaller
  // buffers come from the heap.
  static constexpr size_t kHugePage = size_t{2} << 20;
  static constexpr size_t kMapAtLeast = kHugePage / 2;

  ScratchBuffer() = default;
  explicit ScratchBuffer(size_t bytes);  // not zero-filled; throws std::bad_alloc
  ~ScratchBuffer();
  ScratchBuffer(ScratchBuffer&& other) noexcept;
  ScratchBuffer& operator=(ScratchBuffer&& other) noexcept;
  ScratchBuffer(const ScratchBuffer&) = delete;
  ScratchBuffer& operator=(const ScratchBuffer&) = delete;

  std::byte* data() const { return data_; }
  size_t size() const { return size_; }
  bool mapped() const { return mapped_bytes_ != 0; }

 private:
  void release() noexcept;

  std::byte* data_ = nullptr;
  size_t size_ = 0;
  size_t mapped_bytes_ = 0;  // 0: data_ came from new[]
};

}  // namespace vmc::io
