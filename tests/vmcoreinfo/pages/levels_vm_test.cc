// Every dump level 0..31 through the vmcollect binary on a real kernel dump
// (tests/vm, $VMCOLLECT_VM_DIR), judged by readers we did not write:
// libkdumpfile reads the page maps of our kdump output and of Debian's
// makedumpfile 1.7.2 at the same level (tests/real_dumps/kdump_judge.py diff),
// and the pages each level leaves out are held against the dead kernel's own
// counters (bands and reasons in dead_kernel_counters.h). Also the report
// (--message-level 16) and --mem-usage against makedumpfile's.
//
// What must hold, per level L:
// - 6.1: our dumped pfn set equals makedumpfile's. Zero pages (bit 1) stay in
//   both page maps, sharing one stored zero page. pfn 0x9f, which a PT_LOAD
//   covers only up to 0x9fc00, is in neither: makedumpfile's
//   exclude_nodata_pages() drops a page whose data ends inside it, and our
//   reader offers whole pages only.
// - 6.12: makedumpfile 1.7.2 predates the kernel's user-page changes, so the
//   sets must be equal at every level without bit 8, and with it they may
//   differ only by its known gaps (slab pages it takes for user data, THP and
//   hugetlb pages only we leave out: see real_dump_filter_test.cc).
// - Each excluded count we report equals makedumpfile's (6.12: except user),
//   and libkdumpfile agrees: the pages missing at L against level 0 are
//   exactly the non-zero excluded pages we report.
// - Free, user and cache pages left out are 0 without their bit and within
//   the counters' bands with it.
// - "Original pages": ours counts each RAM page once; makedumpfile counts per
//   PT_LOAD (the kernel image's alias twice, pfn 0x9f too when it has room to
//   run in one cycle), so its count must be that per-segment sum.
// - At -d 31 every page we keep equals the raw vmcore's (libkdumpfile).
//
// Outputs go to a private directory under /var/tmp, deleted as they are
// judged. Skipped without VMCOLLECT_VM_DIR; with CI=true a missing
// makedumpfile or libkdumpfile is a failure, not a skip.
#include <gtest/gtest.h>

#include <sys/wait.h>
#include <unistd.h>

#include <cctype>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <map>
#include <set>
#include <sstream>
#include <string>
#include <vector>

#include "base/physical_memory.h"
#include "tests/builder/test_files.h"
#include "tests/vmcoreinfo/pages/dead_kernel_dump_test.h"
#include "tests/vmcoreinfo/pages/filter_test_util.h"
#include "vmcoreinfo/pages/page_decode.h"
#include "vmcoreinfo/pages/page_filter.h"
#include "vmcoreinfo/table/vmcoreinfo.h"

