// Test plumbing for the kernel log decoders: a PhysicalMemory over a
// DumpBuilder (with pages that fail to read on demand), a direct-map-only
// address space (so these tests do not depend on the page-table walker), and
// a runner for kexec-tools' vmcore-dmesg on the same synthetic machine, which
// serves as the reference when it is installed.
#pragma once

#include <memory>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "base/physical_memory.h"
#include "tests/builder/dump_builder.h"
#include "tests/builder/printk_layout.h"
#include "vmcoreinfo/arch/address_space.h"
#include "vmcoreinfo/printk/dmesg.h"

namespace vmc::testing {

class BuilderMemory final : public PhysicalMemory {
 public:
  explicit BuilderMemory(const DumpBuilder& builder);
  const DumpMetadata& metadata() const override { return metadata_; }
  const std::vector<PfnRange>& ram() const override { return ram_; }
  void available(uint64_t start, uint64_t end, std::span<uint64_t> bits) const override;
  Result<io::ByteView> pages(uint64_t pfn, uint64_t count) override;
  Status read_physical(uint64_t paddr, std::span<std::byte> out) override;
  void fail_reads(uint64_t pfn) { bad_.insert(pfn); }

 private:
  const DumpBuilder& builder_;
  DumpMetadata metadata_;
  std::vector<PfnRange> ram_;
  std::set<uint64_t> bad_;
};

// Kernel virtual = physical + offset, nothing else.
class DirectMapSpace final : public KernelAddressSpace {
 public:
  DirectMapSpace(PhysicalMemory& memory, uint64_t offset) : KernelAddressSpace(memory), offset_(offset) {}
  Result<uint64_t> virt_to_phys(uint64_t vaddr) const override;

 private:
  uint64_t offset_;
};

// A 16 MiB machine whose RAM is mapped at the placement's direct map, so
// vmcore-dmesg can translate the same addresses through PT_LOAD p_vaddr.
DumpBuilder make_machine(const PrintkPlacement& placement = {});

// make_machine() holding one log at the default placement. The legacy
// buffer's machine reports a 2.6.32 OSRELEASE; with_logged_chars: whether
// its VMCOREINFO exports logged_chars.
DumpBuilder machine_with(const LocklessRingBuilder& ring);
DumpBuilder machine_with(const StructuredLogBuilder& log);
DumpBuilder machine_with(const LegacyLogBuilder& log, bool with_logged_chars = true);

// extract_dmesg() on the builder's memory; pfns in `bad` fail to read.
Result<DmesgResult> extract(const DumpBuilder& builder, const std::set<uint64_t>& bad = {},
                            const PrintkPlacement& placement = {}, const DmesgOptions& options = {});

struct ReferenceRun {
  int exit_code;
  std::string out;  // stdout
  std::string err;  // stderr
};
// Runs /usr/sbin/vmcore-dmesg (or $VMCOLLECT_VMCORE_DMESG) on the builder's ELF
// core; nullopt when the binary is not installed.
std::optional<ReferenceRun> run_vmcore_dmesg(const DumpBuilder& builder);
std::optional<ReferenceRun> run_vmcore_dmesg_file(const std::string& path);

// When vmcore-dmesg is installed, it must exit 0 and print exactly `ours`
// for the builder's ELF core.
void expect_matches_reference(const DumpBuilder& b, const std::string& ours);

// One warning a line, for failure messages.
std::string joined(const std::vector<std::string>& v);

// Whether some warning contains `needle`.
bool any_warning_has(const DmesgResult& r, const std::string& needle);

// Bytes as a std::string, for building expected text with embedded NULs.
inline std::string bytes(std::initializer_list<int> values) {
  std::string s;
  for (int v : values) s.push_back(static_cast<char>(v));
  return s;
}

}  // namespace vmc::testing
