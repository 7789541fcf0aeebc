// Bad input and faults through the vmcollect binary itself (the command line
// users and kdump scripts run), on synthetic dumps from tests/builder: the
// exit status, the message (what went wrong and where) and what is left on
// disk. The library-level behaviour has its own tests in formats/ and
// collector/; this checks that it reaches the user intact. tests/collector/cli covers
// makedumpfile's conventions (closing lines, a missing VMCORE, refusals of
// option sets); tests/real_dumps the injected faults on the real dump.
#include <fcntl.h>
#include <gtest/gtest.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>

#include "base/physical_memory.h"
#include "formats/elf_format.h"
#include "formats/kdump_format.h"
#include "formats/open_dump.h"
#include "tests/builder/dump_builder.h"
#include "tests/builder/kernel_layout.h"
#include "tests/builder/test_files.h"

namespace vmc::testing {
namespace {

namespace fs = std::filesystem;

struct Outcome {
  int exit_code = -1;
  std::string output;  // stdout and stderr together, in order
};

std::vector<std::byte> read_bytes(const std::string& path) {
  std::string s = read_whole_file(path);
  auto b = reinterpret_cast<const std::byte*>(s.data());
  return {b, b + s.size()};
}

void write_bytes(const std::string& path, std::span<const std::byte> bytes) {
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  out.write(reinterpret_cast<const char*>(bytes.data()), static_cast<std::streamsize>(bytes.size()));
}

class Cli : public ::testing::Test {
 protected:
  void SetUp() override {
    std::string tmpl = (fs::temp_directory_path() / "vmcollect-cli-XXXXXX").string();
    ASSERT_NE(::mkdtemp(tmpl.data()), nullptr);
    dir_ = tmpl;
  }
  void TearDown() override {
    // Directories a test made read-only must be writable again to be removed.
    for (auto& e : fs::recursive_directory_iterator(dir_)) {
      if (e.is_directory()) fs::permissions(e.path(), fs::perms::owner_all, fs::perm_options::add);
    }
    fs::remove_all(dir_);
  }

  std::string path(const std::string& name) const { return (fs::path(dir_) / name).string(); }