namespace vmc::testing {
namespace {

uint64_t abs_diff(uint64_t a, uint64_t b) { return a > b ? a - b : b - a; }

namespace fs = std::filesystem;

std::string quote(const std::string& s) {
  std::string q = "'";
  for (char c : s) q += c == '\'' ? std::string("'\\''") : std::string(1, c);
  return q + "'";
}

struct CommandResult {
  int rc = -1;
  std::string out;  // standard output
  double seconds = 0;
};

// Runs a shell command, capturing its standard output.
CommandResult run_command(const std::string& cmd) {
  CommandResult r;
  auto t0 = std::chrono::steady_clock::now();
  std::FILE* p = ::popen(cmd.c_str(), "r");
  if (p == nullptr) return r;
  char buf[4096];
  for (size_t n; (n = std::fread(buf, 1, sizeof buf, p)) > 0;) r.out.append(buf, n);
  int status = ::pclose(p);
  r.rc = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
  r.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  return r;
}

// makedumpfile's report lines ("    Free pages              : 0x...") by label.
std::map<std::string, uint64_t> parse_report(const std::string& text) {
  std::map<std::string, uint64_t> out;
  std::istringstream in(text);
  for (std::string line; std::getline(in, line);) {
    auto colon = line.find(": 0x");
    if (colon == std::string::npos) continue;
    std::string label = line.substr(0, colon);
    label.erase(0, label.find_first_not_of(' '));
    label.erase(label.find_last_not_of(' ') + 1);
    out[label] = std::strtoull(line.c_str() + colon + 2, nullptr, 16);
  }
  return out;
}

// --mem-usage's table rows ("FREE\t\t61473 ...") and totals by name.
std::map<std::string, uint64_t> parse_mem_usage(const std::string& text) {
  std::map<std::string, uint64_t> out;
  std::istringstream in(text);
  for (std::string line; std::getline(in, line);) {
    auto colon = line.find(":\t");
    std::string key, value;
    if (colon != std::string::npos) {
      key = line.substr(0, colon);
      value = line.substr(colon + 1);
    } else {
      std::istringstream w(line);
      w >> key >> value;
    }
    value.erase(0, value.find_first_not_of(" \t"));
    if (!value.empty() && std::isdigit(static_cast<unsigned char>(value[0]))) out[key] = std::stoull(value);
  }
  return out;
}

struct PageMapDiff {
  bool ok = false;
  std::string error;
  uint64_t count_a = 0, count_b = 0;
  std::vector<uint64_t> only_a, only_b;
};

const char* kKinds[] = {"Pages filled with zero", "Non-private cache pages", "Private cache pages",
                        "User process data pages", "Free pages", "Hwpoison pages", "Offline pages"};

uint64_t non_zero_excluded(std::map<std::string, uint64_t>& r) {
  return r["Non-private cache pages"] + r["Private cache pages"] + r["User process data pages"] + r["Free pages"] +
         r["Hwpoison pages"] + r["Offline pages"];
}

class LevelsVm : public DeadKernelDumpTest {
 protected:
  LevelsVm() : DeadKernelDumpTest("VMCOLLECT_VM_DIR") {}

  // The judges: without them there is nothing to compare with.
  void check_prerequisites() override {
    const char* ci = std::getenv("CI");
    bool in_ci = ci != nullptr && std::string(ci) == "true";
    for (const auto& [what, cmd] : {std::pair{"makedumpfile", "makedumpfile -v >/dev/null 2>&1"},
                                    {"python3-libkdumpfile", "/usr/bin/python3 -c 'import kdumpfile' 2>/dev/null"}}) {
      if (run_command(cmd).rc == 0) continue;
      if (in_ci) FAIL() << what << " is missing (tests/setup-deps.sh installs it)";
      GTEST_SKIP() << what << " is not installed";
    }
  }

  void SetUp() override {
    DeadKernelDumpTest::SetUp();
    if (IsSkipped() || HasFatalFailure()) return;
    vmcore_ = dir_ + "/vmcore";
    char tmpl[] = "/var/tmp/vmc-levels-XXXXXX";
    ASSERT_NE(::mkdtemp(tmpl), nullptr);
    tmp_ = tmpl;
    for (const auto& r : memory_->ram()) ram_pages_ += r.count();
  }
  void TearDown() override {
    if (!tmp_.empty()) fs::remove_all(tmp_);
  }

  bool known_to_makedumpfile() const {
    return info_.kernel_version() && *info_.kernel_version() < kernel_version_code(6, 2, 0);
  }

  // makedumpfile's "Original pages": pages per PT_LOAD, the last one counted
  // when partly covered (its non-cyclic bitmap file) or not (cyclic buffers).
  std::pair<uint64_t, uint64_t> makedumpfile_original() const {
    uint64_t ps = memory_->page_size(), floor_sum = 0, ceil_sum = 0;
    auto segments = memory_->metadata().segments;
    const auto& text = memory_->metadata().kernel_text;  // the kernel image again
    segments.insert(segments.end(), text.begin(), text.end());
    for (const auto& s : segments) {
      floor_sum += (s.paddr + s.size) / ps - s.paddr / ps;
      ceil_sum += (s.paddr + s.size + ps - 1) / ps - s.paddr / ps;
    }
    return {floor_sum, ceil_sum};
  }

