#include "tests/builder/tib_dump.h"

#include <algorithm>
#include <span>
#include <string>

namespace vmc::testing {
namespace {

constexpr uint64_t kPage = 4096;
constexpr uint64_t kMiB = uint64_t{1} << 20;
constexpr uint64_t kGiB = uint64_t{1} << 30;
constexpr unsigned kMaxFreeOrder = 10;  // 6.1: MAX_ORDER 11, orders 0..10

// A free block as 6.1 writes its head (see KernelLayoutBuilder::free_block),
// tails left zero.
void free_head(KernelLayoutBuilder& b, uint64_t pfn, unsigned order) {
  const KernelSpec& k = b.spec();
  b.raw(pfn) = {};
  b.set_u32(pfn, k.off_mapcount, static_cast<uint32_t>(k.buddy));
  b.set_u64(pfn, k.off_private, order);
  b.set_u64(pfn, k.off_lru, b.struct_page_vaddr(pfn));  // an empty buddy list: points at itself
  b.set_u64(pfn, k.off_lru + 8, b.struct_page_vaddr(pfn));
}

// Free blocks over [start, end) pfns: orders cycling from 0 to the largest
// when mixed, else the largest only; each block aligned to its size.
uint64_t free_range(KernelLayoutBuilder& b, uint64_t start, uint64_t end, bool mixed) {
  uint64_t pages = 0;
  unsigned turn = 0;
  for (uint64_t p = start; p < end;) {
    unsigned order = mixed ? turn++ % (kMaxFreeOrder + 1) : kMaxFreeOrder;
    while (order > 0 && (p % (uint64_t{1} << order) != 0 || p + (uint64_t{1} << order) > end)) --order;
    free_head(b, p, order);
    p += uint64_t{1} << order;
    pages += uint64_t{1} << order;
  }
  return pages;
}

// Lowest start of the builder's kernel data (mem_map, page tables) above `above`.
uint64_t lowest_kernel_range(const KernelLayoutBuilder& b, uint64_t above) {
  uint64_t low = UINT64_MAX;
  for (auto [s, e] : b.kernel_ranges()) {
    if (s >= above) low = std::min(low, s);
  }
  return low;
}

// The value of "KEY=" in the builder's VMCOREINFO text.
std::string vmcoreinfo_value(const std::string& text, const std::string& key) {
  auto at = text.find(key + "=");
  if (at == std::string::npos) return {};
  auto begin = at + key.size() + 1;
  return text.substr(begin, text.find('\n', begin) - begin);
}

// init_uts_ns.name.release, which makedumpfile reads to check the kernel
// version (the builder writes only the sysname).
void write_uts_release(KernelLayoutBuilder& b) {
  std::string text = b.vmcoreinfo();
  std::string release = vmcoreinfo_value(text, "OSRELEASE");
  std::string symbol = vmcoreinfo_value(text, "SYMBOL(init_uts_ns)");
  if (release.empty() || symbol.empty()) return;
  uint64_t vaddr = std::stoull(symbol, nullptr, 16);
  uint64_t paddr = b.machine().kernel_phys + (vaddr - b.image_vaddr());
  constexpr uint64_t kReleaseOffset = 2 * 65;  // after sysname[65] and nodename[65]
  b.dump().write_physical(paddr + kReleaseOffset, std::as_bytes(std::span(release.data(), release.size())));
}

}  // namespace

Result<TibCounts> write_tib_dump(const TibSpec& spec, const std::string& path) {
  if (spec.ram_bytes < 4 * kGiB || spec.ram_bytes % kGiB != 0) {
    return Error(ErrorKind::kInvalidArgument, "a synthetic dump needs a whole number of GiB, at least 4");
  }
  if (spec.kernel_data_bytes + spec.user_bytes + spec.cache_bytes > 768 * kMiB) {
    return Error(ErrorKind::kInvalidArgument, "kernel, user and cache pages must fit below 896 MiB");
  }
  MachineSpec machine;
  machine.ram = {{0x1000, 0x9f000}, {0x100000, spec.ram_bytes}};
  KernelLayoutBuilder b(debian_6_1(), machine);
  TibCounts c;
  c.ram_pages = (0x9f000 - 0x1000) / kPage + (spec.ram_bytes - 0x100000) / kPage;

  // Below 1 GiB: kernel data from 128 MiB, then user, then cache pages; the
  // rest stays zero struct pages (kept, and zero: gone at -d 1).
  uint64_t pfn = 128 * kMiB / kPage;
  for (uint64_t i = 0; i < spec.kernel_data_bytes / kPage; ++i, ++pfn) {
    b.in_use(pfn);
    b.dump().fill_page(pfn, i % 4 == 3 ? PageFill::kRandom : PageFill::kText, spec.seed);
  }
  for (uint64_t i = 0; i < spec.user_bytes / kPage; ++i, ++pfn) {
    b.anon(pfn);
    if (i < 256) b.dump().fill_page(pfn, PageFill::kRandom, spec.seed);
    ++c.user_pages;
  }
  for (uint64_t i = 0; i < spec.cache_bytes / kPage; ++i, ++pfn) {
    b.file_cache(pfn, i % 8 == 0);
    if (i < 256) b.dump().fill_page(pfn, PageFill::kText, spec.seed);
    ++c.cache_pages;
  }
  // Free above 1 GiB: blocks of every order up to 2 GiB, then the largest
  // only, up to below the kernel data the builder put at the top of RAM
  // (mem_map, page tables; mem_section comes later, hence the margin).
  uint64_t top = (lowest_kernel_range(b, kGiB) - 64 * kMiB) / (4 * kMiB) * (4 * kMiB);
  c.free_pages += free_range(b, kGiB / kPage, 2 * kGiB / kPage, /*mixed=*/true);
  c.free_pages += free_range(b, 2 * kGiB / kPage, top / kPage, /*mixed=*/false);
  b.finish();
  write_uts_release(b);
  c.stored_pages = b.dump().stored_pfns().size();
  c.kept_data_pages = c.stored_pages - std::min<uint64_t>(256, c.user_pages) - std::min<uint64_t>(256, c.cache_pages);
  VMC_TRY(b.dump().write_elf(path));
  return c;
}

}  // namespace vmc::testing
