// The ELF core reader on synthetic cores: layout, overlap dedupe, partial and
// truncated segments, every kind of corrupt header, injected read faults.
#include "formats/elf_core_reader.h"

#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>

#include "base/io.h"
#include "tests/formats/reader_test_util.h"

namespace vmc::testing {
namespace {

constexpr uint64_t kMiB = 1 << 20;
constexpr uint64_t kDirectMap = 0xffff888000000000ull;

DumpBuilder small_machine() {
  DumpBuilder b;
  b.add_ram(0x1000, 0x9f000, kDirectMap + 0x1000)
      .add_ram(0x100000, 8 * kMiB, kDirectMap + 0x100000)
      .set_vmcoreinfo("OSRELEASE=6.1.0-test\nPAGESIZE=4096\n")
      .set_prstatus_notes(4);
  for (uint64_t pfn = 1; pfn < 0xa0; pfn += 7) b.fill_page(pfn, PageFill::kRandom, 1);
  for (uint64_t pfn = 0x100; pfn < 0x900; pfn += 3) b.fill_page(pfn, PageFill::kText, 2);
  return b;
}

Result<std::unique_ptr<PhysicalMemory>> open_bytes(std::vector<std::byte> bytes) {
  return open_elf_core(io::memory_input("test.vmcore", std::move(bytes)));
}

void expect_error(const Result<std::unique_ptr<PhysicalMemory>>& r, ErrorKind kind,
                  const std::string& needle) {
  ASSERT_FALSE(r.ok()) << "opened although it should not";
  EXPECT_EQ(r.error().kind(), kind) << r.error().describe();
  EXPECT_NE(r.error().describe().find(needle), std::string::npos)
      << "'" << needle << "' not in: " << r.error().describe();
}

TEST(ElfCoreReader, ReadsLayoutNotesAndEveryPage) {
  DumpBuilder b = small_machine();
  auto m = open_elf_core(b.elf_input());
  ASSERT_TRUE(m.ok()) << describe(m);
  const auto& md = (*m)->metadata();
  EXPECT_EQ(md.format, "elf");
  EXPECT_EQ(md.vmcoreinfo, b.vmcoreinfo());
  EXPECT_EQ(md.nr_cpus, 4);
  EXPECT_EQ(md.notes, b.notes());
  EXPECT_FALSE(md.incomplete);
  EXPECT_EQ(md.page_size, 4096u);
  ASSERT_EQ((*m)->ram().size(), 2u);
  EXPECT_EQ((*m)->ram()[0], (PfnRange{1, 0xa0}));
  EXPECT_EQ((*m)->ram()[1], (PfnRange{0x100, 0x900}));
  ASSERT_EQ(md.segments.size(), 2u);
  EXPECT_EQ(md.segments[1].vaddr, kDirectMap + 0x100000);
  EXPECT_EQ(expect_pages_match(**m, b), 0x9fu + 0x800u);
  auto bits = available_bits(**m, 0, 0x900);
  EXPECT_FALSE(bit(bits, 0));
  EXPECT_TRUE(bit(bits, 1));
  EXPECT_FALSE(bit(bits, 0xa0));
  EXPECT_TRUE(bit(bits, 0x8ff));
}

TEST(ElfCoreReader, AvailableHonoursAnUnalignedWindow) {
  DumpBuilder b = small_machine();
  auto m = open_elf_core(b.elf_input());
  ASSERT_TRUE(m.ok());
  auto bits = available_bits(**m, 0x9f, 0x105);
  EXPECT_TRUE(bit(bits, 0));   // pfn 0x9f
  EXPECT_FALSE(bit(bits, 1));  // 0xa0
  EXPECT_FALSE(bit(bits, 0x60));
  EXPECT_TRUE(bit(bits, 0x61));  // 0x100
}

TEST(ElfCoreReader, ReadPhysicalCrossesPagesAndFailsInHoles) {
  DumpBuilder b = small_machine();
  auto m = open_elf_core(b.elf_input());
  ASSERT_TRUE(m.ok());
  std::vector<std::byte> out(10000);
  ASSERT_TRUE((*m)->read_physical(0x100ff0, out).ok());
  EXPECT_EQ(out, b.read_physical(0x100ff0, out.size()));
  auto hole = (*m)->read_physical(0xa0000, out);
  ASSERT_FALSE(hole.ok());
  EXPECT_NE(hole.error().describe().find("pfn 0xa0"), std::string::npos) << describe(hole);
  EXPECT_FALSE((*m)->pages(0x9f, 2).ok());  // runs into the hole
}

TEST(ElfCoreReader, KernelTextDuplicateIsDedupedInFavourOfTheDirectMap) {
  DumpBuilder b;
  // As /proc/vmcore lists them: kernel text first, then the direct map.
  b.add_kernel_text_segment(0xffffffff81000000ull, 0x1000000, 4 * kMiB)
      .add_ram(0, 32 * kMiB, kDirectMap);
  for (uint64_t pfn = 0x1000; pfn < 0x1400; pfn += 5) b.fill_page(pfn, PageFill::kRandom, 3);
  auto m = open_elf_core(b.elf_input());
  ASSERT_TRUE(m.ok()) << describe(m);
  ASSERT_EQ((*m)->ram().size(), 1u);
  EXPECT_EQ((*m)->ram()[0], (PfnRange{0, 0x2000}));
  const auto& segs = (*m)->metadata().segments;
  ASSERT_EQ(segs.size(), 1u);
  EXPECT_EQ(segs[0].vaddr, kDirectMap);
  EXPECT_EQ(segs[0].size, 32 * kMiB);
  EXPECT_EQ(expect_pages_match(**m, b), 0x2000u);
}

TEST(ElfCoreReader, KernelTextAloneStillCountsAsRam) {
  DumpBuilder b;
  b.add_ram(0, 16 * kMiB, kDirectMap)
      .add_kernel_text_segment(0xffffffff82000000ull, 0x2000000, kMiB);
  // The builder refuses writes outside direct-map RAM; the text segment's
  // pages read zero and are RAM.
  auto m = open_elf_core(b.elf_input());
  ASSERT_TRUE(m.ok());
  ASSERT_EQ((*m)->ram().size(), 2u);
  EXPECT_EQ((*m)->ram()[1], (PfnRange{0x2000, 0x2100}));
  EXPECT_EQ((*m)->metadata().segments[1].vaddr, 0xffffffff82000000ull);
}

TEST(ElfCoreReader, OverlappingDirectMapSegmentsAreMerged) {
  DumpBuilder b;
  b.add_ram(0, 8 * kMiB).add_ram(4 * kMiB, 8 * kMiB);
  for (uint64_t pfn = 0; pfn < 0xc00; pfn += 11) b.fill_page(pfn, PageFill::kText, 4);
  auto m = open_elf_core(b.elf_input());
  ASSERT_TRUE(m.ok());
  ASSERT_EQ((*m)->ram().size(), 1u);
  EXPECT_EQ((*m)->ram()[0], (PfnRange{0, 0xc00}));
  EXPECT_EQ(expect_pages_match(**m, b), 0xc00u);
}

// makedumpfile counts a PT_LOAD as pfns [floor(start), floor(end)): a page the
// segment covers only in part at its end is not RAM, so no reader sees it dumped.
TEST(ElfCoreReader, PartialLastPageIsNotRamAsMakedumpfileCountsIt) {
  DumpBuilder b;
  b.add_ram(0x1000, 0x9f000).add_ram(0x100000, kMiB);
  b.fill_page(0x9e, PageFill::kRandom, 5);
  b.fill_page(0x100, PageFill::kRandom, 6);
  auto f = b.build_elf();
  auto ph = phdr_of(f, 1);  // 0x1000-0xa0000 becomes 0x1000-0x9fc00, as in /proc/iomem
  ph.p_filesz = 0x9ec00;
  ph.p_memsz = 0x9ec00;
  put_phdr(f, 1, ph);
  auto m = open_bytes(f);
  ASSERT_TRUE(m.ok()) << describe(m);
  EXPECT_EQ((*m)->ram()[0], (PfnRange{1, 0x9f}));
  EXPECT_EQ((*m)->ram()[1], (PfnRange{0x100, 0x200}));
  auto last = (*m)->pages(0x9e, 1);
  ASSERT_TRUE(last.ok()) << describe(last);
  EXPECT_EQ(std::vector<std::byte>(last->bytes().begin(), last->bytes().end()), b.page(0x9e));
  auto partial = (*m)->pages(0x9f, 1);
  ASSERT_FALSE(partial.ok());
  EXPECT_NE(partial.error().describe().find("0x9f"), std::string::npos) << partial.error().describe();
}

// 1 MiB of random pages whose PT_LOAD holds only 100 pages and 123 bytes in
// the file (p_memsz the whole MiB): pfn 100 is read in part, then zeros.
std::vector<std::byte> core_with_short_filesz(DumpBuilder& b) {
  b.add_ram(0, kMiB);
  for (uint64_t pfn = 0; pfn < 256; ++pfn) b.fill_page(pfn, PageFill::kRandom, 7);
  auto f = b.build_elf();
  auto ph = phdr_of(f, 1);
  ph.p_filesz = 100 * 4096 + 123;
  put_phdr(f, 1, ph);
  return f;
}

TEST(ElfCoreReader, MemszBeyondFileszReadsZerosButIsNotAvailable) {
  DumpBuilder b;
  auto f = core_with_short_filesz(b);
  auto m = open_bytes(f);
  ASSERT_TRUE(m.ok()) << describe(m);
  EXPECT_FALSE((*m)->metadata().incomplete);
  // RAM, but only pages wholly backed by file data are available (as
  // makedumpfile's exclude_nodata_pages() has it: from floor(start + filesz));
  // the tail reads zero all the same.
  EXPECT_EQ((*m)->ram()[0], (PfnRange{0, 256}));
  auto bits = available_bits(**m, 0, 256);
  EXPECT_TRUE(bit(bits, 99));
  EXPECT_FALSE(bit(bits, 100));
  EXPECT_FALSE(bit(bits, 101));
  EXPECT_FALSE(bit(bits, 255));
  auto v = (*m)->pages(99, 3);
  ASSERT_TRUE(v.ok()) << describe(v);
  auto want = b.read_physical(99 * 4096, 3 * 4096);
  std::fill(want.begin() + 4096 + 123, want.end(), std::byte{0});
  EXPECT_EQ(std::vector<std::byte>(v->bytes().begin(), v->bytes().end()), want);
}

TEST(ElfCoreReader, TruncatedLoadKeepsWhatExistsAndMarksTheRestUnavailable) {
  DumpBuilder b;
  b.add_ram(0, 2 * kMiB).add_ram(4 * kMiB, 2 * kMiB);
  for (uint64_t pfn = 0; pfn < 0x600; ++pfn) {
    if (pfn < 0x200 || pfn >= 0x400) b.fill_page(pfn, PageFill::kRandom, 8);
  }
  auto f = b.build_elf();
  auto ph = phdr_of(f, 2);
  f.resize(ph.p_offset + 100 * 4096 + 10);  // 100 pages and a bit of segment 2 survive
  auto m = open_bytes(f);
  ASSERT_TRUE(m.ok()) << describe(m);
  const auto& md = (*m)->metadata();
  EXPECT_TRUE(md.incomplete);
  ASSERT_EQ(md.warnings.size(), 1u);
  EXPECT_NE(md.warnings[0].find("PT_LOAD segment 2"), std::string::npos) << md.warnings[0];
  EXPECT_NE(md.warnings[0].find(std::to_string(2 * kMiB - 100 * 4096 - 10)), std::string::npos)
      << md.warnings[0];
  // ram() is still what the headers describe; available() what the file holds.
  EXPECT_EQ((*m)->ram()[1], (PfnRange{0x400, 0x600}));
  auto bits = available_bits(**m, 0, 0x600);
  EXPECT_TRUE(bit(bits, 0x400 + 99));
  EXPECT_FALSE(bit(bits, 0x400 + 100));
  EXPECT_EQ(expect_pages_match(**m, b), 0x200u + 100u);
  auto gone = (*m)->pages(0x400 + 100, 1);
  ASSERT_FALSE(gone.ok());
  EXPECT_NE(gone.error().describe().find("truncated"), std::string::npos) << describe(gone);
}

TEST(ElfCoreReader, TruncatedDirectMapFallsBackOnTheKernelTextCopy) {
  DumpBuilder b;
  b.add_kernel_text_segment(0xffffffff81000000ull, 0x1000000, kMiB)
      .add_ram(0, 32 * kMiB, kDirectMap);
  for (uint64_t pfn = 0; pfn < 0x2000; pfn += 3) b.fill_page(pfn, PageFill::kRandom, 12);
  auto f = b.build_elf();
  f.resize(phdr_of(f, 2).p_offset + 8 * kMiB);  // the direct map keeps pfns 0-0x7ff
  auto m = open_bytes(f);
  ASSERT_TRUE(m.ok()) << describe(m);
  EXPECT_TRUE((*m)->metadata().incomplete);
  EXPECT_EQ((*m)->ram()[0], (PfnRange{0, 0x2000}));
  auto bits = available_bits(**m, 0, 0x2000);
  EXPECT_TRUE(bit(bits, 0x7ff));
  EXPECT_FALSE(bit(bits, 0x800));
  EXPECT_FALSE(bit(bits, 0xfff));
  EXPECT_TRUE(bit(bits, 0x1000));
  EXPECT_TRUE(bit(bits, 0x10ff));
  EXPECT_FALSE(bit(bits, 0x1100));
  EXPECT_EQ(expect_pages_match(**m, b), 0x800u + 0x100u);
}

TEST(ElfCoreReader, IncompleteFlagIsReported) {
  DumpBuilder b = small_machine();
  b.set_elf_flags(elf::kDumpElfIncomplete);
  auto m = open_elf_core(b.elf_input());
  ASSERT_TRUE(m.ok());
  EXPECT_TRUE((*m)->metadata().incomplete);
  ASSERT_FALSE((*m)->metadata().warnings.empty());
  EXPECT_NE((*m)->metadata().warnings[0].find("DUMP_ELF_INCOMPLETE"), std::string::npos);
}

TEST(ElfCoreReader, PnXnumTakesTheCountFromSectionHeaderZero) {
  DumpBuilder b = small_machine();
  b.set_force_pn_xnum(true);
  auto f = b.build_elf();
  EXPECT_EQ(ehdr_of(f).e_phnum.get(), elf::kPnXnum);
  auto m = open_bytes(f);
  ASSERT_TRUE(m.ok()) << describe(m);
  EXPECT_EQ((*m)->ram().size(), 2u);
  EXPECT_EQ(expect_pages_match(**m, b), 0x9fu + 0x800u);
}

TEST(ElfCoreReader, PnXnumWithoutSectionHeaderIsRejected) {
  DumpBuilder b = small_machine();
  b.set_force_pn_xnum(true);
  auto f = b.build_elf();
  auto eh = ehdr_of(f);
  eh.e_shoff = 0;
  put_ehdr(f, eh);
  expect_error(open_bytes(f), ErrorKind::kBadInput, "PN_XNUM");
  eh.e_shoff = f.size() - 10;
  put_ehdr(f, eh);
  expect_error(open_bytes(f), ErrorKind::kBadInput, "section header 0");
}

// Memory follows the program headers (1M PT_LOADs in a 58 MB file took
// 382 MB), so more than 65536 are refused before any is parsed.
TEST(ElfCoreReader, MoreProgramHeadersThanTheCapAreRefused) {
  DumpBuilder b = small_machine();
  b.set_force_pn_xnum(true);
  auto f = b.build_elf();
  auto eh = ehdr_of(f);
  auto sh = load<elf::Shdr>(f.data() + eh.e_shoff);
  sh.sh_info = 65537;
  std::memcpy(f.data() + eh.e_shoff, &sh, sizeof sh);
  expect_error(open_bytes(f), ErrorKind::kBadInput, "65537 program headers are more than the 65536");
}

TEST(ElfCoreReader, BadIdentAndTypeGiveClearErrors) {
  auto good = small_machine().build_elf();
  auto f = good;
  f[1] = std::byte{'X'};
  expect_error(open_bytes(f), ErrorKind::kBadInput, "not an ELF file");
  expect_error(open_bytes({}), ErrorKind::kBadInput, "not an ELF file");
  expect_error(open_bytes(std::vector<std::byte>(good.begin(), good.begin() + 40)),
               ErrorKind::kBadInput, "ELF header");
  f = good;
  f[4] = std::byte{1};
  expect_error(open_bytes(f), ErrorKind::kUnsupported, "32-bit");
  f = good;
  f[5] = std::byte{2};
  expect_error(open_bytes(f), ErrorKind::kUnsupported, "big-endian");
  f = good;
  auto eh = ehdr_of(f);
  eh.e_type = 2;  // ET_EXEC
  put_ehdr(f, eh);
  expect_error(open_bytes(f), ErrorKind::kBadInput, "not a core dump");
  eh = ehdr_of(good);
  eh.e_machine = 183;  // aarch64
  f = good;
  put_ehdr(f, eh);
  expect_error(open_bytes(f), ErrorKind::kUnsupported, "machine 183");
}

TEST(ElfCoreReader, ProgramHeadersOutsideTheFileAreRejected) {
  auto good = small_machine().build_elf();
  auto f = good;
  auto eh = ehdr_of(f);
  eh.e_phoff = f.size() - 20;
  put_ehdr(f, eh);
  expect_error(open_bytes(f), ErrorKind::kBadInput, "beyond the end of the file");
  eh = ehdr_of(good);
  eh.e_phoff = ~uint64_t{0} - 8;  // offset + size overflows
  f = good;
  put_ehdr(f, eh);
  expect_error(open_bytes(f), ErrorKind::kBadInput, "program headers");
  // Truncated right inside the program header table.
  f = std::vector<std::byte>(good.begin(), good.begin() + 64 + 56 + 30);
  expect_error(open_bytes(f), ErrorKind::kBadInput, "beyond the end of the file");
  eh = ehdr_of(good);
  eh.e_phentsize = 32;
  f = good;
  put_ehdr(f, eh);
  expect_error(open_bytes(f), ErrorKind::kBadInput, "e_phentsize");
  eh = ehdr_of(good);
  eh.e_phnum = 0;
  f = good;
  put_ehdr(f, eh);
  expect_error(open_bytes(f), ErrorKind::kBadInput, "no program headers");
}

TEST(ElfCoreReader, BadSegmentsAreRejectedNamingTheSegment) {
  auto good = small_machine().build_elf();
  auto f = good;
  auto ph = phdr_of(f, 2);
  ph.p_filesz = ph.p_memsz + 4096;
  put_phdr(f, 2, ph);
  expect_error(open_bytes(f), ErrorKind::kBadInput, "PT_LOAD segment 2");
  f = good;
  ph = phdr_of(f, 2);
  ph.p_paddr = ~uint64_t{0} - 4096;
  put_phdr(f, 2, ph);
  expect_error(open_bytes(f), ErrorKind::kBadInput, "wraps");
}

TEST(ElfCoreReader, NoteSizesThatOverflowTheSegmentAreRejected) {
  auto good = small_machine().build_elf();
  auto notes = phdr_of(good, 0);
  for (uint32_t field : {0u, 4u}) {  // n_namesz, n_descsz of the first note
    auto f = good;
    Le32 huge = 0xfffffff0u;
    std::memcpy(f.data() + notes.p_offset + field, &huge, 4);
    auto r = open_bytes(f);
    expect_error(r, ErrorKind::kBadInput, field == 0 ? "n_namesz" : "n_descsz");
    expect_error(r, ErrorKind::kBadInput, "at offset " + hex(notes.p_offset) + ": note");
  }
  // The PT_NOTE itself beyond the end of the file.
  auto f = good;
  notes.p_offset = f.size() - 8;
  put_phdr(f, 0, notes);
  expect_error(open_bytes(f), ErrorKind::kBadInput, "PT_NOTE");
  // Stray bytes after the last note that are not padding.
  f = good;
  notes = phdr_of(good, 0);
  notes.p_filesz = notes.p_filesz + 5;
  put_phdr(f, 0, notes);
  f[notes.p_offset + notes.p_filesz - 2] = std::byte{1};
  expect_error(open_bytes(f), ErrorKind::kBadInput, "stray bytes");
}

TEST(ElfCoreReader, ZeroPaddingAfterTheNotesIsIgnored) {
  DumpBuilder b = small_machine();
  auto f = b.build_elf();
  auto notes = phdr_of(f, 0);
  notes.p_filesz = notes.p_filesz + 64;  // the builder leaves zeros up to the page data
  put_phdr(f, 0, notes);
  auto m = open_bytes(f);
  ASSERT_TRUE(m.ok()) << describe(m);
  EXPECT_EQ((*m)->metadata().notes, b.notes());
  EXPECT_EQ((*m)->metadata().nr_cpus, 4);
}

TEST(ElfCoreReader, InjectedReadErrorNamesPfnAndOffset) {
  DumpBuilder b = small_machine();
  auto f = b.build_elf();
  auto seg = phdr_of(f, 2);                                // pfn 0x100 onwards
  uint64_t bad_offset = seg.p_offset + 0x10 * 4096 + 100;  // inside pfn 0x110
  io::FaultPlan plan;
  plan.read_eio.push_back({bad_offset, bad_offset + 1});
  auto m = open_elf_core(io::with_faults(io::memory_input("faulty.vmcore", f), plan));
  ASSERT_TRUE(m.ok()) << describe(m);
  auto v = (*m)->pages(0x100, 1024);
  ASSERT_FALSE(v.ok());
  EXPECT_EQ(v.error().kind(), ErrorKind::kIo);
  std::string text = v.error().describe();
  EXPECT_NE(text.find("pfn 0x100"), std::string::npos) << text;
  EXPECT_NE(text.find(hex(bad_offset)), std::string::npos) << text;
  // Page by page, only the bad page fails.
  EXPECT_TRUE((*m)->pages(0x10f, 1).ok());
  auto one = (*m)->pages(0x110, 1);
  ASSERT_FALSE(one.ok());
  EXPECT_NE(one.error().describe().find("pfn 0x110"), std::string::npos) << describe(one);
  EXPECT_TRUE((*m)->pages(0x111, 1).ok());
  std::vector<std::byte> word(8);
  EXPECT_FALSE((*m)->read_physical(0x110000 + 96, word).ok());
}

// The engine copies page data out of dump files (copy_pages into its own
// buffers) and maps /proc/vmcore (pages()): both must give the same bytes,
// including zeros past p_filesz, and fail alike.
TEST(ElfCoreReader, CopyPagesGivesWhatPagesGivesAndFailsAlike) {
  DumpBuilder b;
  auto f = core_with_short_filesz(b);
  auto in = file_input(f, "copy_pages.vmcore");
  ASSERT_TRUE(in);
  EXPECT_TRUE(in->prefers_read());
  auto m = open_elf_core(std::move(in));
  ASSERT_TRUE(m.ok()) << describe(m);
  EXPECT_TRUE((*m)->prefers_copy());
  for (auto [pfn, count] : {std::pair<uint64_t, uint64_t>{0, 64}, {97, 3}, {99, 4}, {101, 1}}) {
    expect_copy_matches_pages(**m, pfn, count);
  }
  std::vector<std::byte> page(4096);
  EXPECT_FALSE((*m)->pages(0x100, 1).ok());
  auto missing = (*m)->copy_pages(0x100, 1, page);  // not RAM
  ASSERT_FALSE(missing.ok());
  EXPECT_NE(missing.error().describe().find("0x100"), std::string::npos) << missing.error().describe();
  EXPECT_FALSE((*m)->copy_pages(0, 2, page).ok());  // out is one page short

  // /proc files are regular files too, but not page cached: mapped.
  auto proc = io::open_input("/proc/self/stat");
  ASSERT_TRUE(proc.ok()) << describe(proc);
  EXPECT_FALSE((*proc)->prefers_read());
  auto unmapped = io::open_input("/proc/self/stat", {.use_mmap = false});
  ASSERT_TRUE(unmapped.ok());
  EXPECT_TRUE((*unmapped)->prefers_read());  // --non-mmap: read() into reused buffers
  EXPECT_FALSE(open_bytes(f).value()->prefers_copy());  // in memory: views cost nothing
}

TEST(ElfCoreReader, TerabyteSparseFileIsCheapAndReadable) {
  DumpBuilder b;
  const uint64_t tib = uint64_t{1} << 40;
  b.add_ram(0, tib, kDirectMap).set_vmcoreinfo("PAGESIZE=4096\n");
  b.fill_page(0x12345, PageFill::kRandom, 9);
  b.fill_page(tib / 4096 - 1, PageFill::kText, 9);
  std::string path = ::testing::TempDir() + "/tib.vmcore";
  ASSERT_TRUE(b.write_elf(path).ok());
  struct stat st {};
  ASSERT_EQ(::stat(path.c_str(), &st), 0);
  EXPECT_GT(static_cast<uint64_t>(st.st_size), tib);
  EXPECT_LT(static_cast<uint64_t>(st.st_blocks) * 512, 64 * kMiB);
  auto in = io::open_input(path);
  ASSERT_TRUE(in.ok());
  auto m = open_elf_core(std::move(*in));
  ASSERT_TRUE(m.ok()) << describe(m);
  EXPECT_EQ((*m)->max_pfn(), tib / 4096);
  for (uint64_t pfn : {uint64_t{0x12345}, tib / 4096 - 1, uint64_t{0x12346}}) {
    auto v = (*m)->pages(pfn, 1);
    ASSERT_TRUE(v.ok()) << describe(v);
    auto want = b.page(pfn);
    EXPECT_EQ(std::memcmp(v->data(), want.data(), 4096), 0) << pfn;
  }
  auto chunk = (*m)->pages(0x12000, 1024);
  ASSERT_TRUE(chunk.ok());
  EXPECT_EQ(chunk->size(), 1024u * 4096);
  ::unlink(path.c_str());
}

}  // namespace
}  // namespace vmc::testing
