#include "collector/cli/mem_usage.h"

#include <cstdio>

namespace vmc {
namespace {

class DiscardingWriter final : public DumpWriter {
 public:
  Status begin() override { return {}; }
  Status write_pages(std::span<const PageRecord>) override { return {}; }
  Status end_cycle(uint64_t, uint64_t, std::span<const uint64_t>, std::span<const uint64_t>) override { return {}; }
  Status finish(bool) override { return {}; }
  uint64_t data_bytes() const override { return 0; }
};

// One table row: the type padded as makedumpfile's tabs leave it, the count
// left-aligned in 16 columns.
std::string row(const char* type, uint64_t pages, const char* excludable, const char* description) {
  char buf[160];
  std::snprintf(buf, sizeof buf, "%s%-16llu\t%s\t\t%s\n", type, static_cast<unsigned long long>(pages), excludable,
                description);
  return buf;
}

}  // namespace

std::unique_ptr<DumpWriter> make_discarding_writer() { return std::make_unique<DiscardingWriter>(); }

std::string format_mem_usage(const CollectReport& r, uint32_t page_size) {
  const FilterStats& x = r.excluded;
  uint64_t excluded = x[ExcludeReason::kZero] + x[ExcludeReason::kCache] + x[ExcludeReason::kCachePrivate] +
                      x[ExcludeReason::kUser] + x[ExcludeReason::kFree] + x[ExcludeReason::kHwpoison] +
                      x[ExcludeReason::kOffline];
  std::string s = "\nTYPE\t\tPAGES\t\t\tEXCLUDABLE\tDESCRIPTION\n";
  s += std::string(70, '-') + "\n";
  s += row("ZERO\t\t", x[ExcludeReason::kZero], "yes", "Pages filled with zero");
  s += row("NON_PRI_CACHE\t", x[ExcludeReason::kCache], "yes", "Cache pages without private flag");
  s += row("PRI_CACHE\t", x[ExcludeReason::kCachePrivate], "yes", "Cache pages with private flag");
  s += row("USER\t\t", x[ExcludeReason::kUser], "yes", "User process pages");
  s += row("FREE\t\t", x[ExcludeReason::kFree], "yes", "Free pages");
  s += row("KERN_DATA\t", r.ram_pages - excluded, "no", "Dumpable kernel data ");
  char buf[160];
  std::snprintf(buf, sizeof buf, "\npage size:\t\t%-16u\nTotal pages on system:\t%-16llu\n",
                page_size, static_cast<unsigned long long>(r.ram_pages));
  s += buf;
  std::snprintf(buf, sizeof buf, "Total size on system:\t%-16llu Byte\n",
                static_cast<unsigned long long>(r.ram_pages * page_size));
  return s + buf;
}

}  // namespace vmc
