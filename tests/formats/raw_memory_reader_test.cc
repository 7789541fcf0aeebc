// The raw memory reader on synthetic images of old memory: a small machine
// from tests/builder laid out at physical addresses, with the ELF core header
// kexec builds (per-CPU PT_NOTEs sized for the largest note, a VMCOREINFO
// PT_NOTE, a kernel-text PT_LOAD and the x86_64 low-memory PT_LOAD whose
// p_offset is purgatory's backup copy) placed in the crash kernel region, as
// /dev/oldmem or a pmemsave of a kdump capture kernel shows it. Also the
// header-less mode (--mem-ranges), /dev/oldmem's command line and unknown
// size, the clear errors, open_dump's selection, the fault seam and the
// bounded windows.
#include "formats/open_dump.h"
#include "formats/raw_memory_reader.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <fstream>

#include "base/io.h"
#include "formats/elf_core_reader.h"
#include "tests/formats/reader_test_util.h"

namespace vmc::testing {
namespace {

constexpr uint64_t kMiB = 1 << 20;
constexpr uint64_t kDirectMap = 0xffff888000000000ull;
constexpr uint64_t kKernelText = 0xffffffff81000000ull;
constexpr uint64_t kLowStart = 0x1000, kLowEnd = 0xa0000;  // x86_64's first RAM range
constexpr uint64_t kHighStart = 0x100000, kHighEnd = 0x900000;
// The crash kernel region: not in the header's PT_LOADs; holds the header and
// the backup of low memory.
constexpr uint64_t kHeaderAddr = 0x900000;
constexpr uint64_t kBackupAddr = 0xa00000;
constexpr uint64_t kImageSize = 0xc00000;
constexpr uint64_t kCpuNotesAddr = 0x200000, kCpuNoteMax = 0x400;
constexpr uint64_t kVmcoreinfoAddr = 0x300000, kVmcoreinfoMax = 0x1000;
constexpr int kCpus = 3;

DumpBuilder small_machine() {
  DumpBuilder b;
  b.add_ram(kLowStart, kLowEnd - kLowStart, kDirectMap + kLowStart)
      .add_ram(kHighStart, kHighEnd - kHighStart, kDirectMap + kHighStart)
      .set_vmcoreinfo("OSRELEASE=6.1.0-raw\nPAGESIZE=4096\nCRASHTIME=1700000000\n")
      .set_prstatus_notes(kCpus);
  for (uint64_t pfn = 1; pfn < 0xa0; pfn += 3) b.fill_page(pfn, PageFill::kRandom, 1);
  for (uint64_t pfn = 0x100; pfn < 0x900; pfn += 5) b.fill_page(pfn, PageFill::kText, 2);
  return b;
}

// The builder's notes one by one (NT_PRSTATUS per CPU, then VMCOREINFO).
std::vector<std::vector<std::byte>> split_notes(const std::vector<std::byte>& notes) {
  std::vector<std::vector<std::byte>> out;
  for (size_t pos = 0; pos + sizeof(elf::Nhdr) <= notes.size();) {
    auto nh = load<elf::Nhdr>(notes.data() + pos);
    size_t len = sizeof nh + elf::note_align(nh.n_namesz) + elf::note_align(nh.n_descsz);
    out.emplace_back(notes.begin() + static_cast<ptrdiff_t>(pos),
                     notes.begin() + static_cast<ptrdiff_t>(pos + len));
    pos += len;
  }
  return out;
}

elf::Phdr phdr(uint32_t type, uint64_t offset, uint64_t paddr, uint64_t vaddr, uint64_t size) {
  elf::Phdr ph{};
  ph.p_type = type;
  ph.p_offset = offset;
  ph.p_paddr = paddr;
  ph.p_vaddr = vaddr;
  ph.p_filesz = size;
  ph.p_memsz = size;
  return ph;
}

struct RawImage {
  std::vector<std::byte> bytes;
  std::vector<elf::Phdr> phdrs;  // as written at kHeaderAddr
};

void put(std::vector<std::byte>& image, uint64_t at, std::span<const std::byte> bytes) {
  std::memcpy(image.data() + at, bytes.data(), bytes.size());
}

void put_header(RawImage& img, uint16_t e_type = elf::kTypeCore) {
  elf::Ehdr eh{};
  std::memcpy(eh.e_ident, elf::kMagic, 4);
  eh.e_ident[4] = elf::kClass64;
  eh.e_ident[5] = elf::kData2Lsb;
  eh.e_ident[6] = 1;
  eh.e_type = e_type;
  eh.e_machine = elf::kMachineX86_64;
  eh.e_version = 1;
  eh.e_phoff = sizeof(elf::Ehdr);
  eh.e_ehsize = sizeof(elf::Ehdr);
  eh.e_phentsize = sizeof(elf::Phdr);
  eh.e_phnum = static_cast<uint16_t>(img.phdrs.size());
  put(img.bytes, kHeaderAddr, std::as_bytes(std::span(&eh, 1)));
  put(img.bytes, kHeaderAddr + sizeof eh, std::as_bytes(std::span(img.phdrs)));
}

// Old memory as the capture kernel finds it. The builder b gets the notes
// written into its RAM too (they live in the first kernel's memory), so its
// pages are what a reader must return.
RawImage old_memory(DumpBuilder& b) {
  RawImage img{std::vector<std::byte>(kImageSize), {}};
  auto notes = split_notes(b.notes());
  for (int cpu = 0; cpu <= kCpus; ++cpu) {  // one more: an offline CPU's zeroed buffer
    uint64_t at = kCpuNotesAddr + static_cast<uint64_t>(cpu) * kCpuNoteMax;
    if (cpu < kCpus) b.write_physical(at, notes[static_cast<size_t>(cpu)]);
    img.phdrs.push_back(phdr(elf::kPtNote, at, at, 0, kCpuNoteMax));
  }
  b.write_physical(kVmcoreinfoAddr, notes.back());
  img.phdrs.push_back(phdr(elf::kPtNote, kVmcoreinfoAddr, kVmcoreinfoAddr, 0, kVmcoreinfoMax));
  img.phdrs.push_back(phdr(elf::kPtLoad, 0x100000, 0x100000, kKernelText, 2 * kMiB));
  img.phdrs.push_back(phdr(elf::kPtLoad, kBackupAddr, kLowStart, kDirectMap + kLowStart,
                           kLowEnd - kLowStart));
  img.phdrs.push_back(phdr(elf::kPtLoad, kHighStart, kHighStart, kDirectMap + kHighStart,
                           kHighEnd - kHighStart));
  for (uint64_t pa = kLowStart; pa < kLowEnd; pa += 4096) {
    put(img.bytes, kBackupAddr + pa - kLowStart, b.page(pa / 4096));
  }
  for (uint64_t pa = kHighStart; pa < kHighEnd; pa += 4096) put(img.bytes, pa, b.page(pa / 4096));
  // The capture kernel scribbles on low memory; only the backup is the truth.
  std::memset(img.bytes.data() + 0x8000, 0xaa, 4 * 4096);
  put_header(img);
  return img;
}

RawMemoryOptions at_header(uint64_t addr = kHeaderAddr) {
  RawMemoryOptions o;
  o.elfcorehdr = addr;
  return o;
}

Result<std::unique_ptr<PhysicalMemory>> open_image(std::vector<std::byte> bytes,
                                                   const RawMemoryOptions& o, RawInput kind = {}) {
  return open_raw_memory(io::memory_input("old.mem", std::move(bytes)), o, kind);
}

void expect_error(const Result<std::unique_ptr<PhysicalMemory>>& r, ErrorKind kind,
                  std::initializer_list<std::string> needles) {
  ASSERT_FALSE(r.ok()) << "opened although it should not";
  EXPECT_EQ(r.error().kind(), kind) << r.error().describe();
  for (const auto& n : needles) {
    EXPECT_NE(r.error().describe().find(n), std::string::npos)
        << "'" << n << "' not in: " << r.error().describe();
  }
}

std::string write_temp(const std::string& name, std::span<const std::byte> bytes) {
  std::string path = ::testing::TempDir() + "/" + name;
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  out.write(reinterpret_cast<const char*>(bytes.data()), static_cast<std::streamsize>(bytes.size()));
  return path;
}

TEST(RawMemoryReader, ReadsThroughTheElfCoreHeaderInOldMemory) {
  DumpBuilder b = small_machine();
  RawImage img = old_memory(b);
  auto m = open_image(img.bytes, at_header());
  ASSERT_TRUE(m.ok()) << describe(m);
  const auto& md = (*m)->metadata();
  EXPECT_EQ(md.format, "raw");
  EXPECT_EQ(md.vmcoreinfo, b.vmcoreinfo());
  EXPECT_EQ(md.nr_cpus, kCpus);
  // Merged and trimmed as /proc/vmcore presents them: each note once, no
  // padding up to the PT_NOTE's maximum size, the offline CPU's buffer empty.
  EXPECT_EQ(md.notes, b.notes());
  EXPECT_FALSE(md.incomplete);
  EXPECT_TRUE(md.warnings.empty());
  ASSERT_EQ((*m)->ram().size(), 2u);
  EXPECT_EQ((*m)->ram()[0], (PfnRange{1, 0xa0}));
  EXPECT_EQ((*m)->ram()[1], (PfnRange{0x100, 0x900}));
  ASSERT_EQ(md.segments.size(), 2u);
  EXPECT_EQ(md.segments[1].vaddr, kDirectMap + kHighStart);  // direct map wins over kernel text
  // Low memory comes from the backup copy, not from the scribbled original.
  EXPECT_EQ(expect_pages_match(**m, b), 0x9fu + 0x800u);
  std::vector<std::byte> out(6000);
  ASSERT_TRUE((*m)->read_physical(0x8ff0, out).ok());
  EXPECT_EQ(out, b.read_physical(0x8ff0, out.size()));
}

TEST(RawMemoryReader, OpenDumpChoosesRawByOptionAndReadsThroughWindows) {
  DumpBuilder b = small_machine();
  RawImage img = old_memory(b);
  std::string path = write_temp("pmem.raw", img.bytes);
  OpenDumpOptions o;
  o.raw = at_header();
  auto m = open_dump(path, o);
  ASSERT_TRUE(m.ok()) << describe(m);
  EXPECT_EQ((*m)->metadata().format, "raw");
  EXPECT_EQ(expect_pages_match(**m, b, 64), 0x9fu + 0x800u);
  // Without the options nothing marks the file as memory: the error says what to give.
  auto plain = open_dump(path);
  ASSERT_FALSE(plain.ok());
  EXPECT_NE(plain.error().describe().find("--elfcorehdr"), std::string::npos)
      << describe(plain);
  ::unlink(path.c_str());
}

// Counts the bytes each read or view asks for: the reader must map windows
// the size of what it is asked for, never the image.
class WindowSpy final : public io::InputFile {
 public:
  WindowSpy(std::unique_ptr<io::InputFile> inner, uint64_t& largest)
      : inner_(std::move(inner)), largest_(largest) {}
  const std::string& name() const override { return inner_->name(); }
  uint64_t size() const override { return size_override_ ? 0 : inner_->size(); }
  Status read_at(uint64_t offset, std::span<std::byte> out) override {
    largest_ = std::max<uint64_t>(largest_, out.size());
    return inner_->read_at(offset, out);
  }
  Result<io::ByteView> view(uint64_t offset, uint64_t length) override {
    largest_ = std::max(largest_, length);
    return inner_->view(offset, length);
  }
  void pretend_no_size() { size_override_ = true; }

