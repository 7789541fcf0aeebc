// The page filter over synthetic dumps in the layouts of kernels 3.10 to 7.1:
// every kind of page at every dump level, blocks that straddle the engine's
// ranges, damaged and random struct pages, unreadable mem_map, and VMCOREINFO
// entries missing.
#include <gtest/gtest.h>

#include <algorithm>
#include <cstring>
#include <map>
#include <thread>

#include "formats/elf_core_reader.h"
#include "tests/vmcoreinfo/pages/filter_test_util.h"
#include "vmcoreinfo/pages/page_classify.h"

namespace vmc::testing {
namespace {

enum class Kind { kKeep, kCache, kCachePrivate, kUser, kFree, kHwpoison, kOffline };

struct Expect {
  uint64_t pfn, count;
  Kind kind;
};

std::optional<ExcludeReason> expected_reason(Kind k, int level) {
  switch (k) {
    case Kind::kKeep: return std::nullopt;
    case Kind::kCache:
      return (level & (kDumpLevelCache | kDumpLevelCachePrivate)) ? std::optional(ExcludeReason::kCache) : std::nullopt;
    case Kind::kCachePrivate:
      return (level & kDumpLevelCachePrivate) ? std::optional(ExcludeReason::kCachePrivate) : std::nullopt;
    case Kind::kUser: return (level & kDumpLevelUser) ? std::optional(ExcludeReason::kUser) : std::nullopt;
    case Kind::kFree: return (level & kDumpLevelFree) ? std::optional(ExcludeReason::kFree) : std::nullopt;
    case Kind::kHwpoison: return ExcludeReason::kHwpoison;
    case Kind::kOffline: return ExcludeReason::kOffline;
  }
  return std::nullopt;
}

// One of each kind of page, written the way the spec's kernel writes it.
std::vector<Expect> populate(KernelLayoutBuilder& b) {
  using C = KernelLayoutBuilder::Compound;
  const KernelSpec& k = b.spec();
  std::vector<Expect> e;
  auto add = [&](uint64_t pfn, uint64_t n, Kind kind) { e.push_back({pfn, n, kind}); };
  b.anon(0x1000), add(0x1000, 1, Kind::kUser);
  b.file_cache(0x1001), add(0x1001, 1, Kind::kCache);
  b.file_cache(0x1002, true), add(0x1002, 1, Kind::kCachePrivate);
  b.swap_cache(0x1003), add(0x1003, 1, Kind::kCache);
  b.owner_priv_only(0x1004), add(0x1004, 1, Kind::kKeep);
  b.slab(0x1005), add(0x1005, 1, Kind::kKeep);
  b.page_table(0x1006), add(0x1006, 1, Kind::kKeep);
  b.hwpoison(0x1007), add(0x1007, 1, Kind::kHwpoison);
  if (k.offline) b.offline(0x1008), add(0x1008, 1, Kind::kOffline);
  b.reserved(0x1009), add(0x1009, 1, Kind::kKeep);
  b.in_use(0x100a), add(0x100a, 1, Kind::kKeep);
  b.free_block(0x1010, 4), add(0x1010, 16, Kind::kFree);
  b.compound(0x1200, 9, C::kAnonThp), add(0x1200, 512, Kind::kUser);
  b.compound(0x1400, 2, C::kFileFolio), add(0x1400, 4, Kind::kCache);
  b.compound(0x1600, 9, C::kHugetlb), add(0x1600, 512, Kind::kUser);
  b.compound(0x1800, 3, C::kSlab), add(0x1800, 8, Kind::kKeep);
  b.free_block(0x2000, 10), add(0x2000, 1024, Kind::kFree);
  if (k.unaccepted_type) b.unaccepted(0x2400), add(0x2400, 1024, Kind::kFree);
  b.free_block(0x3100, 8), add(0x3100, 256, Kind::kFree);
  // A hugetlb page filling section 1: its tails live in other struct-page
  // reads than its head, and most engine ranges start inside it.
  b.compound(0x8000, 15, C::kHugetlb), add(0x8000, 0x8000, Kind::kUser);
  b.free_block(0x17c00, 10), add(0x17c00, 1024, Kind::kFree);  // ends a section
  return e;
}

std::map<uint64_t, Kind> expected_map(const std::vector<Expect>& e) {
  std::map<uint64_t, Kind> m;
  for (const auto& x : e) {
    for (uint64_t p = x.pfn; p < x.pfn + x.count; ++p) m[p] = x.kind;
  }
  return m;
}

std::unique_ptr<PageFilter> make(OpenedDump& d, int level, std::vector<std::string>* warnings = nullptr) {
  auto f = make_page_filter(*d.memory, d.info, level);
  if (!f.ok()) {
    ADD_FAILURE() << f.error().describe();
    return nullptr;
  }
  if (warnings) *warnings = (*f)->warnings();
  return std::move(*f);
}

bool any_warning_names(const std::vector<std::string>& warnings, const std::string& needle) {
  return std::any_of(warnings.begin(), warnings.end(),
                     [&](const std::string& w) { return w.find(needle) != std::string::npos; });
}

// Compares a run with the expectation over all RAM; returns mismatches (first few described).
std::vector<std::string> compare(const FilterRun& r, const PhysicalMemory& m, const std::map<uint64_t, Kind>& want,
                                 int level) {
  std::vector<std::string> bad;
  FilterStats expect_stats;
  for (const auto& range : m.ram()) {
    for (uint64_t p = range.start; p < range.end; ++p) {
      auto it = want.find(p);
      auto reason = it == want.end() ? std::nullopt : expected_reason(it->second, level);
      if (reason) expect_stats[*reason]++;
      if (r.kept(p) == !reason) continue;
      if (bad.size() < 8) {
        std::string want_name = reason ? exclude_reason_name(reason.value_or(ExcludeReason::kZero)) : "kept";
        bad.push_back("pfn " + hex(p) + (r.kept(p) ? " kept" : " excluded") + ", expected " + want_name);
      } else {
        bad.push_back("");
      }
    }
  }
  for (size_t i = 0; i < static_cast<size_t>(ExcludeReason::kCount); ++i) {
    if (r.stats.excluded[i] != expect_stats.excluded[i]) {
      bad.push_back(std::string("count of ") + exclude_reason_name(static_cast<ExcludeReason>(i)) + ": " +
                    std::to_string(r.stats.excluded[i]) + ", expected " + std::to_string(expect_stats.excluded[i]));
    }
  }
  return bad;
}

std::string describe(const std::vector<std::string>& bad) {
  std::string s = std::to_string(bad.size()) + " mismatches:";
  for (const auto& b : bad) {
    if (!b.empty()) s += "\n  " + b;
  }
  return s;
}

// Filters all RAM in slices of `slice` pfns and expects each page's fate at
// `level` from `want`.
void expect_filter_matches(const PageFilter& f, OpenedDump& d, const std::map<uint64_t, Kind>& want, int level,
                           uint64_t slice = 32768) {
  auto bad = compare(run_filter(f, *d.memory, slice), *d.memory, want, level);
  EXPECT_TRUE(bad.empty()) << describe(bad);
}

// One of each kind of page (populate()) in a finished, opened dump, and the
// kind expected at each pfn. The builder lives as long as the dump read from it.
struct PopulatedDump {
  explicit PopulatedDump(const KernelSpec& spec, const MachineSpec& machine = {}) : builder(spec, machine) {
    want = expected_map(populate(builder));
    builder.finish();
    dump = open_built(builder);
  }
  KernelLayoutBuilder builder;
  std::map<uint64_t, Kind> want;
  OpenedDump dump;
};

class FilterPerKernel : public ::testing::TestWithParam<KernelSpec> {};

TEST_P(FilterPerKernel, EveryKindOfPageAtEveryLevel) {
  PopulatedDump populated(GetParam());
  auto& d = populated.dump;
  ASSERT_TRUE(d.memory);
  for (int level : {2, 4, 6, 8, 16, 31, 1}) {
    SCOPED_TRACE("dump level " + std::to_string(level));
    std::vector<std::string> warnings;
    auto f = make(d, level, &warnings);
    ASSERT_TRUE(f);
    for (const auto& w : warnings) {
      EXPECT_NE(w.find("SECTION_SIZE_BITS"), std::string::npos) << "unexpected warning: " << w;
    }
    expect_filter_matches(*f, d, populated.want, level);
  }
}

// The engine cuts the pfn space into ranges filtered in parallel; blocks that
// begin before a range must still be excluded, each page counted once.
TEST_P(FilterPerKernel, AnySlicingGivesTheSameAnswer) {
  PopulatedDump populated(GetParam());
  auto& d = populated.dump;
  auto f = make(d, 31);
  ASSERT_TRUE(f);
  auto whole = run_filter(*f, *d.memory, 0, d.memory->max_pfn(), d.memory->max_pfn());
  EXPECT_TRUE(compare(whole, *d.memory, populated.want, 31).empty());
  for (uint64_t slice : {uint64_t{77}, uint64_t{4099}, uint64_t{32768}}) {
    auto r = run_filter(*f, *d.memory, 0, d.memory->max_pfn(), slice);
    EXPECT_EQ(r.keep, whole.keep) << "slice " << slice;
    EXPECT_EQ(std::memcmp(&r.stats, &whole.stats, sizeof r.stats), 0) << "slice " << slice;
  }
  // Page by page across the interesting part.
  auto part = run_filter(*f, *d.memory, 0xf00, 0x3300, 0x3300 - 0xf00);
  auto single = run_filter(*f, *d.memory, 0xf00, 0x3300, 1);
  EXPECT_EQ(single.keep, part.keep);
  // A range that starts deep inside the section-sized hugetlb page.
  auto inside = run_filter(*f, *d.memory, 0xc123, 0xc200, 0xdd);
  for (uint64_t p = 0xc123; p < 0xc200; ++p) EXPECT_FALSE(inside.kept(p)) << hex(p);
  EXPECT_EQ(inside.stats[ExcludeReason::kUser], 0xc200u - 0xc123);
}

INSTANTIATE_TEST_SUITE_P(Kernels, FilterPerKernel, ::testing::ValuesIn(all_kernel_specs()),
                         [](const auto& p) { return p.param.name; });

TEST(PageFilter, VmemmapMappedWith4KPages) {
  MachineSpec m;
  m.vmemmap_4k = true;
  PopulatedDump populated(debian_6_12(), m);
  auto f = make(populated.dump, 31);
  ASSERT_TRUE(f);
  expect_filter_matches(*f, populated.dump, populated.want, 31);
}

// The engine filters disjoint ranges from several threads at once.
TEST(PageFilter, ConcurrentRangesGiveTheSameAnswer) {
  PopulatedDump populated(debian_6_12());
  auto& d = populated.dump;
  auto f = make(d, 31);
  ASSERT_TRUE(f);
  auto serial = run_filter(*f, *d.memory, 4096);
  uint64_t max_pfn = d.memory->max_pfn(), slice = 4096;
  std::vector<uint64_t> keep((max_pfn + 63) / 64, 0);
  d.memory->available(0, max_pfn, keep);
  constexpr int kThreads = 4;
  std::vector<FilterStats> stats(kThreads);
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&, t] {
      for (uint64_t s = static_cast<uint64_t>(t) * slice; s < max_pfn; s += kThreads * slice) {
        uint64_t e = std::min(max_pfn, s + slice);
        f->filter(s, e, std::span(keep).subspan(s / 64, (e - s + 63) / 64), stats[static_cast<size_t>(t)]);
      }
    });
  }
  for (auto& th : threads) th.join();
  FilterStats total;
  for (const auto& st : stats) total.merge(st);
  EXPECT_EQ(keep, serial.keep);
  EXPECT_EQ(std::memcmp(&total, &serial.stats, sizeof total), 0);
  EXPECT_TRUE(compare(serial, *d.memory, populated.want, 31).empty());
}

