// Synthetic memory pages with controlled compressibility, for the codec
// benchmark and the compress tests. Every page is a pure function of
// (kind, seed, index, size): the same on every machine, compiler and run, in
// any order or thread (own PRNG, integer arithmetic only, no <random>
// distributions, whose output differs between standard libraries).
//
// Kinds:
//   zero    all zero bytes
//   random  uniform random bytes: incompressible, every codec stores it raw
//   text    kernel-log / config-like ASCII lines (zlib ~3x)
//   kernel  what a kernel's own memory looks like: slab pages of fixed-size
//           objects (pointers into the direct map, small integers, flags,
//           list heads, zero padding, free objects), page tables, and pages
//           only partly used (zlib ~2-4x)
//   mixed   each page cut into runs of the four kinds above
// fill_page_entropy() gives a page a chosen share of random bytes instead.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <span>
#include <string_view>
#include <vector>

namespace vmc::bench {

enum class PageKind : uint8_t { kZero, kRandom, kText, kKernel, kMixed };

inline constexpr std::array<PageKind, 5> kAllPageKinds = {PageKind::kZero, PageKind::kRandom, PageKind::kText,
                                                          PageKind::kKernel, PageKind::kMixed};

inline std::string_view page_kind_name(PageKind kind) {
  switch (kind) {
    case PageKind::kZero: return "zero";
    case PageKind::kRandom: return "random";
    case PageKind::kText: return "text";
    case PageKind::kKernel: return "kernel";
    case PageKind::kMixed: return "mixed";
  }
  return "unknown";
}

// xoshiro256** seeded through splitmix64: small, fast, and fixed forever.
class Rng {
 public:
  explicit Rng(uint64_t seed) {
    for (auto& s : s_) s = splitmix(seed);
  }
  uint64_t next() {
    uint64_t result = rotl(s_[1] * 5, 7) * 9;
    uint64_t t = s_[1] << 17;
    s_[2] ^= s_[0];
    s_[3] ^= s_[1];
    s_[1] ^= s_[2];
    s_[0] ^= s_[3];
    s_[2] ^= t;
    s_[3] = rotl(s_[3], 45);
    return result;
  }
  // Uniform in [0, n) for n > 0 (Lemire's multiply-shift; the tiny bias does
  // not matter here, determinism does).
  uint64_t below(uint64_t n) { return static_cast<uint64_t>((static_cast<unsigned __int128>(next()) * n) >> 64); }
  uint64_t between(uint64_t lo, uint64_t hi) { return lo + below(hi - lo + 1); }  // inclusive
  // True with probability per_mille / 1000.
  bool chance(uint32_t per_mille) { return below(1000) < per_mille; }

