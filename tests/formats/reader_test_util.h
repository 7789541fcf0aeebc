// Helpers shared by the reader tests: patching headers of built dumps and
// reading a whole PhysicalMemory back for comparison with the builder.
#pragma once

#include <gtest/gtest.h>

#include <unistd.h>

#include <cstring>
#include <memory>
#include <string>
#include <vector>

#include "base/endian.h"
#include "base/io.h"
#include "base/physical_memory.h"
#include "formats/elf_format.h"
#include "tests/builder/dump_builder.h"

namespace vmc::testing {

inline elf::Ehdr ehdr_of(const std::vector<std::byte>& f) { return load<elf::Ehdr>(f.data()); }
inline void put_ehdr(std::vector<std::byte>& f, const elf::Ehdr& eh) {
  std::memcpy(f.data(), &eh, sizeof eh);
}
inline uint64_t phdr_offset(const std::vector<std::byte>& f, size_t i) {
  return ehdr_of(f).e_phoff + i * sizeof(elf::Phdr);
}
inline elf::Phdr phdr_of(const std::vector<std::byte>& f, size_t i) {
  return load<elf::Phdr>(f.data() + phdr_offset(f, i));
}
inline void put_phdr(std::vector<std::byte>& f, size_t i, const elf::Phdr& ph) {
  std::memcpy(f.data() + phdr_offset(f, i), &ph, sizeof ph);
}

inline std::string describe(const Status& s) { return s.ok() ? "ok" : s.error().describe(); }
template <typename T>
std::string describe(const Result<T>& r) {
  return r.ok() ? "ok" : r.error().describe();
}

inline std::vector<uint64_t> available_bits(const PhysicalMemory& m, uint64_t start, uint64_t end) {
  std::vector<uint64_t> bits((end - start + 63) / 64);
  m.available(start, end, bits);
  return bits;
}
inline bool bit(const std::vector<uint64_t>& bits, uint64_t i) {
  return (bits[i / 64] >> (i % 64)) & 1;
}

// The available pfns of m in [start, end) whose data pages() cannot give, as
// ranges; every other available page there must equal the builder's.
inline std::vector<PfnRange> unreadable_ranges(PhysicalMemory& m, const DumpBuilder& b, uint64_t start,
                                               uint64_t end) {
  std::vector<PfnRange> out;
  auto bits = available_bits(m, start, end);
  for (uint64_t pfn = start; pfn < end; ++pfn) {
    if (!bit(bits, pfn - start)) continue;
    auto v = m.pages(pfn, 1);
    if (v.ok()) {
      EXPECT_EQ(std::memcmp(v->data(), b.page(pfn).data(), m.page_size()), 0) << "pfn " << std::hex << pfn;
    } else if (!out.empty() && out.back().end == pfn) {
      out.back().end = pfn + 1;
    } else {
      out.push_back({pfn, pfn + 1});
    }
  }
  return out;
}

// Every available page of m equals the builder's page; returns pages checked.
inline uint64_t expect_pages_match(PhysicalMemory& m, const DumpBuilder& b, uint64_t chunk = 1024) {
  uint64_t checked = 0, ps = m.page_size();
  auto bits = available_bits(m, 0, m.max_pfn());
  for (const auto& r : m.ram()) {
    for (uint64_t pfn = r.start; pfn < r.end;) {
      if (!bit(bits, pfn)) {
        ++pfn;
        continue;
      }
      uint64_t n = 0;
      while (pfn + n < r.end && n < chunk && bit(bits, pfn + n)) ++n;
      auto v = m.pages(pfn, n);
      EXPECT_TRUE(v.ok()) << describe(v);
      if (!v.ok()) return checked;
      EXPECT_EQ(v->size(), n * ps);
      for (uint64_t k = 0; k < n; ++k) {
        auto want = b.page(pfn + k);
        if (std::memcmp(v->data() + k * ps, want.data(), ps) != 0) {
          ADD_FAILURE() << "pfn " << std::hex << pfn + k << " differs";
          return checked;
        }
      }
      checked += n;
      pfn += n;
    }
  }
  return checked;
}

// f written to a file and opened as a dump file is (inputs that are files
// are read with pread, not mapped); the name is gone once it is open.
inline std::unique_ptr<io::InputFile> file_input(const std::vector<std::byte>& f, const std::string& name) {
  std::string path = ::testing::TempDir() + "/" + name;
  auto out = io::create_output(path, {.overwrite = true});
  EXPECT_TRUE(out.ok() && (*out)->write_at(0, f).ok() && (*out)->finish().ok()) << path;
  auto in = io::open_input(path);
  ::unlink(path.c_str());
  EXPECT_TRUE(in.ok()) << describe(in);
  return in.ok() ? std::move(*in) : nullptr;
}

// copy_pages (the engine's way into its own buffers) gives what pages() gives.
inline void expect_copy_matches_pages(PhysicalMemory& m, uint64_t pfn, uint64_t count) {
  SCOPED_TRACE("pfn " + hex(pfn) + ", " + std::to_string(count) + " pages");
  auto view = m.pages(pfn, count);
  ASSERT_TRUE(view.ok()) << describe(view);
  std::vector<std::byte> copy(count * m.page_size(), std::byte{0x5a});  // not zero: zeros must be written
  auto s = m.copy_pages(pfn, count, copy);
  ASSERT_TRUE(s.ok()) << describe(s);
  EXPECT_EQ(copy, std::vector<std::byte>(view->bytes().begin(), view->bytes().end()));
}

}  // namespace vmc::testing