// ---- Damaged struct pages ---------------------------------------------------

class Garbage : public ::testing::TestWithParam<KernelSpec> {};

TEST_P(Garbage, ImpossibleBlocksAreNotTrusted) {
  using C = KernelLayoutBuilder::Compound;
  MachineSpec m;
  // A RAM hole at pfns 0x13f00..0x140ff.
  m.ram = {{0x1000, 0x9f000}, {0x100000, 0x13f00000}, {0x14100000, 0x20000000}};
  KernelLayoutBuilder b(GetParam(), m);
  const KernelSpec& k = b.spec();
  auto e = populate(b);
  auto buddy_with = [&](uint64_t pfn, uint64_t order) {
    b.in_use(pfn);
    b.set_u32(pfn, k.off_mapcount, static_cast<uint32_t>(k.buddy));
    b.set_u64(pfn, k.off_private, order);
  };
  buddy_with(0x4000, 52), e.push_back({0x4000, 1, Kind::kKeep});            // order way out of range
  buddy_with(0x4800, k.free_orders), e.push_back({0x4800, 1, Kind::kKeep});  // one past the last order
  buddy_with(0x4c01, 3), e.push_back({0x4c01, 1, Kind::kKeep});             // not aligned to its order
  buddy_with(0x13c00, 10), e.push_back({0x13c00, 1, Kind::kKeep});            // runs into the RAM hole
  // An anonymous head whose first tail does not point back: the head alone.
  b.compound(0x5000, 9, C::kAnonThp);
  b.set_u64(0x5001, k.off_compound_head.value_or(k.off_private), 0x1234);
  e.push_back({0x5000, 1, Kind::kUser});
  // An order no x86_64 compound page has, properly linked: the head alone.
  b.compound(0x6000, 9, C::kAnonThp);
  if (k.order == KernelSpec::Order::kFlags1) {
    b.set_u64(0x6001, k.off_flags, 40);
  } else if (k.order == KernelSpec::Order::kLruPrev) {
    b.set_u64(0x6001, k.off_lru + 8, 40);
  } else if (k.order == KernelSpec::Order::kFolioFields) {
    b.set_width(0x6001, k.off_folio_order - 64, 1, 40);
  } else {
    b.set_width(0x6001, k.off_compound_order, k.compound_width, 40);
  }
  e.push_back({0x6000, 1, Kind::kUser});
  // A compound head whose order would run into the hole: the head alone.
  b.compound(0x13e00, 8, C::kFileFolio);
  e.push_back({0x13e00, 1, Kind::kCache});
  b.compound(0x13d00, 8, C::kAnonThp);  // a normal one nearby, for contrast
  e.push_back({0x13d00, 256, Kind::kUser});
  if (k.off_compound_head) {
    // A tail pointing at itself (a loop): a tail, so kept.
    b.anon(0x7000);
    b.set_u64(0x7000, *k.off_compound_head, b.struct_page_vaddr(0x7000) | 1);
    e.push_back({0x7000, 1, Kind::kKeep});
  }
  auto want = expected_map(e);
  // Written as order 8; claim 9: [0x13e00, 0x14000) crosses the hole.
  if (k.order == KernelSpec::Order::kCompoundFields) b.set_width(0x13e01, k.off_compound_order, k.compound_width, 9);
  if (k.order == KernelSpec::Order::kFlags1) b.set_u64(0x13e01, k.off_flags, 9);
  if (k.order == KernelSpec::Order::kLruPrev) b.set_u64(0x13e01, k.off_lru + 8, 9);
  if (k.order == KernelSpec::Order::kFolioFields) b.set_width(0x13e01, k.off_folio_order - 64, 1, 9);
  b.finish();
  auto d = open_built(b);
  auto f = make(d, 31);
  ASSERT_TRUE(f);
  expect_filter_matches(*f, d, want, 31, 1000);
}

