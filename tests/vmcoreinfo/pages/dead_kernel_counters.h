// The dead kernel's own page counters (tests/vm/make-dump.sh prints
// /proc/vmstat, /proc/meminfo and /proc/zoneinfo just before `echo c`), and
// how closely the pages the filter leaves out must agree with them. One place
// for the bounds and their reasons, used by every test that compares: in the
// library (real_dump_filter_test.cc) and through the binary at every dump
// level (levels_vm_test.cc). Both open their dump and read the counters
// through the fixture in dead_kernel_dump_test.h.
//
// Why the counters can only agree within a tolerance (each band below says
// which effect it covers):
// - /proc/vmstat is a snapshot taken a moment before `echo c`; per-cpu
//   vm_stat_diff deltas (up to stat_threshold pages per cpu per zone) are not
//   folded in, and the shell that prints them and the sysrq path allocate
//   and free a few pages in between.
// - Free: nr_free_pages counts exactly the pages in buddy free lists
//   (buddyinfo sums to zoneinfo's "pages free"); pages on the per-cpu lists
//   are in neither count, but a pcp refill or drain between snapshot and
//   crash moves up to the pcp count between them.
// - User: nr_anon_pages counts mapped anonymous pages (a PMD-mapped THP with
//   all its pages); the filter also drops anonymous pages that are unmapped
//   but not yet freed, swap-cache anon pages, and hugetlb pages
//   (HugePages_Total, added to the expectation).
// - Cache: nr_file_pages counts every page-cache, shmem and swap-cache page;
//   pages still in a per-cpu LRU-add batch have no PG_lru yet and are kept,
//   as are isolated ones (nr_isolated_file), so the filter may only fall short.
#pragma once

#include <gtest/gtest.h>

#include <cstdint>
#include <cstdlib>
#include <fstream>
#include <map>
#include <optional>
#include <sstream>
#include <string>

namespace vmc::testing {

struct DeadKernelCounters {
  int64_t nr_free_pages = 0;
  int64_t pcp_pages = 0;  // on the per-cpu free lists (zoneinfo "count:")
  int64_t nr_anon_pages = 0;
  int64_t hugetlb_pages = 0;     // HugePages_Total in 4 KiB pages
  int64_t anon_huge_pages = 0;   // AnonHugePages (THP) in 4 KiB pages
  int64_t nr_file_pages = 0;
};

// Pages the filter left out must lie in [low, high].
struct Band {
  int64_t want = 0, low = 0, high = 0;
  std::string why;
};

namespace counters_detail {

inline std::map<std::string, int64_t> read_counters(const std::string& path, bool meminfo) {
  std::map<std::string, int64_t> out;
  std::ifstream in(path);
  for (std::string line; std::getline(in, line);) {
    std::istringstream s(line);
    std::string key;
    int64_t value = 0;
    if (!(s >> key >> value)) continue;
    if (meminfo && !key.empty() && key.back() == ':') key.pop_back();
    out[key] = value;
  }
  return out;
}

inline int64_t pcp_pages(const std::string& zoneinfo) {
  std::ifstream in(zoneinfo);
  int64_t total = 0;
  for (std::string line; std::getline(in, line);) {
    auto at = line.find("count:");
    if (at != std::string::npos) total += std::strtoll(line.c_str() + at + 6, nullptr, 10);
  }
  return total;
}

}  // namespace counters_detail

// dump_dir: a make-dump.sh output (pre-panic/ inside). nullopt when the
// counters are not there.
inline std::optional<DeadKernelCounters> read_dead_kernel_counters(const std::string& dump_dir) {
  using namespace counters_detail;
  auto vmstat = read_counters(dump_dir + "/pre-panic/vmstat", false);
  auto meminfo = read_counters(dump_dir + "/pre-panic/meminfo", true);
  if (!vmstat.count("nr_free_pages") || !vmstat.count("nr_anon_pages") || !vmstat.count("nr_file_pages")) {
    return std::nullopt;
  }
  DeadKernelCounters c;
  c.nr_free_pages = vmstat["nr_free_pages"];
  c.nr_anon_pages = vmstat["nr_anon_pages"];
  c.nr_file_pages = vmstat["nr_file_pages"];
  c.pcp_pages = pcp_pages(dump_dir + "/pre-panic/zoneinfo");
  c.hugetlb_pages = meminfo["HugePages_Total"] * (meminfo["Hugepagesize"] / 4);
  c.anon_huge_pages = meminfo["AnonHugePages"] / 4;
  return c;
}

// ram_pages: the dump's RAM pages (memory tolerances scale with it).
inline Band free_band(const DeadKernelCounters& c, int64_t /*ram_pages*/) {
  // 512 pages (2 MiB): a few pcp batches and the allocations of the shell and
  // the sysrq path; plus what a pcp refill/drain could move.
  int64_t slack = 512 + c.pcp_pages;
  return {c.nr_free_pages, c.nr_free_pages - slack, c.nr_free_pages + slack,
          "nr_free_pages " + std::to_string(c.nr_free_pages) + " +- (512 + pcp " + std::to_string(c.pcp_pages) + ")"};
}

inline Band user_band(const DeadKernelCounters& c, int64_t ram_pages) {
  // 1 % of RAM: anonymous pages unmapped-but-not-freed and per-cpu stat drift.
  int64_t want = c.nr_anon_pages + c.hugetlb_pages, slack = 512 + ram_pages / 100;
  return {want, want - slack, want + slack,
          "nr_anon_pages " + std::to_string(c.nr_anon_pages) + " + hugetlb " + std::to_string(c.hugetlb_pages) +
              " +- (512 + 1% of RAM)"};
}

inline Band cache_band(const DeadKernelCounters& c, int64_t ram_pages) {
  // Cache may only fall short (LRU-add batches, isolated pages), by 1 % of RAM.
  return {c.nr_file_pages, c.nr_file_pages - 512 - ram_pages / 100, c.nr_file_pages + 512,
          "nr_file_pages " + std::to_string(c.nr_file_pages) + " -(512 + 1% of RAM) +512"};
}

inline ::testing::AssertionResult in_band(const char* what, int64_t got, const Band& b) {
  if (got >= b.low && got <= b.high) return ::testing::AssertionSuccess();
  return ::testing::AssertionFailure() << what << ": " << got << " pages left out, outside [" << b.low << ", "
                                       << b.high << "] (" << b.why << ")";
}

}  // namespace vmc::testing
