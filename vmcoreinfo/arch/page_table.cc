#include "vmcoreinfo/arch/page_table.h"

#include <algorithm>
#include <mutex>
#include <numeric>
#include <shared_mutex>
#include <unordered_map>

#include "base/endian.h"

namespace vmc {
namespace {

constexpr uint64_t bit(unsigned n) { return uint64_t{1} << n; }
// Bits [high:low], inclusive.
constexpr uint64_t bits(unsigned high, unsigned low) { return (bit(high + 1) - 1) & ~(bit(low) - 1); }

constexpr uint64_t kX86Present = bit(0);
constexpr uint64_t kX86LargePage = bit(7);  // _PAGE_PSE
constexpr uint64_t kX86Address = bits(51, 12);
constexpr uint64_t kArm64Valid = bit(0);
constexpr uint64_t kArm64TypeMask = 0x3;
constexpr uint64_t kArm64Block = 0x1;  // a block above the last level (0b11 there is a table)
constexpr uint64_t kPpcPresent = bit(63);  // _PAGE_PRESENT
constexpr uint64_t kPpcLeaf = bit(62);     // _PAGE_PTE
constexpr uint64_t kPpcLeafAddress = bits(56, 12);   // the real page number
constexpr uint64_t kPpcTableAddress = bits(59, 8);   // next-level base; the low bits hold its size

// At most 16 MiB of tables stay cached; a walk over mem_map touches far fewer.
constexpr size_t kMaxCachedEntries = size_t{2} << 20;

bool is_valid(EntryEncoding encoding, uint64_t e) {
  switch (encoding) {
    case EntryEncoding::kX86_64: return (e & kX86Present) != 0;
    case EntryEncoding::kPpc64Radix: return (e & kPpcPresent) != 0;
    default: return (e & kArm64Valid) != 0;
  }
}

// Whether a valid entry `height` levels above the last ends the walk.
bool is_leaf(EntryEncoding encoding, uint64_t e, unsigned height) {
  if (height == 0) return true;
  switch (encoding) {
    case EntryEncoding::kX86_64: return (e & kX86LargePage) != 0;
    case EntryEncoding::kPpc64Radix: return (e & kPpcLeaf) != 0;
    default: return (e & kArm64TypeMask) == kArm64Block;
  }
}

// A last-level arm64 entry must say "page" (0b11); 0b01 there is reserved.
bool is_reserved(EntryEncoding encoding, uint64_t e, unsigned height) {
  bool arm64 = encoding != EntryEncoding::kX86_64 && encoding != EntryEncoding::kPpc64Radix;
  return arm64 && height == 0 && (e & kArm64TypeMask) == kArm64Block;
}

uint64_t output_address(const PageTableFormat& f, uint64_t e, bool leaf) {
  switch (f.encoding) {
    case EntryEncoding::kX86_64: return e & kX86Address;
    case EntryEncoding::kArm64: return e & bits(47, f.page_shift);
    case EntryEncoding::kArm64Lpa64k: return (e & bits(47, 16)) | ((e >> 12) & 0xf) << 48;
    case EntryEncoding::kArm64Lpa2: return (e & bits(49, f.page_shift)) | ((e >> 8) & 0x3) << 50;
    case EntryEncoding::kPpc64Radix: return e & (leaf ? kPpcLeafAddress : kPpcTableAddress);
  }
  return 0;
}

uint64_t load_entry(const std::byte* p, std::endian order) {
  return order == std::endian::big ? load<Be64>(p).get() : load<Le64>(p).get();
}

// Names level_names top first; fills in "level N" where the format has none.
std::string level_name(const PageTableFormat& f, int level) {
  if (static_cast<size_t>(level) < f.level_names.size()) return f.level_names[static_cast<size_t>(level)];
  return "level " + std::to_string(level);
}

PageTableFormat uniform_format(std::string name, EntryEncoding encoding, unsigned page_shift,
                               std::vector<unsigned> index_bits, std::endian order) {
  PageTableFormat f;
  f.name = std::move(name);
  f.encoding = encoding;
  f.page_shift = page_shift;
  f.index_bits = std::move(index_bits);
  f.byte_order = order;
  return f;
}

}  // namespace

unsigned PageTableFormat::va_bits() const {
  return std::accumulate(index_bits.begin(), index_bits.end(), page_shift);
}

PageTableFormat x86_64_page_tables(int levels, uint64_t sme_mask) {
  std::vector<unsigned> index_bits(static_cast<size_t>(levels), 9);
  auto f = uniform_format("x86_64 " + std::to_string(levels) + "-level", EntryEncoding::kX86_64, 12,
                          std::move(index_bits), std::endian::little);
  f.level_names = levels == 5 ? std::vector<std::string>{"PGD", "P4D", "PUD", "PMD", "PTE"}
                              : std::vector<std::string>{"PGD", "PUD", "PMD", "PTE"};
  f.strip_mask = sme_mask;
  return f;
}

Result<PageTableFormat> arm64_page_tables(unsigned page_shift, unsigned va_bits, bool pa52) {
  if (page_shift != 12 && page_shift != 14 && page_shift != 16) {
    return Error(ErrorKind::kUnsupported, "arm64 page size 2^" + std::to_string(page_shift) +
                                              " (only 4, 16 and 64 KiB pages exist)");
  }
  if (va_bits < 36 || va_bits > 52 || va_bits <= page_shift) {
    return Error(ErrorKind::kUnsupported, "arm64 with " + std::to_string(va_bits) + "-bit virtual addresses");
  }
  // Each table fills one page of 8-byte entries; the top one takes what is
  // left of the address (ARM64_HW_PGTABLE_LEVELS).
  unsigned per_level = page_shift - 3;
  unsigned translated = va_bits - page_shift;
  unsigned levels = (translated + per_level - 1) / per_level;
  std::vector<unsigned> index_bits(levels, per_level);
  index_bits.front() = translated - (levels - 1) * per_level;
  EntryEncoding encoding = !pa52 ? EntryEncoding::kArm64
                           : page_shift == 16 ? EntryEncoding::kArm64Lpa64k
                                              : EntryEncoding::kArm64Lpa2;
  auto f = uniform_format("arm64 " + std::to_string(bit(page_shift) >> 10) + "K " + std::to_string(va_bits) +
                              "-bit VA" + (pa52 ? " 52-bit PA" : ""),
                          encoding, page_shift, std::move(index_bits), std::endian::little);
  // Linux's names, from the last level up: PTE, PMD, PUD, P4D (4 KiB LPA2), PGD on top.
  static const char* const kFromBottom[] = {"PTE", "PMD", "PUD", "P4D"};
  for (unsigned i = 0; i < levels; ++i) {
    unsigned height = levels - 1 - i;
    f.level_names.push_back(i == 0 ? "PGD" : kFromBottom[std::min(height, 3u)]);
  }
  f.max_leaf_height = page_shift == 12 ? 2 : 1;  // 1 GiB and 2 MiB blocks; 32 MiB or 512 MiB
  return f;
}

Result<PageTableFormat> ppc64_radix_page_tables(unsigned page_shift) {
  std::vector<unsigned> index_bits;
  if (page_shift == 16) {
    index_bits = {13, 9, 9, 5};  // RADIX_PGD/PUD/PMD/PTE_INDEX_SIZE with 64 KiB pages
  } else if (page_shift == 12) {
    index_bits = {9, 9, 9, 9};
  } else {
    return Error(ErrorKind::kUnsupported, "ppc64 radix with pages of 2^" + std::to_string(page_shift) + " bytes");
  }
  auto f = uniform_format("ppc64 radix " + std::to_string(bit(page_shift) >> 10) + "K", EntryEncoding::kPpc64Radix,
                          page_shift, std::move(index_bits), std::endian::big);
  f.level_names = {"PGD", "PUD", "PMD", "PTE"};
  return f;
}

// Tables by physical address, decoded to host order, shared by all threads.
class PageTableWalker::TableCache {
 public:
  Result<uint64_t> entry(PhysicalMemory& memory, const PageTableFormat& f, uint64_t table, unsigned index_bits,
                         uint64_t index) const {
    {
      std::shared_lock lock(mu_);
      auto it = tables_.find(table);
      if (it != tables_.end() && it->second->size() == bit(index_bits)) return (*it->second)[index];
    }
    std::vector<std::byte> raw(static_cast<size_t>(bit(index_bits)) * 8);
    auto st = memory.read_physical(table, raw);
    if (!st) return std::move(st).error().add_context("reading the page table at " + hex(table));
    auto decoded = std::make_shared<std::vector<uint64_t>>(bit(index_bits));
    for (size_t i = 0; i < decoded->size(); ++i) (*decoded)[i] = load_entry(raw.data() + i * 8, f.byte_order);
    uint64_t value = (*decoded)[index];
    std::unique_lock lock(mu_);
    if (cached_entries_ + decoded->size() > kMaxCachedEntries) {
      tables_.clear();
      cached_entries_ = 0;
    }
    cached_entries_ += decoded->size();
    tables_[table] = std::move(decoded);
    return value;
  }