TEST_P(Garbage, RandomStructPagesNeverCrashAndStayLocal) {
  KernelLayoutBuilder b(GetParam());
  auto want = expected_map(populate(b));
  const KernelSpec& k = b.spec();
  // Section 2 (pfns 0x10000..0x17fff) is noise, except the free block at its end.
  auto noise = random_bytes(0x7c00 * 64, 42);
  for (uint64_t i = 0; i < 0x7c00; ++i) std::memcpy(b.raw(0x10000 + i).data(), noise.data() + i * 64, 64);
  b.finish();
  auto d = open_built(b);
  auto f = make(d, 31);
  ASSERT_TRUE(f);
  auto r = run_filter(*f, *d.memory, 1000);
  EXPECT_EQ(r.keep, run_filter(*f, *d.memory, 32768).keep) << "deterministic under any slicing";
  uint64_t excluded = 0;
  for (const auto& range : d.memory->ram()) {
    for (uint64_t p = range.start; p < range.end; ++p) {
      bool noisy = p >= 0x10000 && p < 0x17c00;
      if (!noisy) {
        auto it = want.find(p);
        bool keep = it == want.end() || !expected_reason(it->second, 31);
        EXPECT_EQ(r.kept(p), keep) << hex(p);
        continue;
      }
      if (r.kept(p)) continue;
      ++excluded;
      // Random words never link a tail to its head or hit a 32-bit type
      // value, so whatever is left out must be provable from its own words.
      uint64_t flags, mapping;
      std::memcpy(&flags, b.raw(p).data() + k.off_flags, 8);
      std::memcpy(&mapping, b.raw(p).data() + k.off_mapping, 8);
      uint64_t own = (uint64_t{1} << k.pg_lru) | (uint64_t{1} << k.pg_hwpoison) | (uint64_t{1} << k.pg_swapcache);
      EXPECT_TRUE((mapping & 1) || (flags & own)) << "pfn " << hex(p) << " excluded without a reason of its own";
    }
  }
  EXPECT_GT(excluded, 0u) << "random odd mappings look anonymous";
}