  // Runs vmcollect with args; as_nobody drops root first (a root process
  // writes into any directory, so permission errors need another user).
  // Standard output goes to stdout_path when given (a -F stream), else into
  // the outcome's text with standard error.
  Outcome run(std::vector<std::string> args, bool as_nobody = false,
              const std::string& stdout_path = "") const {
    std::string log = path("run.log");
    pid_t pid = ::fork();
    if (pid == 0) {
      int fd = ::open(log.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
      int out = stdout_path.empty() ? fd : ::open(stdout_path.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
      int null = ::open("/dev/null", O_RDONLY);
      ::dup2(null, 0);
      ::dup2(out, 1);
      ::dup2(fd, 2);
      if (as_nobody && ::geteuid() == 0 && (::setgid(65534) != 0 || ::setuid(65534) != 0)) _exit(126);
      std::vector<char*> argv{const_cast<char*>(VMCOLLECT_BINARY)};
      for (auto& a : args) argv.push_back(a.data());
      argv.push_back(nullptr);
      ::execv(VMCOLLECT_BINARY, argv.data());
      _exit(127);
    }
    int status = 0;
    ::waitpid(pid, &status, 0);
    Outcome o;
    o.exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
    o.output = read_whole_file(log);
    fs::remove(log);
    return o;
  }

  // A small machine: 4 MiB + 1 MiB of RAM, text, random and zero pages.
  static DumpBuilder machine() {
    DumpBuilder b;
    b.add_ram(0, 4 << 20, 0xffff888000000000ull).add_ram(8 << 20, 1 << 20, 0xffff888000800000ull);
    b.set_vmcoreinfo("OSRELEASE=6.1.0-test\nPAGESIZE=4096\nCRASHTIME=1700000000\n").set_prstatus_notes(1);
    for (uint64_t pfn = 0; pfn < 0x900; ++pfn) {
      if (pfn >= 0x400 && pfn < 0x800) continue;
      b.fill_page(pfn, pfn % 3 == 0 ? PageFill::kZero : pfn % 3 == 1 ? PageFill::kRandom : PageFill::kText, pfn);
    }
    return b;
  }

  std::string vmcore() const {
    std::string p = path("vmcore");
    if (!fs::exists(p)) {
      auto s = machine().write_elf(p);
      EXPECT_TRUE(s.ok()) << s.error().describe();
    }
    return p;
  }

  std::string dir_;
};

uint32_t kdump_status(const std::vector<std::byte>& file) {
  uint32_t status = 0;
  if (file.size() >= offsetof(kdump::DiskDumpHeader, status) + 4) {
    std::memcpy(&status, file.data() + offsetof(kdump::DiskDumpHeader, status), 4);
  }
  return status;
}

mode_t mode_of(const std::string& p) {
  struct stat st {};
  ::stat(p.c_str(), &st);
  return st.st_mode & 07777;
}

#define EXPECT_MENTIONS(outcome, text) \
  EXPECT_NE((outcome).output.find(text), std::string::npos) << "no \"" << (text) << "\" in:\n" << (outcome).output

TEST_F(Cli, AGoodDumpWorksAndIsMode0600) {
  auto o = run({"-l", "-d", "1", vmcore(), path("out")});
  EXPECT_EQ(o.exit_code, 0) << o.output;
  EXPECT_MENTIONS(o, "The dumpfile is saved to " + path("out"));
  EXPECT_EQ(mode_of(path("out")), 0600u);
  EXPECT_EQ(kdump_status(read_bytes(path("out"))) & kdump::kIncomplete, 0u);
}

// libkdumpfile (and so drgn) takes the header's utsname only with a version.
// With -F, standard output carries the dump to ssh or a compressor: even a
// refused command line must not write text into it (issue 19).
TEST_F(Cli, WithFlattenNothingButTheDumpGoesToStandardOutput) {
  std::string stream = path("stream");
  for (std::vector<std::string> args : {std::vector<std::string>{"-F", "-l", "--no-such-option", vmcore()},
                                        std::vector<std::string>{"-lF", "-d", "99", vmcore()}}) {
    Outcome o = run(args, false, stream);
    EXPECT_EQ(o.exit_code, 1) << o.output;
    EXPECT_EQ(fs::file_size(stream), 0u) << "stdout: " << read_whole_file(stream);
    EXPECT_NE(o.output.find("Failed."), std::string::npos) << o.output;
  }
}

// --dry-run does the whole dump and writes nothing; --show-stats prints the
// statistics whatever the message level (issue 19, item 3).
TEST_F(Cli, DryRunWritesNothingAndShowStatsPrintsTheReport) {
  std::string out = path("dry.kdump");
  Outcome o = run({"-l", "-d", "1", "--dry-run", "--show-stats", "--message-level", "7", vmcore(), out});
  EXPECT_EQ(o.exit_code, 0) << o.output;
  EXPECT_FALSE(fs::exists(out));
  EXPECT_NE(o.output.find("Original pages"), std::string::npos) << o.output;
  EXPECT_NE(o.output.find("--dry-run: nothing was written; " + out + " would take "), std::string::npos) << o.output;
  // The size it names is the size the same dump has when written.
  Outcome real = run({"-l", "-d", "1", vmcore(), out});
  ASSERT_EQ(real.exit_code, 0) << real.output;
  EXPECT_NE(o.output.find(" would take " + std::to_string(fs::file_size(out)) + " bytes"), std::string::npos)
      << o.output;
  EXPECT_EQ(run({"--dry-run", "--dump-dmesg", vmcore(), path("log")}).exit_code, 1);
}

TEST_F(Cli, TheKdumpHeaderCarriesTheDeadKernelsWholeUname) {
  KernelLayoutBuilder kernel(debian_6_1());
  kernel.finish();
  ASSERT_TRUE(kernel.dump().write_elf(path("kvmcore")).ok());
  auto o = run({"-l", "-d", "31", path("kvmcore"), path("out")});
  ASSERT_EQ(o.exit_code, 0) << o.output;
  EXPECT_EQ(o.output.find("Warning"), std::string::npos) << o.output;
  auto file = read_bytes(path("out"));
  ASSERT_GE(file.size(), sizeof(kdump::DiskDumpHeader));
  kdump::DiskDumpHeader h{};
  std::memcpy(&h, file.data(), sizeof h);
  EXPECT_STREQ(h.utsname.sysname, "Linux");
  EXPECT_STREQ(h.utsname.nodename, "vmc-test");
  EXPECT_EQ(std::string(h.utsname.release), debian_6_1().osrelease);
  EXPECT_STREQ(h.utsname.version, "#1 SMP PREEMPT_DYNAMIC vmcollect builder");
  EXPECT_STREQ(h.utsname.machine, "x86_64");
  EXPECT_STREQ(h.utsname.domainname, "(none)");
}

TEST_F(Cli, WrongMagicNamesTheFileAndWhatItStartsWith) {
  std::string bad = path("notes.txt");
  std::ofstream(bad) << "hello, this is not a dump\n";
  auto o = run({"-l", "-d", "1", bad, path("out")});
  EXPECT_EQ(o.exit_code, 1);
  EXPECT_MENTIONS(o, bad);
  EXPECT_MENTIONS(o, "not a dump");
  EXPECT_MENTIONS(o, "hello");
  EXPECT_FALSE(fs::exists(path("out"))) << "nothing is created for an input that is not a dump";
}

TEST_F(Cli, EmptyFileIsRejected) {
  std::string empty = path("empty");
  std::ofstream(empty).flush();
  auto o = run({"-d", "1", empty, path("out")});
  EXPECT_EQ(o.exit_code, 1);
  EXPECT_MENTIONS(o, empty);
  EXPECT_MENTIONS(o, "empty");
}

TEST_F(Cli, NonCoreElfIsRejectedNamingItsType) {
  auto o = run({"-d", "1", "/bin/true", path("out")});
  EXPECT_EQ(o.exit_code, 1);
  EXPECT_MENTIONS(o, "/bin/true");
  EXPECT_MENTIONS(o, "ET_CORE");
  EXPECT_FALSE(fs::exists(path("out")));
}

TEST_F(Cli, FileTruncatedInsideItsHeadersIsRejected) {
  auto elf = read_bytes(vmcore());
  std::string cut = path("cut-headers");
  write_bytes(cut, std::span(elf).first(100));  // ELF header, half a program header
  auto o = run({"-d", "1", cut, path("out")});
  EXPECT_EQ(o.exit_code, 1);
  EXPECT_MENTIONS(o, cut);
  EXPECT_MENTIONS(o, "program header");
}

TEST_F(Cli, FileTruncatedInsidePageDataFailsNamingTheMissingPages) {
  auto elf = read_bytes(vmcore());
  std::string cut = path("cut-data");
  write_bytes(cut, std::span(elf).first(elf.size() / 2));
  auto o = run({"-l", "-d", "1", cut, path("out")});
  EXPECT_EQ(o.exit_code, 1) << o.output;
  EXPECT_MENTIONS(o, cut + " is truncated: PT_LOAD segment 1 (paddr 0x0-0x400000)");
  EXPECT_MENTIONS(o, "the input is incomplete");
  // The pages that exist are dumped; the dump says it is not whole.
  ASSERT_TRUE(fs::exists(path("out")));
  EXPECT_NE(kdump_status(read_bytes(path("out"))) & kdump::kIncomplete, 0u);
}

// A kdump dump cut in transit, re-filtered: it used to exit 0, "Completed",
// with the cut pages silently missing. Now they are named, the output is
// marked incomplete and the exit status is 1.
TEST_F(Cli, TruncatedKdumpInputFailsNamingTheMissingPages) {
  std::string kdump = path("vmcore.kdump");
  ASSERT_EQ(run({"-l", "-d", "0", vmcore(), kdump}).exit_code, 0);
  auto bytes = read_bytes(kdump);
  std::string cut = path("cut.kdump");
  write_bytes(cut, std::span(bytes).first(bytes.size() - 64 * 1024));
  auto o = run({"-l", "-d", "1", cut, path("out")});
  EXPECT_EQ(o.exit_code, 1) << o.output;
  EXPECT_MENTIONS(o, "Unreadable pages left out: pfn ");
  EXPECT_MENTIONS(o, "beyond the end of the file");
  EXPECT_MENTIONS(o, "is incomplete");
  ASSERT_TRUE(fs::exists(path("out")));
  EXPECT_NE(kdump_status(read_bytes(path("out"))) & kdump::kIncomplete, 0u);
}

// -i reads a VMCOREINFO text of a few KiB: /dev/zero used to be read until
// bad_alloc aborted the run, and a directory read as an empty text reported a
// kernel version mismatch (exit 2).
TEST_F(Cli, VmcoreinfoFileMustBeASmallRegularFile) {
  auto dev = run({"-d", "31", "-i", "/dev/zero", vmcore(), path("out1")});
  EXPECT_EQ(dev.exit_code, 1) << dev.output;
  EXPECT_MENTIONS(dev, "the VMCOREINFO file /dev/zero is not a regular file (it is a character device)");
  auto dir = run({"-d", "31", "-i", dir_, vmcore(), path("out2")});
  EXPECT_EQ(dir.exit_code, 1) << dir.output;
  EXPECT_MENTIONS(dir, "the VMCOREINFO file " + dir_ + " is not a regular file (it is a directory)");
  std::string big = path("big-vmcoreinfo");
  write_bytes(big, std::vector<std::byte>((1 << 20) + 1, std::byte{'A'}));
  auto large = run({"-d", "31", "-i", big, vmcore(), path("out3")});
  EXPECT_EQ(large.exit_code, 1) << large.output;
  EXPECT_MENTIONS(large, "the VMCOREINFO file " + big + " is larger than 1048576 bytes");
}

TEST_F(Cli, OutputDirectoryThatCannotBeWrittenIsNamed) {
  std::string input = vmcore();
  fs::permissions(dir_, fs::perms::owner_all | fs::perms::group_read | fs::perms::group_exec |
                            fs::perms::others_read | fs::perms::others_exec);
  fs::permissions(input, fs::perms::owner_read | fs::perms::group_read | fs::perms::others_read);
  std::string locked = path("locked");
  fs::create_directory(locked);
  fs::permissions(locked, fs::perms::owner_read | fs::perms::owner_exec | fs::perms::group_read |
                              fs::perms::group_exec | fs::perms::others_read | fs::perms::others_exec);
  auto o = run({"-l", "-d", "1", input, locked + "/vmcore"}, /*as_nobody=*/true);
  EXPECT_EQ(o.exit_code, 1);
  EXPECT_MENTIONS(o, locked + "/vmcore");
  EXPECT_MENTIONS(o, "Permission denied");
  EXPECT_FALSE(fs::exists(locked + "/vmcore"));
}

TEST_F(Cli, MissingOutputDirectoryIsNamed) {
  auto o = run({"-l", "-d", "1", vmcore(), path("no/such/dir/vmcore")});
  EXPECT_EQ(o.exit_code, 1);
  EXPECT_MENTIONS(o, path("no/such/dir/vmcore"));
  EXPECT_MENTIONS(o, "No such file or directory");
}

// (The refusal itself, with makedumpfile's wording, is tests/collector/cli's closing_lines.)
TEST_F(Cli, ExistingFileIsKeptWithoutFAndMadePrivateWithF) {
  std::string out = path("existing");
  std::ofstream(out) << "keep me";
  fs::permissions(out, fs::perms::owner_read | fs::perms::owner_write | fs::perms::group_read |
                           fs::perms::others_read);
  auto o = run({"-l", "-d", "1", vmcore(), out});
  EXPECT_EQ(o.exit_code, 1);
  EXPECT_MENTIONS(o, out);
  EXPECT_MENTIONS(o, "already exists");
  EXPECT_MENTIONS(o, "-f");
  EXPECT_EQ(read_whole_file(out), "keep me");

  o = run({"-f", "-l", "-d", "1", vmcore(), out});
  EXPECT_EQ(o.exit_code, 0) << o.output;
  EXPECT_EQ(mode_of(out), 0600u) << "an overwritten dump is private too";
  EXPECT_NE(read_whole_file(out), "keep me");
}

TEST_F(Cli, RearrangeAndDmesgRefuseToOverwriteToo) {
  std::string out = path("existing");
  std::ofstream(out) << "keep me";
  auto o = run({"-R", out});
  EXPECT_EQ(o.exit_code, 1);
  EXPECT_MENTIONS(o, "already exists");
  EXPECT_EQ(read_whole_file(out), "keep me");
}

TEST_F(Cli, FullDiskLeavesAnIncompleteDumpThatStillReads) {
  auto b = machine();
  std::string out = path("full");
  // Pages go out 1024 at a time (a chunk: data, then its descriptors): the
  // first chunk (about 2.8 MiB here) fits, the second is cut.
  const uint64_t limit = 3 << 20;
  auto o = run({"-d", "0", "--inject-fault=write-enospc=" + std::to_string(limit), vmcore(), out});
  EXPECT_EQ(o.exit_code, 1);
  EXPECT_MENTIONS(o, "No space left on device");
  EXPECT_MENTIONS(o, out);
  EXPECT_MENTIONS(o, "offset 0x");
  EXPECT_MENTIONS(o, "incomplete");
  EXPECT_EQ(mode_of(out), 0600u);
  auto file = read_bytes(out);
  EXPECT_LE(file.size(), limit);
  EXPECT_NE(kdump_status(file) & kdump::kIncomplete, 0u);

  // Our reader (libkdumpfile judges the same on a real dump in vm_e2e.py):
  // the pages that made it read back right, and some did not make it.
  auto dump = open_dump(out);
  ASSERT_TRUE(dump.ok()) << dump.error().describe();
  EXPECT_TRUE((*dump)->metadata().incomplete);
  uint64_t good = 0, missing = 0;
  for (const auto& r : (*dump)->ram()) {
    for (uint64_t pfn = r.start; pfn < r.end; ++pfn) {
      auto page = (*dump)->pages(pfn, 1);
      if (!page.ok()) {
        ++missing;
        continue;
      }
      auto want = b.page(pfn);
      ASSERT_TRUE(std::equal(want.begin(), want.end(), page->bytes().begin())) << "pfn " << pfn;
      ++good;
    }
  }
  EXPECT_GT(good, 0u);
  EXPECT_GT(missing, 0u);
}

TEST_F(Cli, FullDiskOnAFlattenedStreamIsAFailureToo) {
  auto o = run({"-F", "-l", "-d", "1", "--inject-fault=write-enospc=65536", vmcore()}, false,
               path("stream"));
  EXPECT_EQ(o.exit_code, 1);
  EXPECT_MENTIONS(o, "No space left on device");
  EXPECT_MENTIONS(o, "standard output");
}

// kexec-tools' vmcore-dmesg (and gdb) find kernel symbols through the
// kernel-text PT_LOAD of /proc/vmcore; makedumpfile's -E output keeps it, and
// so must ours (found by vm_e2e.py: vmcore-dmesg failed on our -E output).
TEST_F(Cli, ElfOutputKeepsTheKernelTextMapping) {
  auto b = machine();
  const uint64_t text_vaddr = 0xffffffff81000000ull, text_paddr = 1 << 20, text_size = 1 << 20;
  b.add_kernel_text_segment(text_vaddr, text_paddr, text_size);
  std::string input = path("vmcore-text");
  ASSERT_TRUE(b.write_elf(input).ok());
  auto o = run({"-E", "-d", "1", input, path("out.elf")});
  ASSERT_EQ(o.exit_code, 0) << o.output;
  auto file = read_bytes(path("out.elf"));
  elf::Ehdr eh{};
  std::memcpy(&eh, file.data(), sizeof eh);
  uint64_t text_bytes = 0;
  for (uint64_t i = 0; i < eh.e_phnum; ++i) {
    elf::Phdr ph{};
    std::memcpy(&ph, file.data() + eh.e_phoff + i * sizeof ph, sizeof ph);
    if (ph.p_type != elf::kPtLoad || ph.p_vaddr < text_vaddr) continue;
    ASSERT_EQ(ph.p_vaddr - text_vaddr, ph.p_paddr - text_paddr) << "text vaddr and paddr agree";
    ASSERT_LE(ph.p_paddr + ph.p_filesz, text_paddr + text_size);
    ASSERT_LE(ph.p_offset + ph.p_filesz, file.size());
    for (uint64_t off = 0; off < ph.p_filesz; off += 4096) {
      auto want = b.page((ph.p_paddr + off) / 4096);
      ASSERT_EQ(std::memcmp(file.data() + ph.p_offset + off, want.data(), 4096), 0)
          << "paddr " << std::hex << ph.p_paddr + off;
    }
    text_bytes += ph.p_filesz;
  }
  // Every non-zero page of the text range is there (zero pages of -d 1 are
  // left out only in runs of 256 or more, and this range has none).
  EXPECT_EQ(text_bytes, text_size);
}

}  // namespace
}  // namespace vmc::testing
