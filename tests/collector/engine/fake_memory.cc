#include "tests/collector/engine/fake_memory.h"

#include <cstring>
#include <random>

namespace vmc::testing {

FakeMemory::FakeMemory(std::vector<PfnRange> ram, uint32_t page_size) : ram_(std::move(ram)) {
  metadata_.format = "fake";
  metadata_.page_size = page_size;
  for (const auto& r : ram_) metadata_.segments.push_back({r.start * page_size, 0, r.count() * page_size});
}

FakeContent FakeMemory::content_of(uint64_t pfn) {
  switch (pfn % 5) {
    case 0: return FakeContent::kZero;
    case 1: return FakeContent::kRandom;
    default: return FakeContent::kText;
  }
}

bool FakeMemory::is_zero(uint64_t pfn) const {
  if (content_of(pfn) == FakeContent::kZero) return true;
  for (const auto& r : zero_ranges_) {
    if (pfn >= r.start && pfn < r.end) return true;
  }
  return false;
}

std::vector<std::byte> FakeMemory::page_bytes(uint64_t pfn) const {
  std::vector<std::byte> page(page_size());
  if (is_zero(pfn)) return page;
  switch (content_of(pfn)) {
    case FakeContent::kZero: break;
    case FakeContent::kRandom: {
      std::mt19937_64 rng(pfn);
      for (auto& b : page) b = static_cast<std::byte>(rng());
      break;
    }
    case FakeContent::kText: {
      std::string line = "pfn " + std::to_string(pfn) + ": the quick brown fox jumps over the lazy dog\n";
      for (size_t i = 0; i < page.size(); ++i) page[i] = static_cast<std::byte>(line[i % line.size()]);
      break;
    }
  }
  return page;
}

bool FakeMemory::in_ram(uint64_t pfn) const {
  for (const auto& r : ram_) {
    if (pfn >= r.start && pfn < r.end) return true;
  }
  return false;
}

void FakeMemory::available(uint64_t start, uint64_t end, std::span<uint64_t> bits) const {
  for (uint64_t pfn = start; pfn < end; ++pfn) {
    if (in_ram(pfn)) bits[(pfn - start) / 64] |= uint64_t{1} << ((pfn - start) % 64);
  }
}

Result<io::ByteView> FakeMemory::pages(uint64_t pfn, uint64_t count) {
  std::vector<std::byte> out;
  for (uint64_t p = pfn; p < pfn + count; ++p) {
    if (bad_.count(p) || !in_ram(p)) {
      return errno_error("cannot read pfn " + hex(p) + " (test fault)", EIO);
    }
    auto page = page_bytes(p);
    out.insert(out.end(), page.begin(), page.end());
  }
  return io::ByteView::copy_of(std::move(out));
}

Status FakeMemory::read_physical(uint64_t paddr, std::span<std::byte> out) {
  uint64_t ps = page_size();
  for (size_t done = 0; done < out.size();) {
    uint64_t pfn = (paddr + done) / ps, off = (paddr + done) % ps;
    auto view = pages(pfn, 1);
    if (!view) return std::move(view).error();
    size_t n = std::min<size_t>(out.size() - done, ps - off);
    std::memcpy(out.data() + done, view->data() + off, n);
    done += n;
  }
  return {};
}

}  // namespace vmc::testing