INSTANTIATE_TEST_SUITE_P(Kernels, Garbage, ::testing::Values(rhel7_3_10(), debian_6_1(), debian_6_12(), linux_7_1()),
                         [](const auto& p) { return p.param.name; });

TEST(PageFilter, UnreadableMemMapKeepsItsPages) {
  KernelLayoutBuilder b(debian_6_1());
  auto e = populate(b);
  b.free_block(0x5000, 3);  // its struct page is in the part of mem_map cut off below
  e.push_back({0x5000, 8, Kind::kKeep});
  auto want = expected_map(e);
  b.finish();
  // Section 0's mem_map is the top 2 MiB of RAM, the end of the last
  // segment: cut the file 1 MiB short.
  auto bytes = b.dump().build_elf();
  bytes.resize(bytes.size() - (1 << 20));
  auto m = open_elf_core(io::memory_input("truncated", std::move(bytes)));
  ASSERT_TRUE(m.ok()) << m.error().describe();
  auto info = VmcoreInfo::parse((*m)->metadata().vmcoreinfo);
  ASSERT_TRUE(info.ok());
  auto f = make_page_filter(**m, *info, 31);
  ASSERT_TRUE(f.ok()) << f.error().describe();
  auto r = run_filter(**f, **m);
  for (const auto& [pfn, kind] : want) {
    if (pfn >= 0x1fe00) continue;  // those pages themselves are missing
    auto reason = expected_reason(kind, 31);
    EXPECT_EQ(r.kept(pfn), !reason) << hex(pfn);
  }
}

