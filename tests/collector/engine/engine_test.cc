// Engine + writers on a fake memory. The kdump file is decoded here by a
// parser written from the format description (kdump_format.h), and pages are
// decompressed with the codec library; the real judges (libkdumpfile, crash,
// makedumpfile) run in the VM tests.
#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cstdlib>
#include <cstring>

#include "base/bitmap.h"
#include "collector/engine/engine.h"
#include "formats/elf_core_reader.h"
#include "formats/elf_format.h"
#include "formats/flattened_format.h"
#include "formats/kdump_format.h"
#include "formats/kdump_reader.h"
#include "tests/builder/dump_builder.h"
#include "tests/collector/engine/fake_memory.h"

namespace vmc {
namespace {

using compress::CodecKind;
using testing::FakeMemory;

struct Written {
  std::vector<std::byte> file;
  CollectReport report;
};

DumpHeaderInfo header_of(const PhysicalMemory& m, CodecKind codec, int level) {
  DumpHeaderInfo h;
  h.page_size = m.page_size();
  h.max_pfn = m.max_pfn();
  h.codec = codec;
  h.dump_level = level;
  h.release = "6.1.0-test";
  h.timestamp_sec = 1700000000;
  h.segments = m.metadata().segments;
  return h;
}

Written run(PhysicalMemory& m, CodecKind codec, int level, int threads, bool elf = false,
            io::FaultPlan faults = {}, const std::atomic<int>* cancel = nullptr) {
  auto out = io::memory_output();
  io::MemoryOutput& raw = *out;
  auto faulty = io::with_faults(std::unique_ptr<io::OutputFile>(std::move(out)), faults);
  DumpHeaderInfo h = header_of(m, codec, level);
  WriterFactory factory = [&](const DumpPlan& plan) -> Result<std::unique_ptr<DumpWriter>> {
    h.max_dumped_pages = plan.pages;
    h.max_runs = plan.runs;
    return elf ? make_elf_writer(*faulty, h) : make_kdump_writer(*faulty, h);
  };
  CollectOptions o;
  o.codec = codec;
  o.dump_level = level;
  o.threads = threads;
  o.cycle_pfns = 4096;  // several cycles even on small memories
  o.chunk_pages = 100;
  o.cancel = cancel;
  auto report = collect(m, nullptr, factory, o);
  EXPECT_TRUE(report.ok()) << (report.ok() ? "" : report.error().describe());
  return {raw.contents(), report.ok() ? *report : CollectReport{}};
}

struct DecodedKdump {
  kdump::DiskDumpHeader header;
  kdump::KdumpSubHeader sub;
  std::vector<bool> ram, dumped;
  std::map<uint64_t, std::vector<std::byte>> pages;
};

DecodedKdump decode_kdump(const std::vector<std::byte>& f) {
  DecodedKdump d;
  d.header = load<kdump::DiskDumpHeader>(f.data());
  uint32_t block = static_cast<uint32_t>(d.header.block_size.get());
  d.sub = load<kdump::KdumpSubHeader>(f.data() + block);
  uint64_t max_pfn = d.sub.max_mapnr_64;
  uint64_t bitmap_off = (1 + static_cast<uint64_t>(d.header.sub_hdr_size.get())) * block;
  uint64_t half = uint64_t{d.header.bitmap_blocks} * block / 2;
  uint64_t desc_off = bitmap_off + 2 * half;
  auto bit = [&](uint64_t base, uint64_t pfn) {
    return base + pfn / 8 < f.size() && ((static_cast<uint8_t>(f[base + pfn / 8]) >> (pfn % 8)) & 1);
  };
  uint32_t codec_flag = d.header.status & kdump::kCompressionMask;
  CodecKind kind = codec_flag == kdump::kCompressedZlib     ? CodecKind::kZlib
                   : codec_flag == kdump::kCompressedLzo    ? CodecKind::kLzo
                   : codec_flag == kdump::kCompressedSnappy ? CodecKind::kSnappy
                   : codec_flag == kdump::kCompressedZstd   ? CodecKind::kZstd
                                                            : CodecKind::kNone;
  auto codec = compress::make_codec(kind);
  uint64_t index = 0;
  for (uint64_t pfn = 0; pfn < max_pfn; ++pfn) {
    d.ram.push_back(bit(bitmap_off, pfn));
    bool dumped = bit(bitmap_off + half, pfn);
    d.dumped.push_back(dumped);
    if (!dumped) continue;
    auto pd = load<kdump::PageDescriptor>(f.data() + desc_off + 24 * index++);
    std::vector<std::byte> page(block);
    auto src = std::span(f).subspan(static_cast<size_t>(pd.offset.get()), pd.size);
    if (pd.flags != 0) {
      EXPECT_TRUE(codec && codec->decompress(src, page)) << "pfn " << pfn;
    } else {
      EXPECT_EQ(pd.size, block);
      std::memcpy(page.data(), src.data(), block);
    }
    d.pages[pfn] = std::move(page);
  }
  return d;
}

class KdumpRoundTrip : public ::testing::TestWithParam<CodecKind> {};

TEST_P(KdumpRoundTrip, EveryDumpedPageMatchesAndBitmapsAreRight) {
  FakeMemory m({{0, 160}, {256, 9000}});
  for (int level : {0, 1}) {
    auto w = run(m, GetParam(), level, 2);
    auto d = decode_kdump(w.file);
    EXPECT_EQ(std::memcmp(d.header.signature, "KDUMP   ", 8), 0);
    EXPECT_EQ(d.header.header_version.get(), 6);
    EXPECT_EQ(d.header.status & kdump::kIncomplete, 0u);
    EXPECT_EQ(d.sub.max_mapnr_64.get(), 9000u);
    EXPECT_EQ(d.sub.dump_level.get(), level);
    uint64_t dumped = 0, zeros = 0;
    for (uint64_t pfn = 0; pfn < 9000; ++pfn) {
      bool in_ram = pfn < 160 || pfn >= 256;
      ASSERT_EQ(d.ram[pfn], in_ram) << pfn;
      bool zero = FakeMemory::content_of(pfn) == testing::FakeContent::kZero;
      zeros += in_ram && zero;
      bool expect_dumped = in_ram;  // zero pages stay, sharing one stored page
      ASSERT_EQ(d.dumped[pfn], expect_dumped) << "pfn " << pfn << " level " << level;
      if (expect_dumped) {
        ++dumped;
        ASSERT_EQ(d.pages[pfn], m.page_bytes(pfn)) << "pfn " << pfn;
      }
    }
    EXPECT_EQ(w.report.dumped_pages, dumped);
    EXPECT_EQ(w.report.ram_pages, 160u + 9000u - 256u);
    EXPECT_EQ(w.report.memory_hole, 96u);
    EXPECT_EQ(w.report.excluded[ExcludeReason::kZero], level == 1 ? zeros : 0u);
  }
}

TEST_P(KdumpRoundTrip, SameBytesAtAnyThreadCount) {
  FakeMemory m({{0, 5000}});
  auto one = run(m, GetParam(), 1, 1).file;
  EXPECT_EQ(run(m, GetParam(), 1, 2).file, one);
  EXPECT_EQ(run(m, GetParam(), 1, 8).file, one);
}

TEST_P(KdumpRoundTrip, SameBytesWhetherPagesAreMappedOrCopied) {
  FakeMemory m({{0, 100}, {130, 3000}});
  auto mapped = run(m, GetParam(), 1, 2).file;
  m.set_prefers_copy(true);
  EXPECT_EQ(run(m, GetParam(), 1, 1).file, mapped);
  EXPECT_EQ(run(m, GetParam(), 1, 2).file, mapped);
}

INSTANTIATE_TEST_SUITE_P(Codecs, KdumpRoundTrip,
                         ::testing::Values(CodecKind::kNone, CodecKind::kZlib, CodecKind::kLzo,
                                           CodecKind::kSnappy, CodecKind::kZstd),
                         [](const auto& p) { return std::string(compress::codec_name(p.param)); });

TEST(KdumpWriter, ZeroPagesShareOneCopyAtLevelZero) {
  FakeMemory m({{0, 1000}});
  auto w = run(m, CodecKind::kLzo, 0, 1);
  auto h = load<kdump::DiskDumpHeader>(w.file.data());
  auto sub = load<kdump::KdumpSubHeader>(w.file.data() + 4096);
  uint64_t desc_off = (1 + static_cast<uint64_t>(h.sub_hdr_size.get()) + h.bitmap_blocks) * 4096;
  std::set<int64_t> zero_offsets;
  for (uint64_t pfn = 0; pfn < 1000; pfn += 5) {
    zero_offsets.insert(load<kdump::PageDescriptor>(w.file.data() + desc_off + 24 * pfn).offset.get());
  }
  EXPECT_EQ(zero_offsets.size(), 1u);
  (void)sub;
}

TEST(KdumpWriter, FullDiskLeavesADumpMarkedIncompleteWithEarlierPagesIntact) {
  FakeMemory m({{0, 20000}});
  io::FaultPlan plan;
  plan.write_enospc_at = 3 * 1024 * 1024;
  auto w = run(m, CodecKind::kZlib, 1, 2, false, plan);
  ASSERT_TRUE(w.report.incomplete);
  ASSERT_TRUE(w.report.error.has_value());
  EXPECT_EQ(w.report.error->kind(), ErrorKind::kNoSpace);
  EXPECT_NE(w.report.error->describe().find("offset"), std::string::npos);
  auto h = load<kdump::DiskDumpHeader>(w.file.data());
  EXPECT_NE(h.status & kdump::kIncomplete, 0u);
  // Pages whose descriptors landed read back intact.
  auto sub = load<kdump::KdumpSubHeader>(w.file.data() + 4096);
  uint64_t desc_off = (1 + static_cast<uint64_t>(h.sub_hdr_size.get()) + h.bitmap_blocks) * 4096;
  auto codec = compress::make_codec(CodecKind::kZlib);
  uint64_t intact = 0, index = 0;
  for (uint64_t pfn = 0; pfn < 20000; ++pfn) {
    if (desc_off + 24 * (index + 1) > w.file.size()) break;
    auto pd = load<kdump::PageDescriptor>(w.file.data() + desc_off + 24 * index++);
    if (pd.offset.get() == 0) break;
    std::vector<std::byte> page(4096);
    auto src = std::span(w.file).subspan(static_cast<size_t>(pd.offset.get()), pd.size);
    if (pd.flags) ASSERT_TRUE(codec->decompress(src, page));
    else std::memcpy(page.data(), src.data(), 4096);
    ASSERT_EQ(page, m.page_bytes(pfn));
    ++intact;
  }
  EXPECT_GT(intact, 100u);
  (void)sub;
}

// Issue 18 item 5: the planning pass never looked at the flag, so a dump of
// huge max_pfn could not be stopped before its first page.
TEST(Engine, CancelBeforeAnyPageIsAnErrorAndMakesNoWriter) {
  FakeMemory m({{0, 5000}});
  std::atomic<int> cancel{15};
  bool writer_made = false;
  auto out = io::memory_output();
  CollectOptions o;
  o.cycle_pfns = 4096;
  o.cancel = &cancel;
  auto report = collect(m, nullptr, [&](const DumpPlan&) -> Result<std::unique_ptr<DumpWriter>> {
    writer_made = true;
    return make_kdump_writer(*out, header_of(m, CodecKind::kNone, 0));
  }, o);
  ASSERT_FALSE(report.ok());
  EXPECT_EQ(report.error().kind(), ErrorKind::kInterrupted);
  EXPECT_FALSE(writer_made);
}

// A signal during the copy stops at the next cycle, also inside a long hole
// (no chunk there to check the flag before): the dump is marked incomplete.
TEST(Engine, CancelStopsWithAnIncompleteDumpEvenInALongHole) {
  FakeMemory m({{0, 100}, {uint64_t{1} << 24, (uint64_t{1} << 24) + 100}});
  std::atomic<int> cancel{0};
  auto out = io::memory_output();
  DumpHeaderInfo h = header_of(m, CodecKind::kNone, 0);
  CollectOptions o;
  o.cycle_pfns = 4096;
  o.chunk_pages = 100;
  o.cancel = &cancel;
  o.progress = [&](uint64_t, uint64_t) { cancel = 15; };  // after the first chunk
  auto report = collect(m, nullptr, [&](const DumpPlan& plan) -> Result<std::unique_ptr<DumpWriter>> {
    h.max_dumped_pages = plan.pages;
    h.max_runs = plan.runs;
    return make_kdump_writer(*out, h);
  }, o);
  ASSERT_TRUE(report.ok()) << report.error().describe();
  EXPECT_TRUE(report->incomplete);
  EXPECT_EQ(report->dumped_pages, 100u);
  ASSERT_TRUE(report->error);
  EXPECT_EQ(report->error->kind(), ErrorKind::kInterrupted);
  EXPECT_NE(report->error->message().find("before pfn 0x1000"), std::string::npos) << report->error->message();
  auto header = load<kdump::DiskDumpHeader>(out->contents().data());
  EXPECT_NE(header.status & kdump::kIncomplete, 0u);
}

TEST(Engine, UnreadablePagesAreLeftOutNamedAndTheRestIsDumped) {
  for (bool copy : {false, true}) {
    SCOPED_TRACE(copy ? "pages copied" : "pages mapped");
    FakeMemory m({{0, 3000}});
    m.set_prefers_copy(copy);
    for (uint64_t pfn = 1200; pfn < 1210; ++pfn) m.fail_reads(pfn);
    m.fail_reads(2999);
    auto w = run(m, CodecKind::kLzo, 0, 2);
    EXPECT_TRUE(w.report.incomplete);
    ASSERT_EQ(w.report.unreadable.size(), 2u);
    EXPECT_EQ(w.report.unreadable[0], (PfnRange{1200, 1210}));
    EXPECT_EQ(w.report.unreadable[1], (PfnRange{2999, 3000}));
    EXPECT_EQ(w.report.excluded[ExcludeReason::kUnreadable], 11u);
    ASSERT_FALSE(w.report.warnings.empty());
    EXPECT_NE(w.report.warnings[0].find("0x4b0"), std::string::npos) << w.report.warnings[0];
    auto d = decode_kdump(w.file);
    EXPECT_FALSE(d.dumped[1205]);
    EXPECT_TRUE(d.dumped[1199]);
    EXPECT_TRUE(d.dumped[1210]);
    EXPECT_EQ(d.pages[1199], m.page_bytes(1199));
    EXPECT_EQ(d.pages[1211], m.page_bytes(1211));
  }
}

// A kdump input cut in transit (here inside the page data of the last RAM
// range): the pages it lost are reported unreadable with their pfns, the
// output is marked incomplete, and the rest is dumped. They used to vanish
// as if excluded, with the output marked complete.
TEST(Engine, TruncatedKdumpInputGivesAnIncompleteDumpNamingTheLostPages) {
  testing::DumpBuilder b;
  b.add_ram(0, 4 << 20);
  for (uint64_t pfn = 0; pfn < 1024; ++pfn) b.fill_page(pfn, testing::PageFill::kRandom, pfn);
  testing::KdumpBuildOptions o;
  o.share_zero_pages = false;  // raw pages in pfn order: the cut takes the last ones
  auto f = testing::build_kdump(b, o);
  f.resize(f.size() - 100 * 4096 - 10);
  auto m = open_kdump(io::memory_input("cut.kdump", std::move(f)));
  ASSERT_TRUE(m.ok()) << m.error().describe();
  auto w = run(**m, CodecKind::kNone, 0, 2);
  EXPECT_TRUE(w.report.incomplete);
  EXPECT_EQ(w.report.unreadable, (std::vector<PfnRange>{{1024 - 101, 1024}}));
  EXPECT_EQ(w.report.dumped_pages, 1024u - 101u);
  auto h = load<kdump::DiskDumpHeader>(w.file.data());
  EXPECT_NE(h.status & kdump::kIncomplete, 0u);
}

// An ELF dump file that shrinks while it is read: reading the lost pages
// fails, and the page-by-page retry must not map them (touching a mapping
// past the end of a file is SIGBUS); they are reported unreadable.
TEST(Engine, InputFileThatShrinksDuringTheRunGivesUnreadablePagesNotSigbus) {
  testing::DumpBuilder b;
  b.add_ram(0, 4 << 20);
  for (uint64_t pfn = 0; pfn < 1024; ++pfn) b.fill_page(pfn, testing::PageFill::kRandom, pfn);
  char path[] = "/tmp/vmc-shrink-XXXXXX";
  int fd = ::mkstemp(path);
  ASSERT_GE(fd, 0);
  ::close(fd);
  ASSERT_TRUE(b.write_elf(path).ok());
  auto input = io::open_input(path);
  ASSERT_TRUE(input.ok()) << input.error().describe();
  auto m = open_elf_core(std::move(*input));
  ASSERT_TRUE(m.ok()) << m.error().describe();
  struct stat st {};
  ASSERT_EQ(::stat(path, &st), 0);
  ASSERT_EQ(::truncate(path, st.st_size - 200 * 4096), 0);
  auto w = run(**m, CodecKind::kNone, 0, 2);
  EXPECT_TRUE(w.report.incomplete);
  EXPECT_EQ(w.report.unreadable, (std::vector<PfnRange>{{1024 - 200, 1024}}));
  ::unlink(path);
}

struct ElfPages {
  std::map<uint64_t, std::vector<std::byte>> pages;
  size_t loads = 0;
};

ElfPages decode_elf(const std::vector<std::byte>& f) {
  ElfPages out;
  auto eh = load<elf::Ehdr>(f.data());
  EXPECT_EQ(std::memcmp(eh.e_ident, elf::kMagic, 4), 0);
  EXPECT_EQ(eh.e_type.get(), elf::kTypeCore);
  EXPECT_EQ(eh.e_flags.get(), 0u);
  for (uint16_t i = 0; i < eh.e_phnum; ++i) {
    auto ph = load<elf::Phdr>(f.data() + eh.e_phoff + i * sizeof(elf::Phdr));
    if (ph.p_type != elf::kPtLoad) continue;
    ++out.loads;
    EXPECT_EQ(ph.p_filesz.get(), ph.p_memsz.get());
    for (uint64_t k = 0; k < ph.p_filesz / 4096; ++k) {
      auto at = f.begin() + static_cast<long>(ph.p_offset + k * 4096);
      out.pages[ph.p_paddr / 4096 + k] = std::vector<std::byte>(at, at + 4096);
    }
  }
  return out;
}

TEST(ElfWriter, ShortZeroRunsAreWrittenLongOnesBecomeHoles) {
  FakeMemory m({{0, 100}, {200, 1300}});
  m.zero_range(300, 310);   // 11 zero pages inside a run: written
  m.zero_range(500, 756);   // 256 zero pages: a hole
  m.zero_range(900, 1155);  // 255 pages (1155 is zero by pattern too: 256) ...
  m.zero_range(1200, 1455); // ... and here 1455 is zero: 255 + 1 = 256, a hole
  auto w = run(m, CodecKind::kNone, 1, 2, true);
  auto e = decode_elf(w.file);
  for (uint64_t pfn = 0; pfn < 1300; ++pfn) {
    bool ram = pfn < 100 || pfn >= 200;
    bool hole = (pfn >= 500 && pfn < 756) || (pfn >= 900 && pfn < 1156) || pfn >= 1200;
    bool expect = ram && !hole;
    ASSERT_EQ(e.pages.count(pfn) == 1, expect) << "pfn " << pfn;
    if (expect) {
      ASSERT_EQ(e.pages[pfn], m.page_bytes(pfn)) << "pfn " << pfn;
    }
  }
  // [0,100), [200,500), [756,900), [1156,1200); the zero tail 1200.. is left out.
  EXPECT_EQ(e.loads, 4u);
  EXPECT_EQ(e.pages[0], m.page_bytes(0));  // a short zero run at a segment start is kept
}

TEST(ElfWriter, LevelZeroKeepsEveryPage) {
  FakeMemory m({{0, 100}, {200, 300}});
  m.zero_range(210, 290);
  auto e = decode_elf(run(m, CodecKind::kNone, 0, 1, true).file);
  EXPECT_EQ(e.pages.size(), 200u);
  EXPECT_EQ(e.loads, 2u);
}

TEST(Flattened, StreamReplaysIntoTheSameFile) {
  FakeMemory m({{0, 3000}});
  auto direct = run(m, CodecKind::kZstd, 1, 1).file;
  // Flatten through the writer, then replay the records here.
  io::MemoryOutput stream("pipe", /*seekable=*/false);
  auto flat = make_flattened_output(stream);
  DumpHeaderInfo h = header_of(m, CodecKind::kZstd, 1);
  WriterFactory factory = [&](const DumpPlan& plan) -> Result<std::unique_ptr<DumpWriter>> {
    h.max_dumped_pages = plan.pages;
    h.max_runs = plan.runs;
    return make_kdump_writer(*flat, h);
  };
  CollectOptions o;
  o.codec = CodecKind::kZstd;
  o.dump_level = 1;
  o.cycle_pfns = 4096;
  o.chunk_pages = 100;
  ASSERT_TRUE(collect(m, nullptr, factory, o).ok());
  const auto& s = stream.contents();
  ASSERT_EQ(std::memcmp(s.data(), "makedumpfile", 12), 0);
  std::vector<std::byte> rebuilt;
  size_t pos = flat::kFlatHeaderSize;
  for (;;) {
    auto rh = load<flat::FlatRecordHeader>(s.data() + pos);
    pos += sizeof rh;
    if (rh.offset.get() == flat::kEndFlag) break;
    uint64_t off = static_cast<uint64_t>(rh.offset.get()), n = static_cast<uint64_t>(rh.buf_size.get());
    if (rebuilt.size() < off + n) rebuilt.resize(off + n);
    std::memcpy(rebuilt.data() + off, s.data() + pos, n);
    pos += n;
  }
  EXPECT_EQ(pos, s.size());
  EXPECT_EQ(rebuilt, direct);
}

}  // namespace
}  // namespace vmc