  PageMapDiff judge_diff(const std::string& a, const std::string& b) {
    PageMapDiff d;
    auto r = run_command("/usr/bin/python3 " + quote(VMCOLLECT_JUDGE) + " diff " + quote(a) + " " + quote(b) +
                         " 2>&1");
    if (r.rc != 0) {
      d.error = r.out;
      return d;
    }
    std::istringstream in(r.out);
    for (std::string key, value; in >> key >> value;) {
      uint64_t v = std::strtoull(value.c_str(), nullptr, 0);
      if (key == "count-a") d.count_a = v;
      else if (key == "count-b") d.count_b = v;
      else if (key == "only-a") d.only_a.push_back(v);
      else if (key == "only-b") d.only_b.push_back(v);
    }
    d.ok = true;
    return d;
  }

  CommandResult dump(const std::string& tool, int level, const std::string& out) {
    return run_command(tool + " -l -d " + std::to_string(level) + " --message-level 20 -f " + quote(vmcore_) + " " +
                       quote(out) + " 2>" + quote(tmp_ + "/stderr"));
  }

  std::string stderr_text() { return read_whole_file(tmp_ + "/stderr"); }

  // 6.12: pfns only makedumpfile leaves out must be slab pages (it reads
  // slab.slabs as page.mapping); pfns only we leave out must be user data.
  void check_known_gaps(const PageMapDiff& d, int level) {
    if (!user_) {
      auto f = make_page_filter(*memory_, info_, kDumpLevelUser);
      ASSERT_TRUE(f.ok()) << f.error().describe();
      user_ = std::make_unique<FilterRun>(run_filter(**f, *memory_));
    }
    ASSERT_NO_FATAL_FAILURE(expect_slab_pages(d.only_a));  // we kept them, makedumpfile did not
    for (uint64_t p : d.only_b) {
      EXPECT_FALSE(user_->kept(p)) << "-d " << level << ": we alone leave out " << hex(p) << ", not user data";
    }
    EXPECT_LE(static_cast<int64_t>(d.only_b.size()), counters_.hugetlb_pages + counters_.anon_huge_pages);
  }

  void check_counters(int level, std::map<std::string, uint64_t>& r) {
    int64_t ram = static_cast<int64_t>(ram_pages_);
    int64_t free = static_cast<int64_t>(r["Free pages"]), user = static_cast<int64_t>(r["User process data pages"]);
    int64_t cache = static_cast<int64_t>(r["Non-private cache pages"] + r["Private cache pages"]);
    std::string at = "-d " + std::to_string(level) + " free";
    if (level & kDumpLevelFree) {
      EXPECT_TRUE(in_band(at.c_str(), free, free_band(counters_, ram)));
    } else {
      EXPECT_EQ(free, 0) << at;
    }
    at = "-d " + std::to_string(level) + " user";
    if (level & kDumpLevelUser) {
      EXPECT_TRUE(in_band(at.c_str(), user, user_band(counters_, ram)));
    } else {
      EXPECT_EQ(user, 0) << at;
    }
    at = "-d " + std::to_string(level) + " cache";
    if (level & (kDumpLevelCache | kDumpLevelCachePrivate)) {
      EXPECT_TRUE(in_band(at.c_str(), cache, cache_band(counters_, ram)));
    } else {
      EXPECT_EQ(cache, 0) << at;
    }
    if (!(level & kDumpLevelCachePrivate)) {
      EXPECT_EQ(r["Private cache pages"], 0u) << "-d " << level;
    }
    if (!(level & kDumpLevelZero)) {
      EXPECT_EQ(r["Pages filled with zero"], 0u) << "-d " << level;
    }
  }