// ---- Missing VMCOREINFO entries ------------------------------------------------

struct Missing {
  const char* omit;
  KernelSpec spec;
  const char* warning;  // what the warning must name
  std::vector<Kind> lost;  // kinds kept because of it
  bool head_only = false;  // compound pages reduced to their head
};

TEST(PageFilter, MissingEntriesWarnAndKeep) {
  const Missing cases[] = {
      {"NUMBER(PAGE_BUDDY_MAPCOUNT_VALUE)", debian_6_1(), "PAGE_BUDDY_MAPCOUNT_VALUE", {Kind::kFree}},
      {"LENGTH(zone.free_area)", debian_6_12(), "LENGTH(zone.free_area)", {Kind::kFree}},
      {"NUMBER(PG_slab)", debian_6_1(), "PG_slab", {Kind::kFree, Kind::kUser, Kind::kOffline}},
      {"NUMBER(PAGE_SLAB_MAPCOUNT_VALUE)", debian_6_12(), "PAGE_SLAB_MAPCOUNT_VALUE",
       {Kind::kFree, Kind::kUser, Kind::kOffline}},
      {"OFFSET(page.compound_head)", debian_6_1(), "OFFSET(page.compound_head)", {Kind::kUser}, true},
      {"OFFSET(page.mapping)", debian_6_1(), "OFFSET(page.mapping)", {Kind::kUser, Kind::kCache, Kind::kCachePrivate}},
      {"NUMBER(PG_lru)", debian_6_12(), "PG_lru", {Kind::kCache, Kind::kCachePrivate}},
  };
  for (const auto& c : cases) {
    SCOPED_TRACE(std::string(c.omit) + " on " + c.spec.name);
    KernelLayoutBuilder b(c.spec);
    auto e = populate(b);
    for (auto& x : e) {
      if (std::find(c.lost.begin(), c.lost.end(), x.kind) != c.lost.end()) x.kind = Kind::kKeep;
    }
    for (auto& x : e) {
      if (c.head_only && x.kind != Kind::kFree && x.count > 1) x.count = 1;
    }
    auto want = expected_map(e);
    b.omit_vmcoreinfo(c.omit);
    b.finish();
    auto d = open_built(b);
    std::vector<std::string> warnings;
    auto f = make(d, 31, &warnings);
    ASSERT_TRUE(f);
    EXPECT_TRUE(any_warning_names(warnings, c.warning)) << "no warning names " << c.warning;
    expect_filter_matches(*f, d, want, 31);
  }
}