 private:
  mutable std::shared_mutex mu_;
  mutable std::unordered_map<uint64_t, std::shared_ptr<const std::vector<uint64_t>>> tables_;
  mutable size_t cached_entries_ = 0;
};

PageTableWalker::PageTableWalker(PhysicalMemory& memory, PageTableFormat format)
    : memory_(memory), format_(std::move(format)), cache_(std::make_unique<TableCache>()) {}

PageTableWalker::~PageTableWalker() = default;

Result<uint64_t> PageTableWalker::entry(int level, uint64_t table, uint64_t index) const {
  return cache_->entry(memory_, format_, table, format_.index_bits[static_cast<size_t>(level)], index);
}

Result<PageTableHit> PageTableWalker::walk(uint64_t top_table, uint64_t vaddr) const {
  const int levels = format_.levels();
  unsigned shift = format_.va_bits();
  uint64_t table = top_table;
  for (int level = 0; level < levels; ++level) {
    unsigned index_bits = format_.index_bits[static_cast<size_t>(level)];
    shift -= index_bits;
    uint64_t index = (vaddr >> shift) & (bit(index_bits) - 1);
    auto raw = entry(level, table, index);
    if (!raw) return std::move(raw).error().add_context("translating " + hex(vaddr));
    uint64_t e = *raw & ~format_.strip_mask;
    auto where = [&] {
      return " (" + level_name(format_, level) + " entry " + hex(*raw) + " in the table at " + hex(table) + ")";
    };
    auto height = static_cast<unsigned>(levels - 1 - level);
    if (!is_valid(format_.encoding, e) || is_reserved(format_.encoding, e, height)) {
      return Error(ErrorKind::kBadInput, "kernel virtual address " + hex(vaddr) + " is not mapped" + where());
    }
    bool leaf = is_leaf(format_.encoding, e, height);
    if (leaf && height > format_.max_leaf_height) {
      return Error(ErrorKind::kBadInput, "kernel virtual address " + hex(vaddr) + ": a " + format_.name +
                                             " leaf where the format has none" + where());
    }
    uint64_t addr = output_address(format_, e, leaf);
    if (leaf) {
      uint64_t size = bit(shift);
      uint64_t within = vaddr & (size - 1);
      // Low address bits of a large leaf are not address (x86_64's PAT bit 12).
      return PageTableHit{(addr & ~(size - 1)) + within, size - within};
    }
    table = addr;
  }
  return Error(ErrorKind::kBadInput, "page-table walk for " + hex(vaddr) + " did not end");
}

}  // namespace vmc