  std::string vmcore_, tmp_;
  uint64_t ram_pages_ = 0;
  std::unique_ptr<FilterRun> user_;
};

TEST_F(LevelsVm, EveryDumpLevelAgainstMakedumpfileAndTheCounters) {
  const bool exact = known_to_makedumpfile();
  auto [orig_floor, orig_ceil] = makedumpfile_original();
  std::printf("%s: %llu RAM pages; makedumpfile 1.7.2 %s\n", info_.osrelease().c_str(),
              static_cast<unsigned long long>(ram_pages_),
              exact ? "knows this kernel: every set must be equal" : "predates it: user pages may differ");
  uint64_t count0 = 0;
  double ours_s = 0, mdf_s = 0;
  for (int level = 0; level <= kDumpLevelMax; ++level) {
    SCOPED_TRACE("-d " + std::to_string(level));
    std::string ours = tmp_ + "/ours", mdf = tmp_ + "/makedumpfile";
    auto o = dump(VMCOLLECT_BINARY, level, ours);
    ASSERT_EQ(o.rc, 0) << stderr_text();
    auto m = dump("makedumpfile", level, mdf);
    ASSERT_EQ(m.rc, 0) << stderr_text();
    ours_s += o.seconds, mdf_s += m.seconds;
    auto r = parse_report(o.out), mr = parse_report(m.out);
    ASSERT_TRUE(r.count("Original pages") && mr.count("Original pages")) << o.out << m.out;
    auto d = judge_diff(ours, mdf);
    ASSERT_TRUE(d.ok) << d.error;
    fs::remove(mdf);

    // The page maps, as libkdumpfile reads them.
    if (level == 0) count0 = d.count_a;
    if (exact || !(level & kDumpLevelUser)) {
      EXPECT_TRUE(d.only_a.empty() && d.only_b.empty())
          << d.only_a.size() << " pfns only we dump, " << d.only_b.size() << " only makedumpfile dumps (first "
          << hex(d.only_a.empty() ? d.only_b.front() : d.only_a.front()) << ")";
    } else {
      check_known_gaps(d, level);
    }
    EXPECT_EQ(count0 - d.count_a, non_zero_excluded(r)) << "pages missing against -d 0 vs our report";

    // The report against makedumpfile's. Where it misreads pages as user
    // data, a page it drops as user may be one we drop as zero.
    const bool user_gap = !exact && (level & kDumpLevelUser);
    for (const char* kind : kKinds) {
      std::string k = kind;
      if (user_gap && k == "User process data pages") continue;
      if (user_gap && k == "Pages filled with zero") {
        EXPECT_LE(abs_diff(r[kind], mr[kind]), d.only_a.size() + d.only_b.size()) << kind;
        continue;
      }
      EXPECT_EQ(r[kind], mr[kind]) << kind;
    }
    EXPECT_EQ(r["Total pages"], mr["Total pages"]);
    EXPECT_EQ(r["Original pages"], ram_pages_);
    EXPECT_TRUE(mr["Original pages"] == orig_floor || mr["Original pages"] == orig_ceil)
        << "makedumpfile's Original pages " << mr["Original pages"] << ", per-PT_LOAD sums " << orig_floor << "/"
        << orig_ceil;
    EXPECT_EQ(r["Original pages"] - r["Excluded pages"], r["Remaining pages"]);
    EXPECT_EQ(r["Original pages"] + r["Memory Hole"], r["Total pages"]);
    check_counters(level, r);

    if (level == kDumpLevelMax) {
      auto p = run_command("/usr/bin/python3 " + quote(VMCOLLECT_JUDGE) + " pages " + quote(ours) + " " +
                           quote(vmcore_) + " 2>&1");
      EXPECT_EQ(p.rc, 0) << p.out;
      std::printf("  libkdumpfile: %s", p.out.c_str());
    }
    fs::remove(ours);
    std::printf("  -d %2d: %6llu pfns dumped (zero %llu cache %llu+%llu user %llu free %llu); makedumpfile: %s; "
                "%.1f s + %.1f s\n",
                level, static_cast<unsigned long long>(d.count_a),
                static_cast<unsigned long long>(r["Pages filled with zero"]),
                static_cast<unsigned long long>(r["Non-private cache pages"]),
                static_cast<unsigned long long>(r["Private cache pages"]),
                static_cast<unsigned long long>(r["User process data pages"]),
                static_cast<unsigned long long>(r["Free pages"]),
                d.only_a.empty() && d.only_b.empty()
                    ? "same set"
                    : (std::to_string(d.only_a.size()) + " only ours, " + std::to_string(d.only_b.size()) +
                       " only its")
                          .c_str(),
                o.seconds, m.seconds);
    std::fflush(stdout);
  }
  std::printf("  total: vmcollect %.1f s, makedumpfile %.1f s\n", ours_s, mdf_s);
}

// --mem-usage against makedumpfile's on the same vmcore. makedumpfile refuses
// to run unless this machine has a crashkernel reservation in /proc/iomem:
// it runs in a private mount namespace with the dead kernel's iomem over it.
TEST_F(LevelsVm, MemUsageAgainstMakedumpfile) {
  auto o = run_command(std::string(VMCOLLECT_BINARY) + " --mem-usage " + quote(vmcore_) + " 2>" +
                       quote(tmp_ + "/stderr"));
  ASSERT_EQ(o.rc, 0) << stderr_text();
  std::printf("%s", o.out.c_str());
  auto ours = parse_mem_usage(o.out);
  ASSERT_TRUE(ours.count("KERN_DATA")) << o.out;
  EXPECT_EQ(ours["Total pages on system"], ram_pages_);
  EXPECT_EQ(ours["Total size on system"], ram_pages_ * memory_->page_size());
  EXPECT_EQ(ours["page size"], memory_->page_size());
  uint64_t sum = 0;
  for (const char* k : {"ZERO", "NON_PRI_CACHE", "PRI_CACHE", "USER", "FREE", "KERN_DATA"}) sum += ours[k];
  EXPECT_EQ(sum, ram_pages_);
  std::map<std::string, uint64_t> r{{"Free pages", ours["FREE"]},
                                    {"User process data pages", ours["USER"]},
                                    {"Non-private cache pages", ours["NON_PRI_CACHE"]},
                                    {"Private cache pages", ours["PRI_CACHE"]}};
  check_counters(kDumpLevelMax, r);

  std::string cmd = "unshare -m sh -c " +
                    quote("mount --bind " + quote(dir_ + "/pre-panic/iomem") +
                          " /proc/iomem && exec makedumpfile --mem-usage " + quote(vmcore_)) +
                    " 2>" + quote(tmp_ + "/stderr");
  auto m = run_command(cmd);
  if (m.rc != 0 && std::getenv("CI") == nullptr && ::geteuid() != 0) {
    GTEST_SKIP() << "makedumpfile --mem-usage needs root here (a mount namespace): " << stderr_text();
  }
  ASSERT_EQ(m.rc, 0) << cmd << "\n" << stderr_text() << m.out;
  auto mdf = parse_mem_usage(m.out);
  ASSERT_TRUE(mdf.count("KERN_DATA")) << m.out;
  bool exact = known_to_makedumpfile();
  for (const char* k : {"ZERO", "NON_PRI_CACHE", "PRI_CACHE", "USER", "FREE", "page size"}) {
    if (!exact && std::string(k) == "USER") continue;
    if (!exact && std::string(k) == "ZERO") {  // as in the dump-level test
      EXPECT_LE(abs_diff(ours[k], mdf[k]), abs_diff(ours["USER"], mdf["USER"])) << k;
      continue;
    }
    EXPECT_EQ(ours[k], mdf[k]) << k;
  }
  // Its totals count per PT_LOAD (see the report test): KERN_DATA is off by
  // exactly the pages it counts twice or in part.
  auto [orig_floor, orig_ceil] = makedumpfile_original();
  uint64_t total = mdf["Total pages on system"];
  EXPECT_TRUE(total == orig_floor || total == orig_ceil) << total;
  if (exact) {
    EXPECT_EQ(mdf["KERN_DATA"] - ours["KERN_DATA"], total - ram_pages_);
  }
  std::printf("makedumpfile --mem-usage: ZERO %llu NON_PRI_CACHE %llu PRI_CACHE %llu USER %llu FREE %llu "
              "KERN_DATA %llu, total %llu (%llu pages more than the dump's RAM: PT_LOAD aliases and part pages)\n",
              static_cast<unsigned long long>(mdf["ZERO"]), static_cast<unsigned long long>(mdf["NON_PRI_CACHE"]),
              static_cast<unsigned long long>(mdf["PRI_CACHE"]), static_cast<unsigned long long>(mdf["USER"]),
              static_cast<unsigned long long>(mdf["FREE"]), static_cast<unsigned long long>(mdf["KERN_DATA"]),
              static_cast<unsigned long long>(total), static_cast<unsigned long long>(total - ram_pages_));
}

}  // namespace
}  // namespace vmc::testing