TEST(PageFilter, WithoutHeadMaskCompoundPagesGoHeadOnly) {
  KernelLayoutBuilder b(debian_6_12());
  auto e = populate(b);
  for (auto& x : e) {
    if (x.count > 1 && x.kind != Kind::kFree) x.count = 1;  // heads alone
    // No head, no hugetlb test: makedumpfile's isCompoundHead() gates it too.
    if (x.pfn == 0x1600 || x.pfn == 0x8000) x.kind = Kind::kKeep;
  }
  auto want = expected_map(e);
  b.omit_vmcoreinfo("NUMBER(PG_head_mask)");
  b.finish();
  auto d = open_built(b);
  std::vector<std::string> warnings;
  auto f = make(d, 31, &warnings);
  ASSERT_TRUE(f);
  ASSERT_FALSE(warnings.empty());
  EXPECT_NE(warnings.back().find("PG_head_mask"), std::string::npos) << warnings.back();
  expect_filter_matches(*f, d, want, 31);
}

// A kernel version with no known rules (none, unparsable, older or newer than
// what we know): a warning naming OSRELEASE, and never a page left out that
// the same dump with its real version keeps.
TEST(PageFilter, UnknownKernelVersionWarnsAndNeverDropsMore) {
  // Each case builds a whole synthetic dump: the oldest and the newest layouts.
  const char* releases[] = {nullptr, "OSRELEASE=8.2.0"};
  for (const KernelSpec& spec : {rhel7_3_10(), linux_7_1()}) {
    KernelLayoutBuilder known_b(spec);
    populate(known_b);
    known_b.finish();
    auto known_d = open_built(known_b);
    std::vector<std::string> known_warnings;
    auto known_f = make(known_d, 31, &known_warnings);
    ASSERT_TRUE(known_f);
    for (const auto& w : known_warnings) EXPECT_EQ(w.find("OSRELEASE"), std::string::npos) << spec.name << ": " << w;
    auto known = run_filter(*known_f, *known_d.memory);
    for (const char* release : releases) {
      SCOPED_TRACE(spec.name + " with " + (release ? release : "no OSRELEASE"));
      KernelLayoutBuilder b(spec);
      populate(b);
      b.omit_vmcoreinfo("OSRELEASE");
      if (release) b.extra_vmcoreinfo(release);
      b.finish();
      auto d = open_built(b);
      std::vector<std::string> warnings;
      auto f = make(d, 31, &warnings);
      ASSERT_TRUE(f);
      EXPECT_TRUE(any_warning_names(warnings, "OSRELEASE")) << "no warning names OSRELEASE";
      auto r = run_filter(*f, *d.memory);
      uint64_t more = 0;
      for (const auto& range : d.memory->ram()) {
        for (uint64_t p = range.start; p < range.end; ++p) {
          if (!r.kept(p) && known.kept(p) && more++ < 4) ADD_FAILURE() << hex(p) << " dropped only without the version";
        }
      }
      EXPECT_EQ(more, 0u);
    }
  }
}

