// Real dumps from tests/vm/make-dump.sh (Debian 6.1 and 6.12 under QEMU):
// our kernel log must equal /usr/sbin/vmcore-dmesg's output byte for byte.
// Skipped unless VMCOLLECT_REAL_DUMP_DIR names a directory holding `vmcore`.
//
// Two address spaces are tried: the real x86_64 one, and a minimal
// kernel-text + direct-map translation, so a failure points at either the
// page-table walker or the log decoder.
#include <gtest/gtest.h>

#include <cstdlib>

#include "formats/physical_memory.h"
#include "tests/dmesg/dmesg_test_support.h"
#include "vmcoreinfo/address_space.h"
#include "vmcoreinfo/dmesg.h"
#include "vmcoreinfo/vmcoreinfo.h"

namespace vmc::testing {
namespace {

// x86_64 without page tables: the kernel image map through phys_base, the
// direct map through the offset a direct-map PT_LOAD shows. Enough for the
// printk structures, which live in the image or in memblock memory.
class TextAndDirectMap final : public KernelAddressSpace {
 public:
  static constexpr uint64_t kKernelTextBase = 0xffffffff80000000ULL;
  TextAndDirectMap(PhysicalMemory& memory, uint64_t phys_base, uint64_t page_offset)
      : KernelAddressSpace(memory), phys_base_(phys_base), page_offset_(page_offset) {}
  Result<uint64_t> virt_to_phys(uint64_t vaddr) const override {
    if (vaddr >= kKernelTextBase) return vaddr - kKernelTextBase + phys_base_;
    if (vaddr >= page_offset_) return vaddr - page_offset_;
    return Error(ErrorKind::kBadInput, hex(vaddr) + " is neither kernel text nor direct map");
  }

 private:
  uint64_t phys_base_, page_offset_;
};

class RealDump : public ::testing::Test {
 protected:
  void SetUp() override {
    const char* dir = std::getenv("VMCOLLECT_REAL_DUMP_DIR");
    if (!dir || !*dir) GTEST_SKIP() << "VMCOLLECT_REAL_DUMP_DIR is not set";
    path_ = std::string(dir) + "/vmcore";
    auto memory = open_dump(path_);
    ASSERT_TRUE(memory.ok()) << memory.error().describe();
    memory_ = std::move(memory).value();
    auto info = VmcoreInfo::parse(memory_->metadata().vmcoreinfo);
    ASSERT_TRUE(info.ok()) << info.error().describe();
    info_ = std::make_unique<VmcoreInfo>(std::move(info).value());
    reference_ = run_vmcore_dmesg_file(path_);
    if (!reference_) GTEST_SKIP() << "vmcore-dmesg is not installed";
    ASSERT_EQ(reference_->exit_code, 0) << reference_->err;
    ASSERT_FALSE(reference_->out.empty());
  }

  void expect_identical(const KernelAddressSpace& kernel) {
    auto r = extract_dmesg(kernel, *info_);
    ASSERT_TRUE(r.ok()) << r.error().describe();
    std::string warnings;
    for (const auto& w : r->warnings) warnings += w + "\n";
    EXPECT_TRUE(r->warnings.empty()) << warnings;
    if (r->text != reference_->out) {
      // Point at the first difference rather than printing two 30 KiB logs.
      size_t at = 0;
      while (at < r->text.size() && at < reference_->out.size() && r->text[at] == reference_->out[at]) ++at;
      size_t line_start = reference_->out.rfind('\n', at == 0 ? 0 : at - 1);
      line_start = line_start == std::string::npos ? 0 : line_start + 1;
      ADD_FAILURE() << info_->osrelease() << ": first difference at byte " << at << " (ours "
                    << r->text.size() << " bytes, vmcore-dmesg " << reference_->out.size() << ")\n"
                    << "vmcore-dmesg: " << reference_->out.substr(line_start, 200) << "\n"
                    << "ours:         " << r->text.substr(line_start, 200);
    }
  }

  std::string path_;
  std::unique_ptr<PhysicalMemory> memory_;
  std::unique_ptr<VmcoreInfo> info_;
  std::optional<ReferenceRun> reference_;
};

TEST_F(RealDump, IdenticalToVmcoreDmesgThroughTheX86AddressSpace) {
  auto kernel = make_x86_64_address_space(*memory_, *info_);
  ASSERT_TRUE(kernel.ok()) << kernel.error().describe();
  expect_identical(**kernel);
}

TEST_F(RealDump, IdenticalToVmcoreDmesgThroughTextAndDirectMap) {
  auto phys_base = info_->number("phys_base");
  ASSERT_TRUE(phys_base.has_value()) << "no NUMBER(phys_base)";
  std::optional<uint64_t> page_offset;
  for (const auto& s : memory_->metadata().segments) {
    if (s.vaddr != 0 && s.vaddr < TextAndDirectMap::kKernelTextBase && s.vaddr >= s.paddr) {
      page_offset = s.vaddr - s.paddr;
      break;
    }
  }
  ASSERT_TRUE(page_offset.has_value()) << "no direct-map segment";
  TextAndDirectMap kernel(*memory_, static_cast<uint64_t>(*phys_base), *page_offset);
  expect_identical(kernel);
}

}  // namespace
}  // namespace vmc::testing
