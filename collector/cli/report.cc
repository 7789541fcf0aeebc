#include "collector/cli/report.h"

#include <sys/resource.h>

#include <cstdio>

namespace vmc {
namespace {

std::string line(const char* label, uint64_t value) {
  char buf[96];
  std::snprintf(buf, sizeof buf, "%s: 0x%016llx\n", label, static_cast<unsigned long long>(value));
  return buf;
}

}  // namespace

void say_run_warnings(const CollectReport& r, const PageFilter* filter, const Messenger& m) {
  // The report repeats the filter's warnings first.
  size_t already_said = filter ? filter->warnings().size() : 0;
  for (size_t i = already_said; i < r.warnings.size(); ++i) m.error("Warning: " + r.warnings[i] + "\n");
}

void say_missing_pages(const CollectReport& r, const Messenger& m) {
  if (!r.unreadable.empty()) m.error(format_unreadable(r));
  if (r.error) m.error(r.error->describe() + "\n");
}

uint64_t peak_rss_kib() {
  struct rusage ru {};
  ::getrusage(RUSAGE_SELF, &ru);
  return static_cast<uint64_t>(ru.ru_maxrss);
}

// makedumpfile 1.7.2's lines and format. One difference, on purpose:
// "Original pages" counts each physical page once. makedumpfile counts pages
// per PT_LOAD, so the pages two segments map (the kernel image, also mapped at
// __START_KERNEL_map: 13360 pages in the 6.1 test dump) count twice, and a
// page a segment covers only in part (pfn 0x9f, RAM ending at 0x9fc00) counts
// though it is never dumped (its exclude_nodata_pages() drops it). Its
// Original, Remaining and Memory Hole are off by those pages; every excluded
// count and Total pages are the same (tests/vmcoreinfo/pages/levels_vm_test.cc).
std::string format_report(const CollectReport& r, bool elf_output) {
  const FilterStats& x = r.excluded;
  uint64_t excluded = x[ExcludeReason::kZero] + x[ExcludeReason::kCache] +
                      x[ExcludeReason::kCachePrivate] + x[ExcludeReason::kUser] +
                      x[ExcludeReason::kFree] + x[ExcludeReason::kHwpoison] +
                      x[ExcludeReason::kOffline] + x[ExcludeReason::kUnreadable];
  std::string s = "\n";
  s += line("Original pages  ", r.ram_pages);
  s += line("  Excluded pages   ", excluded);
  s += line("    Pages filled with zero  ", x[ExcludeReason::kZero]);
  s += line("    Non-private cache pages ", x[ExcludeReason::kCache]);
  s += line("    Private cache pages     ", x[ExcludeReason::kCachePrivate]);
  s += line("    User process data pages ", x[ExcludeReason::kUser]);
  s += line("    Free pages              ", x[ExcludeReason::kFree]);
  s += line("    Hwpoison pages          ", x[ExcludeReason::kHwpoison]);
  s += line("    Offline pages           ", x[ExcludeReason::kOffline]);
  // Not a makedumpfile line: said only when the input failed us.
  if (x[ExcludeReason::kUnreadable] != 0) s += line("    Unreadable pages        ", x[ExcludeReason::kUnreadable]);
  s += line("  Remaining pages  ", r.ram_pages - excluded);
  if (r.ram_pages != 0) {
    char buf[80];
    std::snprintf(buf, sizeof buf, "  (The number of pages is reduced to %llu%%.)\n",
                  static_cast<unsigned long long>((r.ram_pages - excluded) * 100 / r.ram_pages));
    s += buf;
  }
  s += line("Memory Hole     ", r.memory_hole);
  s += "--------------------------------------------------\n";
  s += line("Total pages     ", r.max_pfn);
  s += "Write bytes     : " + std::to_string(r.data_bytes) + "\n";
  s += "Peak RSS        : " + std::to_string(peak_rss_kib()) + " KiB\n";
  (void)elf_output;
  s += "\n";
  return s;
}

std::string format_unreadable(const CollectReport& r) {
  std::string s = "Unreadable pages left out:";
  size_t shown = 0;
  for (const auto& range : r.unreadable) {
    if (shown++ == 32) {
      s += " ...";
      break;
    }
    // Appended piecewise: GCC 12 at -O3 warns (-Wrestrict) on "literal" + std::string&&.
    s += " pfn ";
    s += hex(range.start);
    if (range.count() > 1) {
      s += "-";
      s += hex(range.end - 1);
    }
  }
  return s + "\n";
}

}  // namespace vmc
