// Offline work on synthetic dumps (issue 6): --split through the engine,
// --reassemble of our split sets and of the builder's (an independent
// writer), broken sets as errors, the re-filtering level rule and the
// VMCOREINFO note that -i adds. Real dumps: offline_vm_test.sh.
#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>

#include "collector/cli/dump_modes.h"
#include "collector/cli/options.h"
#include "collector/cli/run.h"
#include "collector/engine/engine.h"
#include "formats/elf_core_reader.h"
#include "formats/elf_notes.h"
#include "formats/kdump_reader.h"
#include "formats/kdump_reassemble.h"
#include "formats/open_dump.h"
#include "tests/builder/dump_builder.h"

namespace vmc::testing {
namespace {

constexpr uint64_t kPfns = 0x600;

DumpBuilder machine() {
  DumpBuilder b;
  b.add_ram(0, 2 << 20, 0xffff888000000000ull).add_ram(4 << 20, 2 << 20, 0xffff888000400000ull);
  b.set_vmcoreinfo("OSRELEASE=6.1.0-offline\nPAGESIZE=4096\n").set_prstatus_notes(2);
  for (uint64_t pfn = 0; pfn < kPfns; ++pfn) {
    if (pfn >= 0x200 && pfn < 0x400) continue;
    if (pfn % 5 == 1) continue;  // zero pages
    b.fill_page(pfn, pfn % 3 ? PageFill::kText : PageFill::kRandom, 7);
  }
  return b;
}

std::unique_ptr<PhysicalMemory> open_bytes(std::vector<std::byte> bytes, std::string name = "dump") {
  auto m = open_kdump(io::memory_input(std::move(name), std::move(bytes)));
  EXPECT_TRUE(m.ok()) << (m.ok() ? "" : m.error().describe());
  return m.ok() ? std::move(*m) : nullptr;
}

DumpHeaderInfo header_of(PhysicalMemory& m, compress::CodecKind codec) {
  DumpHeaderInfo h;
  h.max_pfn = m.max_pfn();
  h.codec = codec;
  h.notes = m.metadata().notes;
  h.vmcoreinfo = m.metadata().vmcoreinfo;
  h.release = "6.1.0-offline";
  h.timestamp_sec = 1700000000;
  return h;
}

// One file of a split set (or the whole dump when start == 0, end == max) through the engine.
std::vector<std::byte> write_part(PhysicalMemory& m, compress::CodecKind codec, uint64_t start, uint64_t end,
                                  bool split) {
  auto out = io::memory_output("part");
  DumpHeaderInfo h = header_of(m, codec);
  h.split = split;
  h.split_start = start;
  h.split_end = end;
  WriterFactory f = [&](const DumpPlan& plan) -> Result<std::unique_ptr<DumpWriter>> {
    h.max_dumped_pages = plan.pages;
    return make_kdump_writer(*out, h);
  };
  CollectOptions co;
  co.codec = codec;
  co.cycle_pfns = 256;  // several cycles, so ranges cross cycle edges
  co.write_start = start;
  co.write_end = end;
  auto r = collect(m, nullptr, f, co);
  EXPECT_TRUE(r.ok() && !r->incomplete);
  return out->contents();
}

std::vector<uint64_t> available_pfns(PhysicalMemory& m) {
  std::vector<uint64_t> bits((kPfns + 63) / 64), out;
  m.available(0, kPfns, bits);
  for (uint64_t p = 0; p < kPfns; ++p) {
    if ((bits[p / 64] >> (p % 64)) & 1) out.push_back(p);
  }
  return out;
}

void expect_same_pages(PhysicalMemory& m, const DumpBuilder& b) {
  auto pfns = available_pfns(m);
  EXPECT_EQ(pfns.size(), kPfns - 0x200);
  for (uint64_t p : pfns) {
    auto v = m.pages(p, 1);
    ASSERT_TRUE(v.ok()) << v.error().describe();
    auto want = b.page(p);
    ASSERT_TRUE(std::equal(want.begin(), want.end(), v->data())) << "pfn " << p;
  }
}

Result<std::vector<std::byte>> reassemble(std::vector<std::vector<std::byte>> parts) {
  std::vector<std::unique_ptr<io::InputFile>> in;
  for (size_t i = 0; i < parts.size(); ++i) {
    in.push_back(io::memory_input("part" + std::to_string(i + 1), std::move(parts[i])));
  }
  auto out = io::memory_output("joined");
  auto r = reassemble_kdump(std::move(in), *out);
  if (!r) return std::move(r).error();
  return out->contents();
}

class OfflineSplit : public ::testing::TestWithParam<compress::CodecKind> {};

TEST_P(OfflineSplit, SplitThenReassembleGivesTheWholeDump) {
  DumpBuilder b = machine();
  auto elf = open_elf_core(b.elf_input());
  ASSERT_TRUE(elf.ok());
  PhysicalMemory& m = **elf;
  CollectOptions co;
  co.cycle_pfns = 256;
  auto bounds = split_boundaries(m, nullptr, co, 3);
  ASSERT_EQ(bounds.size(), 4u);
  EXPECT_EQ(bounds.front(), 0u);
  EXPECT_EQ(bounds.back(), kPfns);
  std::vector<std::vector<std::byte>> parts;
  for (size_t k = 0; k < 3; ++k) {
    parts.push_back(write_part(m, GetParam(), bounds[k], bounds[k + 1], true));
    auto part = open_bytes(parts.back(), "part");  // each file is a dump of its range
    ASSERT_TRUE(part);
    auto pfns = available_pfns(*part);
    EXPECT_NEAR(static_cast<double>(pfns.size()), (kPfns - 0x200) / 3.0, 64.0);  // bounds are 64-aligned
    EXPECT_EQ(bounds[k] % 64, 0u);
    for (uint64_t p : pfns) {
      EXPECT_TRUE(p >= bounds[k] && p < bounds[k + 1]);
      auto v = part->pages(p, 1);
      ASSERT_TRUE(v.ok());
    }
  }
  std::swap(parts[0], parts[2]);  // any order
  auto joined = reassemble(parts);
  ASSERT_TRUE(joined.ok()) << joined.error().describe();
  auto whole = open_bytes(*joined);
  ASSERT_TRUE(whole);
  expect_same_pages(*whole, b);
  EXPECT_EQ(whole->metadata().vmcoreinfo, b.vmcoreinfo());
  EXPECT_EQ(whole->metadata().nr_cpus, 2);
}

// --split as the CLI runs it: one writer thread per file, each compressing on
// two threads, all reading the one input at once (the TSan stage of
// tests/run-sanitizers.sh runs this), then the files joined again.
TEST_P(OfflineSplit, RunSplitWritesThePartsInParallel) {
  DumpBuilder b = machine();
  auto elf = open_elf_core(b.elf_input());
  ASSERT_TRUE(elf.ok());
  std::string tmpl = (std::filesystem::temp_directory_path() / "vmcollect-split-XXXXXX").string();
  ASSERT_NE(::mkdtemp(tmpl.data()), nullptr);
  const std::filesystem::path dir = tmpl;
  Options o;
  o.split = true;
  o.codec = GetParam();
  o.num_threads = 6;  // 3 files, 2 threads each
  for (int k = 1; k <= 3; ++k) o.split_outputs.push_back((dir / ("part" + std::to_string(k))).string());
  Messenger quiet(0, false);
  EXPECT_EQ(run_split(o, **elf, nullptr, header_of(**elf, GetParam()), nullptr, quiet), 0);
  std::vector<std::vector<std::byte>> parts;
  for (const auto& path : o.split_outputs) {
    auto in = io::open_input(path);
    ASSERT_TRUE(in.ok()) << in.error().describe();
    std::vector<std::byte> bytes(static_cast<size_t>((*in)->size()));
    ASSERT_TRUE((*in)->read_at(0, bytes).ok());
    parts.push_back(std::move(bytes));
  }
  std::filesystem::remove_all(dir);
  auto joined = reassemble(parts);
  ASSERT_TRUE(joined.ok()) << joined.error().describe();
  auto whole = open_bytes(*joined);
  ASSERT_TRUE(whole);
  expect_same_pages(*whole, b);
}

INSTANTIATE_TEST_SUITE_P(Codecs, OfflineSplit,
                         ::testing::Values(compress::CodecKind::kNone, compress::CodecKind::kZlib,
                                           compress::CodecKind::kLzo, compress::CodecKind::kZstd));

TEST(OfflineReassemble, BuilderSplitSetWithEraseInfo) {
  DumpBuilder b = machine();
  KdumpBuildOptions o;
  o.codec_flag = 0x1;  // zlib, as makedumpfile -c
  o.eraseinfo = {std::byte{'e'}, std::byte{'r'}, std::byte{'a'}, std::byte{'s'}, std::byte{'e'}};
  o.split = {0, 0x450};
  auto a = build_kdump(b, o);
  o.split = {0x450, kPfns};
  auto c = build_kdump(b, o);
  auto joined = reassemble({a, c});
  ASSERT_TRUE(joined.ok()) << joined.error().describe();
  auto whole = open_bytes(*joined);
  ASSERT_TRUE(whole);
  expect_same_pages(*whole, b);
  EXPECT_EQ(whole->metadata().eraseinfo, o.eraseinfo);
}

class BrokenSet : public ::testing::Test {
 protected:
  void SetUp() override {
    KdumpBuildOptions o;
    o.split = {0, 0x300};
    a_ = build_kdump(b_, o);
    o.split = {0x300, kPfns};
    c_ = build_kdump(b_, o);
  }
  void expect_error(std::vector<std::vector<std::byte>> parts, const std::string& says) {
    auto r = reassemble(std::move(parts));
    ASSERT_FALSE(r.ok());
    EXPECT_NE(r.error().describe().find(says), std::string::npos) << r.error().describe();
  }
  DumpBuilder b_ = machine();
  std::vector<std::byte> a_, c_;
};

TEST_F(BrokenSet, MissingFile) {
  KdumpBuildOptions o;
  o.split = {0x400, kPfns};
  expect_error({a_, build_kdump(b_, o)}, "lacks pfns 0x300-0x400");
}
TEST_F(BrokenSet, FileGivenTwice) { expect_error({a_, a_, c_}, "given twice"); }
TEST_F(BrokenSet, OneFile) { expect_error({a_}, "at least two"); }
TEST_F(BrokenSet, TruncatedFile) {
  c_.resize(c_.size() - 100);
  expect_error({a_, c_}, "truncated");
}
TEST_F(BrokenSet, FromAnotherDump) {
  KdumpBuildOptions o;
  o.split = {0x300, kPfns};
  o.timestamp_sec = 1;
  expect_error({a_, build_kdump(b_, o)}, "not from the same --split run");
}
TEST_F(BrokenSet, OtherLevelOtherBoundaries) {
  KdumpBuildOptions o;
  o.split = {0x250, kPfns};
  o.dump_level = 1;
  expect_error({a_, build_kdump(b_, o)}, "not from the same --split run");
}
TEST_F(BrokenSet, DifferentBitmaps) {
  KdumpBuildOptions o;
  o.split = {0x300, kPfns};
  o.dumped = std::set<uint64_t>{0x400, 0x401};
  expect_error({a_, build_kdump(b_, o)}, "the bitmaps differ");
}
TEST_F(BrokenSet, NotSplit) { expect_error({a_, build_kdump(b_, {})}, "not a file of a --split set"); }
TEST_F(BrokenSet, CorruptDescriptor) {
  // The first descriptor of the second file points past the end.
  uint64_t desc = 4096 * 2 + 2 * 4096;  // header, sub header block, two one-block bitmaps
  for (int i = 0; i < 8; ++i) c_[desc + static_cast<size_t>(i)] = std::byte{0x7f};
  expect_error({a_, c_}, "points outside the page data");
}

TEST(OfflineRefilter, LevelRisesToTheInputsAsMakedumpfileDoes) {
  Messenger quiet(0, false);
  DumpMetadata md;
  EXPECT_EQ(refilter_dump_level(1, md, "in", quiet), 1);  // ELF: no level recorded
  md.dump_level = 17;
  EXPECT_EQ(refilter_dump_level(1, md, "in", quiet), 17);
  EXPECT_EQ(refilter_dump_level(31, md, "in", quiet), 31);
  EXPECT_EQ(refilter_dump_level(8, md, "in", quiet), 25);
}

TEST(OfflineRefilter, VmcoreinfoNoteAddedOnlyWhenAbsent) {
  DumpBuilder b = machine();
  auto with = b.notes();
  EXPECT_EQ(notes_with_vmcoreinfo(with, "OSRELEASE=other\n"), with);
  DumpBuilder plain;
  plain.add_ram(0, 1 << 20).set_prstatus_notes(1);
  auto without = plain.notes();
  without.resize(without.size() + 64);  // zero padding after the last note, as QEMU leaves
  auto added = notes_with_vmcoreinfo(without, "OSRELEASE=6.1\n");
  auto parsed = parse_elf_notes(added, "notes", 0);
  ASSERT_TRUE(parsed.ok());
  EXPECT_EQ(parsed->vmcoreinfo, "OSRELEASE=6.1\n");
  EXPECT_EQ(parsed->nr_prstatus, 1);
}

// Through the CLI: a -d 1 kdump dump with erase info re-filtered at -d 0
// (the level stays 1, as makedumpfile does) to kdump and to ELF keeps the
// notes, VMCOREINFO and erase info, and every page.
TEST(OfflineRefilter, CarriesNotesVmcoreinfoAndEraseInfo) {
  DumpBuilder b = machine();
  KdumpBuildOptions o;
  o.dump_level = 1;
  o.codec_flag = 0x20;  // zstd
  o.eraseinfo = {std::byte{'x'}, std::byte{'y'}};
  auto dir = std::filesystem::temp_directory_path() / ("vmc-offline-" + std::to_string(::getpid()));
  std::filesystem::create_directories(dir);
  auto in = (dir / "in").string();
  {
    auto f = io::create_output(in, {true});
    ASSERT_TRUE(f.ok());
    ASSERT_TRUE((*f)->write_at(0, build_kdump(b, o)).ok());
    ASSERT_TRUE((*f)->finish().ok());
  }
  for (const char* format : {"-l", "-E"}) {
    auto out = (dir / (std::string("out") + format)).string();
    auto opts = parse_options("vmcollect", {"--message-level", "0", format, "-d", "0", in, out});
    ASSERT_TRUE(opts.ok());
    ASSERT_EQ(run(*opts, nullptr), 0) << format;
    auto m = open_dump(out);
    ASSERT_TRUE(m.ok()) << m.error().describe();
    EXPECT_EQ((*m)->metadata().vmcoreinfo, b.vmcoreinfo()) << format;
    EXPECT_EQ((*m)->metadata().nr_cpus, 2) << format;
    for (uint64_t p : available_pfns(**m)) {
      auto v = (*m)->pages(p, 1);
      ASSERT_TRUE(v.ok());
      auto want = b.page(p);
      ASSERT_TRUE(std::equal(want.begin(), want.end(), v->data())) << format << " pfn " << p;
    }
    if (std::string(format) == "-l") {
      EXPECT_EQ((*m)->metadata().dump_level, 1);
      EXPECT_EQ((*m)->metadata().eraseinfo, o.eraseinfo);
      EXPECT_EQ(available_pfns(**m).size(), kPfns - 0x200);
    }
  }
  std::filesystem::remove_all(dir);
}

TEST(OfflineOptions, SplitAndReassembleAsMakedumpfileSpellsThem) {
  auto split = parse_options("vmcollect", {"--split", "-l", "-d", "31", "vmcore", "a", "b", "c"});
  ASSERT_TRUE(split.ok()) << split.error().describe();
  EXPECT_TRUE(split->split);
  EXPECT_EQ(split->input, "vmcore");
  EXPECT_EQ(split->split_outputs, (std::vector<std::string>{"a", "b", "c"}));
  auto joined = parse_options("vmcollect", {"--reassemble", "a", "b", "out"});
  ASSERT_TRUE(joined.ok());
  EXPECT_EQ(joined->mode, Mode::kReassemble);
  EXPECT_EQ(joined->reassemble_inputs, (std::vector<std::string>{"a", "b"}));
  EXPECT_EQ(joined->output, "out");
  EXPECT_FALSE(parse_options("vmcollect", {"--split", "-d", "31", "vmcore", "a"}).ok());
  EXPECT_FALSE(parse_options("vmcollect", {"--split", "-E", "vmcore", "a", "b"}).ok());
  EXPECT_FALSE(parse_options("vmcollect", {"--split", "-F", "vmcore", "a", "b"}).ok());
  EXPECT_FALSE(parse_options("vmcollect", {"--reassemble", "a", "out"}).ok());
}

}  // namespace
}  // namespace vmc::testing
