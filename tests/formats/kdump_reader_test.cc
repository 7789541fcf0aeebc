// The kdump-compressed reader on files from the builder's independent kdump
// writer: every header version and codec, filtered, split, incomplete and
// truncated dumps, corrupt headers and page data, concurrent readers.
#include "formats/kdump_reader.h"

#include <gtest/gtest.h>

#include <thread>

#include "compress/codec.h"
#include "formats/kdump_format.h"
#include "tests/formats/reader_test_util.h"

namespace vmc::testing {
namespace {

constexpr uint64_t kMiB = 1 << 20;

DumpBuilder machine() {
  DumpBuilder b;
  b.add_ram(0x1000, 0x9f000).add_ram(0x100000, 6 * kMiB).add_ram(16 * kMiB, 2 * kMiB);
  b.set_vmcoreinfo("OSRELEASE=6.1.0-test\nPAGESIZE=4096\nCRASHTIME=1700000000\n");
  b.set_prstatus_notes(3);
  for (uint64_t pfn = 1; pfn < 0xa0; pfn += 2) b.fill_page(pfn, PageFill::kText, 1);
  for (uint64_t pfn = 0x100; pfn < 0x700; ++pfn) {
    if (pfn % 5 == 0) continue;  // zero pages
    b.fill_page(pfn, pfn % 3 ? PageFill::kText : PageFill::kRandom, 2);
  }
  for (uint64_t pfn = 0x1000; pfn < 0x1200; pfn += 9) b.fill_page(pfn, PageFill::kRandom, 3);
  return b;
}

Result<std::unique_ptr<PhysicalMemory>> open_bytes(std::vector<std::byte> f) {
  return open_kdump(io::memory_input("test.kdump", std::move(f)));
}

// The builder's memory as a kdump file compressed with `codec_flag`, all other
// options left at their defaults, opened.
Result<std::unique_ptr<PhysicalMemory>> open_with_codec(const DumpBuilder& b, uint32_t codec_flag) {
  KdumpBuildOptions o;
  o.codec_flag = codec_flag;
  return open_bytes(build_kdump(b, o));
}

// Where the page descriptor table of a built file starts (4 KiB blocks).
uint64_t descriptor_table_offset(const std::vector<std::byte>& f) {
  auto h = load<kdump::DiskDumpHeader>(f.data());
  return (1 + static_cast<uint64_t>(h.sub_hdr_size.get()) + h.bitmap_blocks) * 4096;
}

std::vector<std::byte> zlib_file(const DumpBuilder& b) {
  KdumpBuildOptions o;
  o.codec_flag = kdump::kCompressedZlib;
  return build_kdump(b, o);
}

std::vector<PfnRange> expected_ram() { return {{1, 0xa0}, {0x100, 0x700}, {0x1000, 0x1200}}; }

struct Variant {
  int version;
  uint32_t codec;
};

std::string variant_name(const ::testing::TestParamInfo<Variant>& p) {
  static const char* kNames[] = {"raw", "zlib", "lzo", "?", "snappy"};
  std::string codec = p.param.codec == kdump::kCompressedZstd ? "zstd" : kNames[p.param.codec];
  return "v" + std::to_string(p.param.version) + "_" + codec;
}

class KdumpVersions : public ::testing::TestWithParam<Variant> {};

TEST_P(KdumpVersions, ReadsEveryPageAndTheMetadataTheVersionCarries) {
  DumpBuilder b = machine();
  KdumpBuildOptions o;
  o.header_version = GetParam().version;
  o.codec_flag = GetParam().codec;
  o.phys_base = 0x3c000000;
  o.dump_level = 1;
  o.eraseinfo = {std::byte{'e'}, std::byte{'r'}};
  auto m = open_bytes(build_kdump(b, o));
  ASSERT_TRUE(m.ok()) << describe(m);
  const auto& md = (*m)->metadata();
  int v = GetParam().version;
  EXPECT_EQ(md.format, "kdump");
  EXPECT_EQ(md.page_size, 4096u);
  EXPECT_EQ((*m)->ram(), expected_ram());
  EXPECT_EQ((*m)->max_pfn(), 0x1200u);
  EXPECT_EQ(md.dump_level, 1);
  EXPECT_EQ(md.phys_base, 0x3c000000u);
  EXPECT_EQ(md.utsname_release, "6.1.0-synthetic");
  EXPECT_EQ(md.utsname_machine, "x86_64");
  EXPECT_EQ(md.timestamp_sec, 1700000000);
  EXPECT_EQ(md.nr_cpus, 3);
  EXPECT_FALSE(md.incomplete);
  EXPECT_EQ(md.vmcoreinfo, v >= 3 ? b.vmcoreinfo() : "");
  EXPECT_EQ(md.notes, v >= 4 ? b.notes() : std::vector<std::byte>{});
  EXPECT_EQ(md.eraseinfo.size(), v >= 5 ? 2u : 0u);
  ASSERT_EQ(md.segments.size(), 3u);
  EXPECT_EQ(md.segments[1].paddr, 0x100000u);
  EXPECT_EQ(md.segments[1].size, 6 * kMiB);
  EXPECT_EQ(expect_pages_match(**m, b), 0x9fu + 0x600u + 0x200u);
  EXPECT_EQ(expect_pages_match(**m, b, 1), 0x9fu + 0x600u + 0x200u);
}

INSTANTIATE_TEST_SUITE_P(
    AllVersionsAndCodecs, KdumpVersions,
    ::testing::Values(Variant{1, 0}, Variant{2, kdump::kCompressedZlib},
                      Variant{3, kdump::kCompressedLzo}, Variant{4, kdump::kCompressedSnappy},
                      Variant{5, kdump::kCompressedZstd}, Variant{6, 0},
                      Variant{6, kdump::kCompressedZlib}, Variant{6, kdump::kCompressedLzo},
                      Variant{6, kdump::kCompressedSnappy}, Variant{6, kdump::kCompressedZstd},
                      Variant{1, kdump::kCompressedZstd}, Variant{3, kdump::kCompressedZlib}),
    variant_name);

TEST(KdumpReader, VmcoreinfoStoredOutsideTheNotesWins) {
  DumpBuilder b = machine();
  KdumpBuildOptions o;
  o.vmcoreinfo_separate = true;
  auto m = open_bytes(build_kdump(b, o));
  ASSERT_TRUE(m.ok()) << describe(m);
  EXPECT_EQ((*m)->metadata().vmcoreinfo, b.vmcoreinfo());
}

// A zlib kdump of b's RAM that leaves out every pfn with pfn % 7 == 3 or
// pfn % 64 == 5 (pfns 0x105 and 0x106 among them).
KdumpBuildOptions filtered_zlib(const DumpBuilder& b) {
  KdumpBuildOptions o;
  o.codec_flag = kdump::kCompressedZlib;
  o.dumped.emplace();
  for (auto [s, e] : b.ram_pfn_ranges()) {
    for (uint64_t pfn = s; pfn < e; ++pfn) {
      if (pfn % 7 != 3 && pfn % 64 != 5) o.dumped->insert(pfn);
    }
  }
  return o;
}

TEST(KdumpReader, FilteredDumpServesOnlyDumpedPages) {
  DumpBuilder b = machine();
  KdumpBuildOptions o = filtered_zlib(b);
  auto m = open_bytes(build_kdump(b, o));
  ASSERT_TRUE(m.ok()) << describe(m);
  EXPECT_EQ((*m)->ram(), expected_ram());  // the 1st bitmap still has every RAM pfn
  auto bits = available_bits(**m, 0, 0x1200);
  for (uint64_t pfn = 0; pfn < 0x1200; ++pfn) {
    ASSERT_EQ(bit(bits, pfn), o.dumped->count(pfn) == 1) << std::hex << pfn;
  }
  EXPECT_EQ(expect_pages_match(**m, b), o.dumped->size());
  auto excluded = (*m)->pages(0x106, 1);
  ASSERT_FALSE(excluded.ok());
  EXPECT_NE(excluded.error().describe().find("pfn 0x106 is not in the dump"), std::string::npos)
      << describe(excluded);
  EXPECT_FALSE((*m)->pages(0x100, 8).ok());   // a run through an excluded page
  EXPECT_FALSE((*m)->pages(0x1200, 1).ok());  // beyond max_mapnr
}

TEST(KdumpReader, PrefixCountsWorkAcrossManyGroups) {
  // 16 GiB of RAM: 4M pfns, 128 prefix groups; a sparse dumped set.
  DumpBuilder b;
  b.add_ram(0, uint64_t{16} << 30);
  KdumpBuildOptions o;
  o.codec_flag = kdump::kCompressedLzo;
  o.dumped.emplace();
  for (uint64_t pfn = 0; pfn < (uint64_t{4} << 20); pfn += 97 + pfn % 13) {
    o.dumped->insert(pfn);
    if (pfn % 3 == 0) b.fill_page(pfn, PageFill::kText, 4);
  }
  auto m = open_bytes(build_kdump(b, o));
  ASSERT_TRUE(m.ok()) << describe(m);
  // Backwards, so the prefix table is built in one go and then reused.
  std::vector<uint64_t> pfns(o.dumped->rbegin(), o.dumped->rend());
  for (size_t i = 0; i < pfns.size(); i += 37) {
    auto v = (*m)->pages(pfns[i], 1);
    ASSERT_TRUE(v.ok()) << describe(v);
    ASSERT_EQ(std::memcmp(v->data(), b.page(pfns[i]).data(), 4096), 0) << pfns[i];
  }
  auto bits = available_bits(**m, 1 << 21, (1 << 21) + 100000);
  uint64_t n = 0;
  for (uint64_t w : bits) n += static_cast<uint64_t>(std::popcount(w));
  uint64_t want = 0;
  for (uint64_t pfn : *o.dumped) want += pfn >= (1 << 21) && pfn < (1 << 21) + 100000;
  EXPECT_EQ(n, want);
}

TEST(KdumpReader, ZeroPagesStoredSeparatelyOrShared) {
  for (bool share : {true, false}) {
    DumpBuilder b = machine();
    KdumpBuildOptions o;
    o.codec_flag = kdump::kCompressedSnappy;
    o.share_zero_pages = share;
    auto m = open_bytes(build_kdump(b, o));
    ASSERT_TRUE(m.ok()) << describe(m);
    EXPECT_EQ(expect_pages_match(**m, b), 0x9fu + 0x600u + 0x200u) << share;
  }
}

TEST(KdumpReader, DiskdumpSignatureWithoutSubHeader) {
  DumpBuilder b = machine();
  KdumpBuildOptions o;
  o.diskdump_signature = true;
  o.header_version = 0;
  o.codec_flag = kdump::kCompressedZlib;
  auto m = open_bytes(build_kdump(b, o));
  ASSERT_TRUE(m.ok()) << describe(m);
  EXPECT_EQ((*m)->ram(), expected_ram());
  EXPECT_FALSE((*m)->metadata().dump_level.has_value());
  EXPECT_EQ(expect_pages_match(**m, b), 0x9fu + 0x600u + 0x200u);
}

TEST(KdumpReader, SplitFileHoldsOnlyItsRange) {
  DumpBuilder b = machine();
  for (int v : {5, 6}) {
    KdumpBuildOptions o;
    o.header_version = v;
    o.codec_flag = kdump::kCompressedZlib;
    o.split = {{0x300, 0x1100}};
    auto m = open_bytes(build_kdump(b, o));
    ASSERT_TRUE(m.ok()) << describe(m);
    auto bits = available_bits(**m, 0, 0x1200);
    EXPECT_FALSE(bit(bits, 0x2ff));
    EXPECT_TRUE(bit(bits, 0x300));
    EXPECT_TRUE(bit(bits, 0x10ff));
    EXPECT_FALSE(bit(bits, 0x1100));
    EXPECT_EQ(expect_pages_match(**m, b), 0x400u + 0x100u);
    EXPECT_FALSE((*m)->pages(0x2ff, 1).ok());
  }
}

// Pages whose descriptor or data is missing stay available, and reading them
// fails naming the pfn: the engine then reports them unreadable and marks its
// output incomplete. (They used to be dropped from available(), so a cut dump
// was re-filtered as if those pages had been excluded, with exit status 0.)
TEST(KdumpReader, IncompleteDumpReportsPagesWithoutDescriptorsUnreadable) {
  DumpBuilder b = machine();
  KdumpBuildOptions o;
  o.codec_flag = kdump::kCompressedZstd;
  o.incomplete = true;
  o.missing_tail_descriptors = 0x150;  // the last 0x150 dumped pages: 0x10b0-0x11ff
  auto m = open_bytes(build_kdump(b, o));
  ASSERT_TRUE(m.ok()) << describe(m);
  EXPECT_TRUE((*m)->metadata().incomplete);
  EXPECT_FALSE((*m)->metadata().warnings.empty());
  auto bits = available_bits(**m, 0, 0x1200);
  EXPECT_TRUE(bit(bits, 0x10af));
  EXPECT_TRUE(bit(bits, 0x10b0));
  EXPECT_TRUE(bit(bits, 0x11ff));
  EXPECT_EQ(unreadable_ranges(**m, b, 0, 0x1200), (std::vector<PfnRange>{{0x10b0, 0x1200}}));
  auto gone = (*m)->pages(0x10b0, 1);
  ASSERT_FALSE(gone.ok());
  EXPECT_NE(gone.error().describe().find("pfn 0x10b0"), std::string::npos) << describe(gone);
  EXPECT_NE(gone.error().describe().find("incomplete"), std::string::npos) << describe(gone);
}

TEST(KdumpReader, TruncatedPageDataMakesThosePagesUnreadable) {
  DumpBuilder b = machine();
  KdumpBuildOptions o;
  o.codec_flag = 0;  // raw and unshared: page data is the tail of the file, page by page
  o.share_zero_pages = false;
  auto f = build_kdump(b, o);
  f.resize(f.size() - 10 * 4096 - 100);  // the last 11 pages lose data
  auto m = open_bytes(f);
  ASSERT_TRUE(m.ok()) << describe(m);
  auto bits = available_bits(**m, 0x1000, 0x1200);
  EXPECT_TRUE(bit(bits, 0x1200 - 11 - 0x1000));
  auto gone = (*m)->pages(0x11ff, 1);
  ASSERT_FALSE(gone.ok());
  EXPECT_NE(gone.error().describe().find("beyond the end of the file"), std::string::npos);
  EXPECT_EQ(unreadable_ranges(**m, b, 0, 0x1200), (std::vector<PfnRange>{{0x1200 - 11, 0x1200}}));
}

// Cut inside the descriptor table: the pages whose descriptors are gone (and
// all whose data was after the cut) are unreadable, the rest read as before.
TEST(KdumpReader, TruncatedDescriptorTableMakesThosePagesUnreadable) {
  DumpBuilder b = machine();
  auto f = zlib_file(b);
  uint64_t descs = descriptor_table_offset(f);
  f.resize(descs + 0x9f * sizeof(kdump::PageDescriptor) + 5);  // pfns 1-0x9f keep theirs, whole
  auto m = open_bytes(f);
  ASSERT_TRUE(m.ok()) << describe(m);
  EXPECT_EQ(unreadable_ranges(**m, b, 0, 0x1200),
            (std::vector<PfnRange>{{1, 0xa0}, {0x100, 0x700}, {0x1000, 0x1200}}));
  auto gone = (*m)->pages(0x100, 1);
  ASSERT_FALSE(gone.ok());
  EXPECT_NE(gone.error().describe().find("pfn 0x100"), std::string::npos) << describe(gone);
}

// A 2nd bitmap of all ones over a dump with fewer descriptors maps pfns onto
// other pages' descriptors: every page would read wrong. The reader says so
// when it opens and refuses every page, naming the counts.
TEST(KdumpReader, SecondBitmapClaimingMorePagesThanDescriptorsIsReportedNotRead) {
  DumpBuilder b = machine();
  KdumpBuildOptions o;
  o.codec_flag = kdump::kCompressedZlib;
  o.dumped = std::set<uint64_t>{};
  for (uint64_t pfn = 0x100; pfn < 0x200; ++pfn) o.dumped->insert(pfn);
  auto f = build_kdump(b, o);
  auto h = load<kdump::DiskDumpHeader>(f.data());
  uint64_t bitmap2 = (1 + static_cast<uint64_t>(h.sub_hdr_size.get()) + h.bitmap_blocks / 2) * 4096;
  std::memset(f.data() + bitmap2, 0xff, 0x1200 / 8);
  auto m = open_bytes(f);
  ASSERT_TRUE(m.ok()) << describe(m);
  ASSERT_FALSE((*m)->metadata().warnings.empty());
  EXPECT_NE((*m)->metadata().warnings.back().find("2nd bitmap marks 4608 pages dumped"), std::string::npos)
      << (*m)->metadata().warnings.back();
  EXPECT_EQ(unreadable_ranges(**m, b, 0, 0x1200), (std::vector<PfnRange>{{0, 0x1200}}));
}

// A descriptor pointing back into the headers, bitmaps or its own table is
// damaged, not page data.
TEST(KdumpReader, DescriptorPointingIntoTheTableIsRefused) {
  DumpBuilder b = machine();
  auto f = build_kdump(b, {});
  uint64_t descs = descriptor_table_offset(f);
  uint64_t at = descs + 5 * sizeof(kdump::PageDescriptor);  // pfn 6
  auto pd = load<kdump::PageDescriptor>(f.data() + at);
  pd.offset = static_cast<int64_t>(descs);
  std::memcpy(f.data() + at, &pd, sizeof pd);
  auto m = open_bytes(f);
  ASSERT_TRUE(m.ok()) << describe(m);
  auto v = (*m)->pages(6, 1);
  ASSERT_FALSE(v.ok());
  EXPECT_NE(v.error().describe().find("inside the headers, bitmaps or descriptor table"), std::string::npos)
      << describe(v);
  EXPECT_EQ(unreadable_ranges(**m, b, 0, 0x1200), (std::vector<PfnRange>{{6, 7}}));
}

TEST(KdumpReader, CorruptHeadersAreRejectedClearly) {
  DumpBuilder b = machine();
  auto good = build_kdump(b, {});
  auto expect_bad = [](const std::vector<std::byte>& f, const std::string& needle) {
    auto m = open_bytes(f);
    ASSERT_FALSE(m.ok()) << needle;
    EXPECT_EQ(m.error().kind(), ErrorKind::kBadInput);
    EXPECT_NE(m.error().describe().find(needle), std::string::npos) << m.error().describe();
  };
  auto with = [&](auto patch) {
    auto f = good;
    auto h = load<kdump::DiskDumpHeader>(f.data());
    auto sub = load<kdump::KdumpSubHeader>(f.data() + 4096);
    patch(h, sub);
    std::memcpy(f.data(), &h, sizeof h);
    std::memcpy(f.data() + 4096, &sub, sizeof sub);
    return f;
  };
  expect_bad(with([](auto& h, auto&) { h.signature[0] = 'X'; }), "no kdump signature");
  expect_bad(std::vector<std::byte>(good.begin(), good.begin() + 100),
             "beyond the end of the file");
  expect_bad(with([](auto& h, auto&) { h.block_size = 3000; }), "block size 3000");
  expect_bad(with([](auto& h, auto&) { h.header_version = 0; }), "header version 0");
  expect_bad(with([](auto& h, auto&) { h.bitmap_blocks = 3; }), "odd bitmap block count");
  expect_bad(with([](auto& h, auto&) { h.bitmap_blocks = 1 << 30; }), "bitmaps");
  expect_bad(with([](auto&, auto& sub) { sub.max_mapnr_64 = uint64_t{1} << 40; }), "max_mapnr");
  expect_bad(with([](auto&, auto& sub) { sub.offset_note = 1ll << 40; }), "ELF notes");
  expect_bad(with([](auto&, auto& sub) { sub.size_vmcoreinfo = uint64_t{1} << 40; }), "VMCOREINFO");
  expect_bad(with([](auto& h, auto&) { h.sub_hdr_size = 0; }), "sub header");
  expect_bad(with([](auto& h, auto&) { h.sub_hdr_size = -4; }), "negative sub header size");
}

TEST(KdumpReader, CorruptPageDataNamesPfnAndCodec) {
  DumpBuilder b = machine();
  auto f = zlib_file(b);
  uint64_t descs = descriptor_table_offset(f);
  // pfn 0x101 is dumped page number 0x9f + 1.
  uint64_t at = descs + (0x9f + 1) * sizeof(kdump::PageDescriptor);
  auto pd = load<kdump::PageDescriptor>(f.data() + at);
  ASSERT_EQ(pd.flags.get(), kdump::kCompressedZlib);
  f[static_cast<size_t>(pd.offset.get()) + 2] ^= std::byte{0xff};
  auto m = open_bytes(f);
  ASSERT_TRUE(m.ok());
  auto v = (*m)->pages(0x100, 4);
  ASSERT_FALSE(v.ok());
  EXPECT_NE(v.error().describe().find("corrupt zlib data"), std::string::npos) << describe(v);
  EXPECT_NE(v.error().describe().find("pfn 0x101"), std::string::npos) << describe(v);
  EXPECT_TRUE((*m)->pages(0x102, 1).ok());
  // A raw page whose size is not a page.
  auto f2 = build_kdump(b, {});
  pd = load<kdump::PageDescriptor>(f2.data() + at);
  pd.size = 100;
  std::memcpy(f2.data() + at, &pd, sizeof pd);
  auto m2 = open_bytes(f2);
  ASSERT_TRUE(m2.ok());
  auto v2 = (*m2)->pages(0x101, 1);
  ASSERT_FALSE(v2.ok());
  EXPECT_NE(v2.error().describe().find("uncompressed page of 100 bytes"), std::string::npos)
      << describe(v2);
}

// From a dump file the engine has pages decoded into its own buffers
// (copy_pages, reading the file rather than mapping it): the same bytes and
// the same refusals as pages().
TEST(KdumpReader, CopyPagesFromAFileDecodesWhatPagesDoes) {
  DumpBuilder b = machine();
  auto f = build_kdump(b, filtered_zlib(b));
  auto m = open_kdump(file_input(f, "copy_pages.kdump"));
  ASSERT_TRUE(m.ok()) << describe(m);
  EXPECT_TRUE((*m)->prefers_copy());
  EXPECT_FALSE(open_bytes(f).value()->prefers_copy());  // in memory: views cost nothing
  // Runs of dumped pages: zero pages (pfn % 5 == 0) among them.
  for (auto [pfn, count] : {std::pair<uint64_t, uint64_t>{0x100, 5}, {0x107, 6}, {0x10e, 3}, {0x1000, 2}, {1, 2}}) {
    expect_copy_matches_pages(**m, pfn, count);
  }
  std::vector<std::byte> two(2 * 4096);
  auto excluded = (*m)->copy_pages(0x104, 2, two);  // 0x105 was left out
  ASSERT_FALSE(excluded.ok());
  EXPECT_NE(excluded.error().describe().find("pfn 0x105 is not in the dump"), std::string::npos)
      << excluded.error().describe();
  EXPECT_FALSE((*m)->copy_pages(0x100, 1, two).ok());  // out is not one page
}

TEST(KdumpReader, ReadPhysicalCrossesPages) {
  DumpBuilder b = machine();
  auto m = open_with_codec(b, kdump::kCompressedLzo);
  ASSERT_TRUE(m.ok());
  for (uint64_t addr : {uint64_t{0x100ff8}, uint64_t{0x123456}, uint64_t{0x6feff0}}) {
    std::vector<std::byte> out(300);
    ASSERT_TRUE((*m)->read_physical(addr, out).ok());
    EXPECT_EQ(out, b.read_physical(addr, out.size())) << addr;
  }
  std::vector<std::byte> out(16);
  EXPECT_FALSE((*m)->read_physical(0x700000, out).ok());  // not RAM
}

TEST(KdumpReader, ConcurrentReadersSeeTheSamePages) {
  DumpBuilder b = machine();
  auto m = open_with_codec(b, kdump::kCompressedZstd);
  ASSERT_TRUE(m.ok());
  std::atomic<int> bad{0};
  auto worker = [&](int t) {
    for (int round = 0; round < 20; ++round) {
      for (uint64_t pfn = 0x100 + t; pfn < 0x700; pfn += 64) {
        auto v = (*m)->pages(pfn, 32);
        if (!v.ok()) {
          ++bad;
          continue;
        }
        for (uint64_t k = 0; k < 32; ++k) {
          if (std::memcmp(v->data() + k * 4096, b.page(pfn + k).data(), 4096) != 0) ++bad;
        }
        std::vector<std::byte> word(8);
        if (!(*m)->read_physical((pfn + 3) * 4096 + 8, word).ok()) ++bad;
      }
    }
  };
  std::thread t1(worker, 0), t2(worker, 32), t3(worker, 16);
  t1.join();
  t2.join();
  t3.join();
  EXPECT_EQ(bad.load(), 0);
}

}  // namespace
}  // namespace vmc::testing