 private:
  std::unique_ptr<io::InputFile> inner_;
  uint64_t& largest_;
  bool size_override_ = false;
};

TEST(RawMemoryReader, MapsOnlyTheWindowsAskedFor) {
  DumpBuilder b = small_machine();
  RawImage img = old_memory(b);
  uint64_t largest = 0;
  auto m = open_raw_memory(
      std::make_unique<WindowSpy>(io::memory_input("old.mem", img.bytes), largest), at_header());
  ASSERT_TRUE(m.ok()) << describe(m);
  EXPECT_LE(largest, kVmcoreinfoMax);  // opening reads the header and notes only
  EXPECT_EQ(expect_pages_match(**m, b, 32), 0x9fu + 0x800u);
  EXPECT_LE(largest, 32u * 4096);
}

TEST(RawMemoryReader, OldmemTakesElfcorehdrFromTheCommandLineAndHasNoSize) {
  DumpBuilder b = small_machine();
  RawImage img = old_memory(b);
  std::string cmdline =
      "console=ttyS0 nr_cpus=1 reset_devices elfcorehdr=" + std::to_string(kHeaderAddr / 1024) + "K\n";
  RawMemoryOptions o;
  o.cmdline_path = write_temp("cmdline", std::as_bytes(std::span(cmdline)));
  uint64_t largest = 0;
  auto spy = std::make_unique<WindowSpy>(io::memory_input("/dev/oldmem", img.bytes), largest);
  spy->pretend_no_size();  // a character device: lseek(SEEK_END) says 0
  auto m = open_raw_memory(std::move(spy), o, {.oldmem = true});
  ASSERT_TRUE(m.ok()) << describe(m);
  EXPECT_EQ((*m)->metadata().vmcoreinfo, b.vmcoreinfo());
  EXPECT_EQ(expect_pages_match(**m, b), 0x9fu + 0x800u);
  ::unlink(o.cmdline_path.c_str());
}

TEST(RawMemoryReader, OldmemWithoutElfcorehdrSaysWhatToGive) {
  DumpBuilder b = small_machine();
  RawImage img = old_memory(b);
  std::string cmdline = "console=ttyS0 root=/dev/vda\n";
  RawMemoryOptions o;
  o.cmdline_path = write_temp("cmdline-none", std::as_bytes(std::span(cmdline)));
  expect_error(open_image(img.bytes, o, {.oldmem = true}), ErrorKind::kInvalidArgument,
               {"no elfcorehdr= in " + o.cmdline_path, "--elfcorehdr ADDR", "--mem-ranges"});
  o.cmdline_path = "/nonexistent/cmdline";
  expect_error(open_image(img.bytes, o, {.oldmem = true}), ErrorKind::kIo,
               {"/nonexistent/cmdline", "elfcorehdr="});
  // A raw image (not /dev/oldmem) with neither option.
  expect_error(open_image(img.bytes, RawMemoryOptions{}), ErrorKind::kInvalidArgument,
               {"old.mem", "--elfcorehdr ADDR", "--mem-ranges"});
}

TEST(RawMemoryReader, HeaderAddressOutsideTheImage) {
  DumpBuilder b = small_machine();
  RawImage img = old_memory(b);
  expect_error(open_image(img.bytes, at_header(kImageSize + 0x1000)), ErrorKind::kBadInput,
               {"elfcorehdr=0xc01000", "outside old.mem", "0-0xc00000"});
  // Straddling the end: the ELF header itself does not fit.
  expect_error(open_image(img.bytes, at_header(kImageSize - 10)), ErrorKind::kBadInput,
               {"outside old.mem"});
}

TEST(RawMemoryReader, NoElfCoreHeaderAtTheAddress) {
  DumpBuilder b = small_machine();
  RawImage img = old_memory(b);
  expect_error(open_image(img.bytes, at_header(kHeaderAddr + 0x10000)), ErrorKind::kBadInput,
               {"no ELF core header at elfcorehdr=0x910000", "00 00 00 00"});
  // An ELF header that is not a core's.
  put_header(img, 2 /* ET_EXEC */);
  expect_error(open_image(img.bytes, at_header()), ErrorKind::kBadInput,
               {"elfcorehdr=0x900000", "not a core dump"});
  // A core header whose program headers run off the image.
  put_header(img);
  auto eh = load<elf::Ehdr>(img.bytes.data() + kHeaderAddr);
  eh.e_phoff = kImageSize;
  put(img.bytes, kHeaderAddr, std::as_bytes(std::span(&eh, 1)));
  expect_error(open_image(img.bytes, at_header()), ErrorKind::kBadInput,
               {"program headers", "beyond the end"});
}

TEST(RawMemoryReader, RangeOutsideTheImageIsAnError) {
  DumpBuilder b = small_machine();
  RawImage img = old_memory(b);
  img.phdrs.back() = phdr(elf::kPtLoad, kHighStart, kHighStart, 0, kImageSize);  // ends past the image
  put_header(img);
  expect_error(open_image(img.bytes, at_header()), ErrorKind::kBadInput,
               {"PT_LOAD segment 7", "outside the image", "0xc00000"});
  // A PT_NOTE outside the image.
  RawImage img2 = old_memory(b);
  img2.phdrs[0] = phdr(elf::kPtNote, kImageSize + 0x1000, kImageSize + 0x1000, 0, kCpuNoteMax);
  put_header(img2);
  expect_error(open_image(img2.bytes, at_header()), ErrorKind::kBadInput,
               {"PT_NOTE segment 0", "beyond the end"});
}

TEST(RawMemoryReader, WithoutAHeaderTheRangesAreRam) {
  DumpBuilder b = small_machine();
  std::vector<std::byte> image(kHighEnd);
  for (uint64_t pa = kLowStart; pa < kLowEnd; pa += 4096) put(image, pa, b.page(pa / 4096));
  for (uint64_t pa = kHighStart; pa < kHighEnd; pa += 4096) put(image, pa, b.page(pa / 4096));
  RawMemoryOptions o;
  auto ranges = parse_mem_ranges("100000-8fffff,1000-9ffff");
  ASSERT_TRUE(ranges.ok()) << describe(ranges);
  o.ranges = *ranges;
  auto m = open_image(image, o);
  ASSERT_TRUE(m.ok()) << describe(m);
  const auto& md = (*m)->metadata();
  EXPECT_EQ(md.format, "raw");
  // Nothing but memory: VMCOREINFO comes from -i, which the collector applies.
  EXPECT_TRUE(md.vmcoreinfo.empty());
  EXPECT_TRUE(md.notes.empty());
  EXPECT_EQ(md.nr_cpus, 0);
  ASSERT_EQ((*m)->ram().size(), 2u);
  EXPECT_EQ((*m)->ram()[0], (PfnRange{1, 0xa0}));
  EXPECT_EQ((*m)->ram()[1], (PfnRange{0x100, 0x900}));
  EXPECT_EQ(expect_pages_match(**m, b), 0x9fu + 0x800u);
  // A range past the end of the image.
  o.ranges.back().second = kHighEnd + 0x1000;
  expect_error(open_image(image, o), ErrorKind::kBadInput,
               {"memory range 0x100000-0x900fff", "outside old.mem", "--mem-ranges"});
  // Both ways at once is ambiguous.
  o.elfcorehdr = kHeaderAddr;
  expect_error(open_image(image, o), ErrorKind::kInvalidArgument, {"not both"});
}

TEST(RawMemoryReader, InjectedReadErrorNamesPfnAndOffset) {
  DumpBuilder b = small_machine();
  RawImage img = old_memory(b);
  io::FaultPlan plan;
  plan.read_eio.push_back({0x400000 + 100, 0x400000 + 101});
  auto m = open_raw_memory(io::with_faults(io::memory_input("old.mem", img.bytes), plan),
                           at_header());
  ASSERT_TRUE(m.ok()) << describe(m);
  auto v = (*m)->pages(0x3f0, 32);
  ASSERT_FALSE(v.ok());
  EXPECT_NE(v.error().describe().find("pfn 0x3f0"), std::string::npos) << describe(v);
  EXPECT_TRUE((*m)->pages(0x3ff, 1).ok());
  EXPECT_FALSE((*m)->pages(0x400, 1).ok());
}

TEST(RawMemoryReader, ParsesElfcorehdrAsTheKernelDoes) {
  auto v = [](std::string_view s) { return parse_elfcorehdr(s); };
  EXPECT_EQ(*v("671092K"), 671092ull << 10);
  EXPECT_EQ(*v("0x28f6d000"), 0x28f6d000ull);
  EXPECT_EQ(*v("123456"), 123456ull);
  EXPECT_EQ(*v("64K@0x1000000"), 0x1000000ull);
  EXPECT_EQ(*v("16M"), 16ull << 20);
  EXPECT_EQ(*v("1g"), 1ull << 30);
  for (const char* bad : {"", "K", "0xzz", "12Q", "1@", "@1", "1K@2M@3"}) {
    EXPECT_FALSE(v(bad).ok()) << bad;
  }
  auto c = elfcorehdr_from_cmdline("a=1 elfcorehdr=1K b elfcorehdr=0x2000\n");
  ASSERT_TRUE(c.ok());
  EXPECT_EQ(**c, 0x2000u);
  auto none = elfcorehdr_from_cmdline("console=ttyS0 xelfcorehdr=5");
  ASSERT_TRUE(none.ok());
  EXPECT_FALSE(none->has_value());
  EXPECT_FALSE(elfcorehdr_from_cmdline("elfcorehdr=oops").ok());
}

TEST(RawMemoryReader, ParsesMemRangesAsIomemPrintsThem) {
  auto r = parse_mem_ranges("00100000-3ffdffff,0x1000-0x9fbff");
  ASSERT_TRUE(r.ok()) << describe(r);
  ASSERT_EQ(r->size(), 2u);
  EXPECT_EQ((*r)[0], (std::pair<uint64_t, uint64_t>{0x1000, 0x9fc00}));
  EXPECT_EQ((*r)[1], (std::pair<uint64_t, uint64_t>{0x100000, 0x3ffe0000}));
  for (const char* bad : {"", "1000", "2000-1000", "x-1", "0-ffffffffffffffff", "1000-2000,"}) {
    EXPECT_FALSE(parse_mem_ranges(bad).ok()) << bad;
  }
  auto overlap = parse_mem_ranges("0-1fff,1000-2fff");
  ASSERT_FALSE(overlap.ok());
  EXPECT_NE(overlap.error().describe().find("overlaps"), std::string::npos);
}

TEST(RawMemoryReader, OldmemPathIsRecognised) {
  EXPECT_TRUE(is_oldmem_path("/dev/oldmem"));
  EXPECT_TRUE(is_oldmem_path("/dev/../dev/oldmem"));
  EXPECT_FALSE(is_oldmem_path("/proc/vmcore"));
  EXPECT_FALSE(is_oldmem_path("oldmem"));
}

}  // namespace
}  // namespace vmc::testing