 private:
  static uint64_t rotl(uint64_t x, int k) { return (x << k) | (x >> (64 - k)); }
  static uint64_t splitmix(uint64_t& x) {
    uint64_t z = (x += 0x9e3779b97f4a7c15ULL);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
    return z ^ (z >> 31);
  }
  uint64_t s_[4];
};

namespace datagen_detail {

inline uint64_t page_seed(uint64_t seed, uint64_t index, uint64_t salt) {
  return seed * 0x9e3779b97f4a7c15ULL ^ (index + 1) * 0xd1b54a32d192ed03ULL ^ salt;
}

inline void put64(std::span<std::byte> out, size_t at, uint64_t v) {
  for (size_t i = 0; i < 8 && at + i < out.size(); ++i) out[at + i] = static_cast<std::byte>(v >> (8 * i));
}

inline void fill_zero(std::span<std::byte> out) {
  for (auto& b : out) b = std::byte{0};
}

inline void fill_random(std::span<std::byte> out, Rng& rng) {
  for (size_t i = 0; i < out.size(); i += 8) put64(out, i, rng.next());
}

inline void fill_text(std::span<std::byte> out, Rng& rng) {
  static constexpr std::string_view kWords[] = {
      "the",      "of",      "and",     "to",      "in",        "is",       "for",      "on",     "with",
      "device",   "usb",     "pci",     "memory",  "cpu",       "irq",      "driver",   "kernel", "module",
      "loaded",   "failed",  "error",   "warning", "link",      "up",       "down",     "eth0",   "sda",
      "mounted",  "ext4",    "fs",      "with",    "ordered",   "data",     "mode",     "audit",  "type",
      "systemd",  "started", "service", "session", "user",      "root",     "opened",   "closed", "by",
      "nvme0n1",  "queue",   "bridge",  "port",    "entered",   "state",    "forwarding", "blocking",
      "xhci_hcd", "new",     "high-speed", "number", "using",   "found",    "ACPI",     "table",  "reserved",
      "/usr/lib", "/etc",    "/var/log", "=",      "value",     "enabled",  "disabled", "0x0",    "default"};
  static constexpr size_t kWordCount = sizeof(kWords) / sizeof(kWords[0]);
  size_t i = 0;
  auto put = [&](char c) {
    if (i < out.size()) out[i++] = static_cast<std::byte>(c);
  };
  while (i < out.size()) {
    // "[ 1234.567890] word word 0x1f2e3d ...\n"
    put('[');
    uint64_t secs = rng.below(100000), micros = rng.below(1000000);
    char num[24];
    int len = 0;
    do { num[len++] = static_cast<char>('0' + secs % 10); secs /= 10; } while (secs != 0);
    for (int pad = len; pad < 5; ++pad) put(' ');
    while (len > 0) put(num[--len]);
    put('.');
    for (uint64_t div = 100000; div != 0; div /= 10) put(static_cast<char>('0' + micros / div % 10));
    put(']');
    uint64_t words = rng.between(4, 12);
    for (uint64_t w = 0; w < words && i < out.size(); ++w) {
      put(' ');
      if (rng.chance(120)) {  // a number or an address
        bool hex = rng.chance(500);
        uint64_t v = rng.below(hex ? 0x1000000 : 100000);
        if (hex) { put('0'); put('x'); }
        len = 0;
        do { num[len++] = "0123456789abcdef"[v % (hex ? 16 : 10)]; v /= (hex ? 16 : 10); } while (v != 0);
        while (len > 0) put(num[--len]);
      } else {
        for (char c : kWords[rng.below(kWordCount)]) put(c);
      }
    }
    put('\n');
  }
}

// A slab page: objects of one size, each laid out by the same template of
// 8-byte fields (as for one struct type), some objects free.
inline void fill_slab(std::span<std::byte> out, Rng& rng, uint64_t page_addr) {
  static constexpr size_t kObjSizes[] = {32, 64, 96, 128, 192, 256, 512, 1024};
  size_t obj = kObjSizes[rng.below(sizeof(kObjSizes) / sizeof(kObjSizes[0]))];
  enum Field : uint8_t { kZero, kPtr, kSmall, kFlags, kSelf, kRand };
  Field layout[128];
  size_t fields = obj / 8;
  for (size_t f = 0; f < fields; ++f) {
    uint64_t r = rng.below(100);
    layout[f] = r < 30 ? kZero : r < 58 ? kPtr : r < 75 ? kSmall : r < 85 ? kFlags : r < 93 ? kSelf : kRand;
  }
  uint64_t flags_base = rng.next() & 0x00000000ffff00ffULL;
  bool poison = rng.chance(300);  // freed objects filled with 0x6b, as slub_debug
  fill_zero(out);
  for (size_t at = 0; at + obj <= out.size(); at += obj) {
    if (rng.chance(200)) {  // a free object
      if (poison) {
        for (size_t b = at; b < at + obj; ++b) out[b] = std::byte{0x6b};
      }
      continue;
    }
    for (size_t f = 0; f < fields; ++f) {
      uint64_t v = 0;
      switch (layout[f]) {
        case kZero: v = 0; break;
        case kPtr: v = 0xffff888000000000ULL | (rng.below(1ULL << 34) << 6); break;
        case kSmall: v = rng.below(rng.chance(800) ? 16 : 4096); break;
        case kFlags: v = flags_base ^ (uint64_t{1} << rng.below(8)); break;
        case kSelf: v = page_addr + ((at + 8 * rng.below(fields) + obj * rng.below(4)) % out.size()); break;
        case kRand: v = rng.next(); break;
      }
      put64(out, at + 8 * f, v);
    }
  }
}

// A page table: present entries (pfn << 12 | flags) in runs of increasing
// pfns, holes of empty entries.
inline void fill_page_table(std::span<std::byte> out, Rng& rng) {
  fill_zero(out);
  uint64_t pfn = rng.below(1ULL << 24);
  uint64_t flags = rng.chance(500) ? 0x8000000000000067ULL : 0x063ULL;
  for (size_t at = 0; at + 8 <= out.size(); at += 8) {
    if (rng.chance(250)) {  // jump: a hole or a new run
      at += 8 * rng.below(16);
      pfn = rng.below(1ULL << 24);
      continue;
    }
    put64(out, at, (pfn++ << 12) | flags);
  }
}

inline void fill_kernel(std::span<std::byte> out, Rng& rng, uint64_t index) {
  uint64_t page_addr = 0xffff888000000000ULL + index * 4096;
  uint64_t r = rng.below(100);
  if (r < 60) {
    fill_slab(out, rng, page_addr);
  } else if (r < 75) {
    fill_page_table(out, rng);
  } else {  // partly used: a slab or text head, zero tail
    size_t used = static_cast<size_t>(rng.between(1, 7)) * out.size() / 8;
    if (rng.chance(700)) {
      fill_slab(out.first(used), rng, page_addr);
    } else {
      fill_text(out.first(used), rng);
    }
    fill_zero(out.subspan(used));
  }
}

inline void fill_mixed(std::span<std::byte> out, Rng& rng, uint64_t index) {
  size_t at = 0;
  while (at < out.size()) {
    size_t len = static_cast<size_t>(rng.between(256, 1536));
    if (len > out.size() - at) len = out.size() - at;
    auto part = out.subspan(at, len);
    switch (rng.below(4)) {
      case 0: fill_zero(part); break;
      case 1: fill_random(part, rng); break;
      case 2: fill_text(part, rng); break;
      default: fill_slab(part, rng, 0xffff888000000000ULL + index * 4096 + at); break;
    }
    at += len;
  }
}

}  // namespace datagen_detail

// Fills one page (any size) with data of the given kind; a pure function of
// (kind, seed, index, page.size()).
inline void fill_page(std::span<std::byte> page, PageKind kind, uint64_t seed, uint64_t index) {
  using namespace datagen_detail;
  Rng rng(page_seed(seed, index, static_cast<uint64_t>(kind)));
  switch (kind) {
    case PageKind::kZero: fill_zero(page); break;
    case PageKind::kRandom: fill_random(page, rng); break;
    case PageKind::kText: fill_text(page, rng); break;
    case PageKind::kKernel: fill_kernel(page, rng, index); break;
    case PageKind::kMixed: fill_mixed(page, rng, index); break;
  }
}

// A page of which about `incompressible_per_mille`/1000 is random bytes, in
// runs of 16..256, and the rest runs of a short repeated pattern: the knob for
// a chosen compression ratio (0 compresses to almost nothing, 1000 not at all).
inline void fill_page_entropy(std::span<std::byte> page, uint32_t incompressible_per_mille, uint64_t seed,
                              uint64_t index) {
  using namespace datagen_detail;
  Rng rng(page_seed(seed, index, 0x656e74726f7079ULL));
  size_t at = 0;
  while (at < page.size()) {
    size_t len = static_cast<size_t>(rng.between(16, 256));
    if (len > page.size() - at) len = page.size() - at;
    auto part = page.subspan(at, len);
    if (rng.chance(incompressible_per_mille)) {
      fill_random(part, rng);
    } else {
      uint64_t pattern = rng.next();
      size_t period = static_cast<size_t>(rng.between(1, 8));
      for (size_t i = 0; i < len; ++i) part[i] = static_cast<std::byte>(pattern >> (8 * (i % period)));
    }
    at += len;
  }
}

// `count` consecutive pages (indices 0..count-1) of one kind, back to back.
inline std::vector<std::byte> make_pages(PageKind kind, size_t count, uint64_t seed, size_t page_size = 4096) {
  std::vector<std::byte> pages(count * page_size);
  for (size_t i = 0; i < count; ++i) {
    fill_page(std::span<std::byte>(pages).subspan(i * page_size, page_size), kind, seed, i);
  }
  return pages;
}

}  // namespace vmc::bench
