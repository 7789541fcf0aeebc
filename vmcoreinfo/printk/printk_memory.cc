// Why page-granular retries: a log buffer can be megabytes; reading it in one
// call is fast, and only when that fails do we pay for per-page reads to find
// which pages are missing.
#include "vmcoreinfo/printk/printk_memory.h"

#include <algorithm>
#include <cstring>
#include <new>

namespace vmc::dmesg {

bool MemoryImage::readable(uint64_t off, uint64_t len) const {
  if (off > bytes_.size() || len > bytes_.size() - off) return false;
  for (const auto& [begin, end] : holes_) {
    if (off < end && begin < off + len) return false;
  }
  return true;
}

void MemoryImage::mark_unreadable(uint64_t off, uint64_t len) {
  std::memset(bytes_.data() + off, 0, len);
  if (!holes_.empty() && holes_.back().second == off) {
    holes_.back().second = off + len;
  } else {
    holes_.emplace_back(off, off + len);
  }
}

uint64_t MemoryImage::uint(uint64_t off, uint64_t width) const {
  if (width > 8 || !readable(off, width)) return 0;
  uint64_t v = 0;
  for (uint64_t i = 0; i < width; ++i) {
    v |= static_cast<uint64_t>(static_cast<uint8_t>(bytes_[off + i])) << (8 * i);
  }
  return v;
}

namespace {

uint64_t ram_bytes(const PhysicalMemory& memory) {
  uint64_t pages = 0;
  for (const auto& r : memory.ram()) pages += r.count();
  return pages * (memory.page_size() ? memory.page_size() : 4096);
}

}  // namespace

Status check_region_size(const KernelAddressSpace& kernel, uint64_t vaddr, uint64_t size,
                         const std::string& what) {
  if (size > UINT64_MAX - vaddr) {
    return Error(ErrorKind::kBadInput, what + " at " + hex(vaddr) + " of " + std::to_string(size) +
                                           " bytes wraps the address space");
  }
  // A corrupt length (log_buf_len, size_bits) must fail here, as a value, and
  // not as an allocation the capture kernel cannot make.
  const uint64_t ram = ram_bytes(kernel.memory());
  if (ram != 0 && size > ram) {
    return Error(ErrorKind::kBadInput, what + " at " + hex(vaddr) + " of " + std::to_string(size) +
                                           " bytes is larger than the dump's memory (" + std::to_string(ram) +
                                           " bytes): its length is corrupt");
  }
  return {};
}

Result<MemoryImage> read_image(const KernelAddressSpace& kernel, uint64_t vaddr, uint64_t size,
                               const std::string& what) {
  if (auto s = check_region_size(kernel, vaddr, size, what); !s.ok()) return std::move(s).error();
  std::vector<std::byte> buffer;
  try {
    buffer.resize(size);
  } catch (const std::bad_alloc&) {
    return Error(ErrorKind::kBadInput, "no memory for the " + std::to_string(size) + " bytes of " + what);
  }
  MemoryImage image(vaddr, std::move(buffer));
  auto& bytes = image.mutable_bytes();
  Status whole = kernel.read_virtual(vaddr, bytes);
  if (whole.ok()) return image;
  // Page by page, so that one missing page does not lose the rest.
  const uint64_t page = kernel.memory().page_size() ? kernel.memory().page_size() : 4096;
  uint64_t readable = 0;
  for (uint64_t off = 0; off < size;) {
    uint64_t len = std::min(size - off, page - (vaddr + off) % page);
    auto chunk = std::span(bytes).subspan(off, len);
    if (kernel.read_virtual(vaddr + off, chunk).ok()) {
      readable += len;
    } else {
      image.mark_unreadable(off, len);
    }
    off += len;
  }
  if (readable == 0 && size != 0) {
    return std::move(whole).error().add_context("reading " + what + " at " + hex(vaddr));
  }
  return image;
}

Result<uint64_t> read_uint(const KernelAddressSpace& kernel, uint64_t vaddr, uint64_t width,
                           const std::string& what) {
  std::byte buf[8] = {};
  if (width == 0 || width > 8) {
    return Error(ErrorKind::kBadInput, "reading " + what + ": bad width " + std::to_string(width));
  }
  VMC_TRY_CTX(kernel.read_virtual(vaddr, std::span(buf, width)), "reading " + what + " at " + hex(vaddr));
  uint64_t v = 0;
  for (uint64_t i = 0; i < width; ++i) v |= static_cast<uint64_t>(static_cast<uint8_t>(buf[i])) << (8 * i);
  return v;
}

void WarningList::add(std::string warning) {
  if (out_.size() < kMaxDetailed) {
    out_.push_back(std::move(warning));
  } else {
    ++dropped_;
  }
}

void WarningList::finish() {
  if (dropped_ != 0) {
    out_.push_back("... and " + std::to_string(dropped_) + " more damaged or skipped log records");
  }
  dropped_ = 0;
}

}  // namespace vmc::dmesg