namespace vmc {
namespace {

// makedumpfile -R stops at a record of size 0 and then fails on the missing end
// marker: an empty write must produce no record at all.
TEST(Flattened, EmptyWritesEmitNoRecord) {
  io::MemoryOutput stream("pipe", /*seekable=*/false);
  auto flat = make_flattened_output(stream);
  ASSERT_TRUE(flat->write_at(0, {}).ok());
  std::byte one{1};
  ASSERT_TRUE(flat->write_at(8192, std::span(&one, 1)).ok());
  ASSERT_TRUE(flat->write_at(4096, {}).ok());
  ASSERT_TRUE(flat->finish().ok());
  const auto& s = stream.contents();
  ASSERT_EQ(s.size(), flat::kFlatHeaderSize + 16 + 1 + 16);
  auto rh = load<flat::FlatRecordHeader>(s.data() + flat::kFlatHeaderSize);
  EXPECT_EQ(rh.offset.get(), 8192);
  EXPECT_EQ(rh.buf_size.get(), 1);
  auto end = load<flat::FlatRecordHeader>(s.data() + flat::kFlatHeaderSize + 17);
  EXPECT_EQ(end.offset.get(), flat::kEndFlag);
  EXPECT_EQ(end.buf_size.get(), flat::kEndFlag);
}

}  // namespace
}  // namespace vmc
