#include "base/scratch_buffer.h"

#include <sys/mman.h>
#include <unistd.h>

#include <cstdint>
#include <new>
#include <utility>

namespace vmc::io {
namespace {

size_t round_up(size_t n, size_t to) { return (n + to - 1) / to * to; }

// An anonymous mapping of `bytes` aligned to kHugePage, so that the kernel
// can give its whole 2 MiB extents huge pages; nullptr if the address space is
// exhausted.
std::byte* map_aligned(size_t bytes) {
  const size_t align = ScratchBuffer::kHugePage;
  void* p = ::mmap(nullptr, bytes + align, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  if (p == MAP_FAILED) return nullptr;
  auto start = reinterpret_cast<uintptr_t>(p);
  uintptr_t aligned = round_up(start, align);
  if (aligned != start) ::munmap(p, aligned - start);
  size_t tail = (start + bytes + align) - (aligned + bytes);
  if (tail != 0) ::munmap(reinterpret_cast<void*>(aligned + bytes), tail);
  // Advice only: EINVAL on kernels built without THP leaves 4 KiB pages.
  (void)::madvise(reinterpret_cast<void*>(aligned), bytes, MADV_HUGEPAGE);
  return reinterpret_cast<std::byte*>(aligned);
}

}  // namespace

ScratchBuffer::ScratchBuffer(size_t bytes) : size_(bytes) {
  if (bytes < kMapAtLeast) {
    data_ = new std::byte[bytes == 0 ? 1 : bytes];
    return;
  }
  const size_t tail = bytes % kHugePage;
  const auto small_page = static_cast<size_t>(::sysconf(_SC_PAGESIZE));
  mapped_bytes_ = round_up(bytes, tail >= kMapAtLeast ? kHugePage : small_page);
  data_ = map_aligned(mapped_bytes_);
  if (data_ == nullptr) throw std::bad_alloc();
}

ScratchBuffer::~ScratchBuffer() { release(); }

ScratchBuffer::ScratchBuffer(ScratchBuffer&& other) noexcept
    : data_(std::exchange(other.data_, nullptr)),
      size_(std::exchange(other.size_, 0)),
      mapped_bytes_(std::exchange(other.mapped_bytes_, 0)) {}

ScratchBuffer& ScratchBuffer::operator=(ScratchBuffer&& other) noexcept {
  if (this != &other) {
    release();
    data_ = std::exchange(other.data_, nullptr);
    size_ = std::exchange(other.size_, 0);
    mapped_bytes_ = std::exchange(other.mapped_bytes_, 0);
  }
  return *this;
}

void ScratchBuffer::release() noexcept {
  if (data_ == nullptr) return;
  if (mapped_bytes_ != 0) {
    ::munmap(data_, mapped_bytes_);
  } else {
    delete[] data_;
  }
  data_ = nullptr;
}

}  // namespace vmc::io