// Absurd VMCOREINFO values: an error or a filter that keeps what it cannot
// prove, never a crash or an out-of-bounds read.
TEST(PageFilter, AbsurdVmcoreinfoValues) {
  const std::pair<const char*, const char*> cases[] = {
      {"OFFSET(page.mapping)", "OFFSET(page.mapping)=4000"},
      {"OFFSET(page._mapcount)", "OFFSET(page._mapcount)=62"},
      {"OFFSET(page.compound_head)", "OFFSET(page.compound_head)=57"},
      {"NUMBER(PG_lru)", "NUMBER(PG_lru)=99"},
      {"NUMBER(PG_head_mask)", "NUMBER(PG_head_mask)=3"},
      {"LENGTH(zone.free_area)", "LENGTH(zone.free_area)=200"},
      {"NUMBER(PAGE_BUDDY_MAPCOUNT_VALUE)", "NUMBER(PAGE_BUDDY_MAPCOUNT_VALUE)=99999999999"},
      {"NUMBER(SECTION_SIZE_BITS)", "NUMBER(SECTION_SIZE_BITS)=5"},
      {"NUMBER(MAX_PHYSMEM_BITS)", "NUMBER(MAX_PHYSMEM_BITS)=200"},
      {"SIZE(mem_section)", "SIZE(mem_section)=0"},
      {"SIZE(page)", "SIZE(page)=100000"},
      {"OFFSET(mem_section.section_mem_map)", "OFFSET(mem_section.section_mem_map)=4096"},
      {"LENGTH(mem_section)", "LENGTH(mem_section)=524288"},
  };
  for (const auto& [omit, line] : cases) {
    SCOPED_TRACE(line);
    KernelLayoutBuilder b(debian_6_1());
    populate(b);
    b.omit_vmcoreinfo(omit);
    b.extra_vmcoreinfo(line);
    b.finish();
    auto d = open_built(b);
    auto f = make_page_filter(*d.memory, d.info, 31);
    if (!f.ok()) continue;
    auto r = run_filter(**f, *d.memory, 5000);
    EXPECT_TRUE(r.kept(0x1005)) << "a slab page";
    EXPECT_TRUE(r.kept(0x1006)) << "a page table";
  }
}

// Offsets near 2^64 (the note comes from the dead kernel's memory): offset +
// width used to wrap past the bounds check, and OFFSET(page.flags) =
// 2^64 - 4 crashed with SIGSEGV, OFFSET(mem_section.section_mem_map) read past
// its buffer. Now each is refused with a message naming the entry, and every
// page the filter cannot judge is kept.
TEST(PageFilter, OffsetsNearTwoToThe64AreRefusedByName) {
  const char* kHuge = "18446744073709551612";  // 2^64 - 4
  for (const char* entry : {"page.flags", "page.mapping", "page._mapcount", "page.private", "page.compound_head",
                            "page.compound_order", "page.compound_dtor", "page.lru",
                            "mem_section.section_mem_map"}) {
    std::string name = std::string("OFFSET(") + entry + ")";
    SCOPED_TRACE(name);
    KernelLayoutBuilder b(debian_6_1());
    populate(b);
    b.omit_vmcoreinfo(name);
    b.extra_vmcoreinfo(name + "=" + kHuge);
    b.finish();
    auto d = open_built(b);
    auto f = make_page_filter(*d.memory, d.info, 31);
    if (!f.ok()) {
      EXPECT_NE(f.error().describe().find(entry), std::string::npos) << f.error().describe();
      continue;
    }
    auto r = run_filter(**f, *d.memory, 5000);
    EXPECT_TRUE(r.kept(0x1005)) << "a slab page";
    EXPECT_TRUE(r.kept(0x1006)) << "a page table";
  }
}

TEST(PageFilter, UnusableVmcoreinfoIsAnError) {
  for (const char* omit : {"SIZE(page)", "SYMBOL(mem_section)", "OFFSET(page.flags)"}) {
    KernelLayoutBuilder b(debian_6_1());
    b.omit_vmcoreinfo(omit);
    b.finish();
    auto d = open_built(b);
    auto f = make_page_filter(*d.memory, d.info, 31);
    EXPECT_FALSE(f.ok()) << omit;
  }
}

}  // namespace
}  // namespace vmc::testing
