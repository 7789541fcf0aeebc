// Why a reference runner: "byte-identical to vmcore-dmesg" is only a claim
// until the same synthetic machine goes through both programs.
#include "tests/vmcoreinfo/printk/dmesg_test_support.h"
#include "tests/builder/test_files.h"

#include <gtest/gtest.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <sstream>

#include "vmcoreinfo/table/vmcoreinfo.h"

namespace vmc::testing {

BuilderMemory::BuilderMemory(const DumpBuilder& builder) : builder_(builder) {
  metadata_.format = "elf";
  metadata_.page_size = builder.page_size();
  metadata_.vmcoreinfo = builder.vmcoreinfo();
  for (const auto& [start, end] : builder.ram_pfn_ranges()) ram_.push_back({start, end});
}

void BuilderMemory::available(uint64_t start, uint64_t end, std::span<uint64_t> bits) const {
  for (uint64_t pfn = start; pfn < end; ++pfn) {
    if (builder_.in_ram(pfn * page_size(), page_size()) && !bad_.count(pfn)) {
      bits[(pfn - start) / 64] |= uint64_t{1} << ((pfn - start) % 64);
    }
  }
}

Result<io::ByteView> BuilderMemory::pages(uint64_t pfn, uint64_t count) {
  std::vector<std::byte> out(count * page_size());
  VMC_TRY(read_physical(pfn * page_size(), out));
  return io::ByteView::copy_of(std::move(out));
}

Status BuilderMemory::read_physical(uint64_t paddr, std::span<std::byte> out) {
  const uint64_t ps = page_size();
  for (uint64_t pfn = paddr / ps; pfn * ps < paddr + out.size(); ++pfn) {
    if (bad_.count(pfn)) return Error(ErrorKind::kIo, "pfn " + hex(pfn) + " unreadable (test)", EIO);
  }
  if (!builder_.in_ram(paddr, out.size())) {
    return Error(ErrorKind::kBadInput, "physical " + hex(paddr) + " is not RAM");
  }
  auto bytes = builder_.read_physical(paddr, out.size());
  std::copy(bytes.begin(), bytes.end(), out.begin());
  return {};
}

Result<uint64_t> DirectMapSpace::virt_to_phys(uint64_t vaddr) const {
  if (vaddr < offset_)
    return Error(ErrorKind::kBadInput, "virtual " + hex(vaddr) + " is not in the direct map");
  return vaddr - offset_;
}

DumpBuilder make_machine(const PrintkPlacement& placement) {
  DumpBuilder b;
  b.add_ram(0, 16 << 20, placement.va_offset);
  b.set_vmcoreinfo("OSRELEASE=6.1.0-test\nPAGESIZE=4096\n");
  return b;
}

DumpBuilder machine_with(const LocklessRingBuilder& ring) {
  DumpBuilder b = make_machine();
  ring.write(b, PrintkPlacement{});
  return b;
}

DumpBuilder machine_with(const StructuredLogBuilder& log) {
  DumpBuilder b = make_machine();
  log.write(b, PrintkPlacement{});
  return b;
}

DumpBuilder machine_with(const LegacyLogBuilder& log, bool with_logged_chars) {
  DumpBuilder b = make_machine();
  b.set_vmcoreinfo("OSRELEASE=2.6.32-test\nPAGESIZE=4096\n");
  log.write(b, PrintkPlacement{}, with_logged_chars);
  return b;
}

Result<DmesgResult> extract(const DumpBuilder& builder, const std::set<uint64_t>& bad,
                            const PrintkPlacement& placement, const DmesgOptions& options) {
  BuilderMemory memory(builder);
  for (uint64_t pfn : bad) memory.fail_reads(pfn);
  DirectMapSpace kernel(memory, placement.va_offset);
  auto info = VmcoreInfo::parse(builder.vmcoreinfo());
  if (!info.ok()) return std::move(info).error();
  return extract_dmesg(kernel, *info, options);
}

std::optional<ReferenceRun> run_vmcore_dmesg_file(const std::string& path) {
  const char* env = std::getenv("VMCOLLECT_VMCORE_DMESG");
  std::string tool = env ? env : "/usr/sbin/vmcore-dmesg";
  if (::access(tool.c_str(), X_OK) != 0) return std::nullopt;
  char dir_template[] = "/tmp/vmc-dmesg-ref-XXXXXX";
  if (!::mkdtemp(dir_template)) return std::nullopt;
  std::string dir = dir_template;
  std::string cmd = "'" + tool + "' '" + path + "' >" + dir + "/out 2>" + dir + "/err";
  int status = std::system(cmd.c_str());
  ReferenceRun run{WIFEXITED(status) ? WEXITSTATUS(status) : -1, read_whole_file(dir + "/out"), read_whole_file(dir + "/err")};
  std::remove((dir + "/out").c_str());
  std::remove((dir + "/err").c_str());
  ::rmdir(dir.c_str());
  return run;
}

std::optional<ReferenceRun> run_vmcore_dmesg(const DumpBuilder& builder) {
  char path[] = "/tmp/vmc-dmesg-core-XXXXXX";
  int fd = ::mkstemp(path);
  if (fd < 0) return std::nullopt;
  ::close(fd);
  if (!builder.write_elf(path).ok()) {
    std::remove(path);
    return std::nullopt;
  }
  auto run = run_vmcore_dmesg_file(path);
  std::remove(path);
  return run;
}

void expect_matches_reference(const DumpBuilder& b, const std::string& ours) {
  auto ref = run_vmcore_dmesg(b);
  if (!ref) return;
  EXPECT_EQ(ref->exit_code, 0) << ref->err;
  EXPECT_EQ(ref->out, ours);
}

std::string joined(const std::vector<std::string>& v) {
  std::string s;
  for (const auto& w : v) s += w + "\n";
  return s;
}

bool any_warning_has(const DmesgResult& r, const std::string& needle) {
  for (const auto& w : r.warnings) {
    if (w.find(needle) != std::string::npos) return true;
  }
  return false;
}

}  // namespace vmc::testing
