// Copies of kernel memory for the printk decoders. A log buffer is read once
// into a MemoryImage; pages the dump cannot supply (filtered out, EIO) become
// holes, so one bad page costs the records on it and not the whole log. The
// decoders then read only through bounds-checked accessors.
#pragma once

#include <cstddef>
#include <cstdint>
#include <span>
#include <string>
#include <utility>
#include <vector>

#include "base/error.h"
#include "vmcoreinfo/arch/address_space.h"

namespace vmc::dmesg {

class MemoryImage {
 public:
  MemoryImage() = default;
  MemoryImage(uint64_t vaddr, std::vector<std::byte> bytes) : vaddr_(vaddr), bytes_(std::move(bytes)) {}

  uint64_t vaddr() const { return vaddr_; }
  uint64_t size() const { return bytes_.size(); }
  // [off, off + len) lies inside the image and touches no hole.
  bool readable(uint64_t off, uint64_t len) const;
  // The bytes of [off, off + len); the caller checked readable().
  std::span<const std::byte> span(uint64_t off, uint64_t len) const {
    return std::span(bytes_).subspan(off, len);
  }
  // Little-endian unsigned integer of `width` bytes (1, 2, 4 or 8) at off; 0
  // when unreadable (callers check readable() first where it matters).
  uint64_t uint(uint64_t off, uint64_t width) const;
  uint64_t u64(uint64_t off) const { return uint(off, 8); }
  uint32_t u32(uint64_t off) const { return static_cast<uint32_t>(uint(off, 4)); }
  uint16_t u16(uint64_t off) const { return static_cast<uint16_t>(uint(off, 2)); }

  // Zero-fills [off, off + len) and records it as a hole (call in offset order).
  void mark_unreadable(uint64_t off, uint64_t len);
  const std::vector<std::pair<uint64_t, uint64_t>>& holes() const { return holes_; }
  std::vector<std::byte>& mutable_bytes() { return bytes_; }

 private:
  uint64_t vaddr_ = 0;
  std::vector<std::byte> bytes_;
  std::vector<std::pair<uint64_t, uint64_t>> holes_;  // [begin, end) offsets, sorted
};

// Fails when [vaddr, vaddr + size) wraps, or is larger than the dump's whole
// memory (a corrupt length).
Status check_region_size(const KernelAddressSpace& kernel, uint64_t vaddr, uint64_t size,
                         const std::string& what);

// Reads [vaddr, vaddr + size). Unreadable pages become holes (zero-filled);
// fails only when no byte at all can be read, or when size is more than the
// dump's whole memory (a corrupt length). `what` names the region in errors.
Result<MemoryImage> read_image(const KernelAddressSpace& kernel, uint64_t vaddr, uint64_t size,
                               const std::string& what);

// A little-endian integer of `width` bytes at a kernel virtual address.
Result<uint64_t> read_uint(const KernelAddressSpace& kernel, uint64_t vaddr, uint64_t width,
                           const std::string& what);

// Warnings about damaged records, capped so that a wrecked ring of a million
// descriptors yields a readable report: the first kMaxDetailed in full, then
// one line counting the rest.
class WarningList {
 public:
  static constexpr size_t kMaxDetailed = 32;
  explicit WarningList(std::vector<std::string>& out) : out_(out) {}
  void add(std::string warning);
  // Appends the "... and N more" line; call once at the end.
  void finish();

 private:
  std::vector<std::string>& out_;
  size_t dropped_ = 0;
};

}  // namespace vmc::dmesg
