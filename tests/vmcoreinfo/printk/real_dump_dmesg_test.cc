// Real dumps from tests/vm/make-dump.sh (Debian 6.1 and 6.12 under QEMU):
// our kernel log must equal /usr/sbin/vmcore-dmesg's output byte for byte.
// Skipped unless VMCOLLECT_REAL_DUMP_DIR names a directory holding `vmcore`.
//
// Two address spaces are tried: the real x86_64 one, and a minimal
// kernel-text + direct-map translation, so a failure points at either the
// page-table walker or the log decoder.
#include <gtest/gtest.h>

#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <set>

#include "base/physical_memory.h"
#include "formats/open_dump.h"
#include "tests/vmcoreinfo/printk/dmesg_test_support.h"
#include "vmcoreinfo/arch/address_space.h"
#include "vmcoreinfo/printk/dmesg.h"
#include "vmcoreinfo/printk/printk_ringbuffer.h"
#include "vmcoreinfo/table/vmcoreinfo.h"

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
    if (!reference_) {
      // CI installs kexec-tools (tests/setup-deps.sh): missing there is a failure.
      const char* ci = std::getenv("CI");
      if (ci && std::string(ci) == "true") FAIL() << "vmcore-dmesg is not installed";
      GTEST_SKIP() << "vmcore-dmesg is not installed";
    }
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

// Reading the log from a kdump-compressed dump of the whole 1 GiB machine
// (the capture kernel's `-l -d 1` and `-c -d 1` outputs) must fetch only the
// log's own pages, not decompress the dump: at most the pages the printk
// ring spans (data ring, descriptors, printk_info array, the ring struct and
// the prb pointer), the page-table pages that map them, and a small constant.
class RealKdumpDump : public RealDump {
 protected:
  // Adds the virtual pages [vaddr, vaddr + size) touches.
  static void add_pages(std::set<uint64_t>& pages, uint64_t vaddr, uint64_t size) {
    for (uint64_t p = vaddr / 4096; size != 0 && p <= (vaddr + size - 1) / 4096; ++p) pages.insert(p);
  }

  // The distinct pages of the log, located through the raw ELF vmcore.
  uint64_t log_pages() {
    auto kernel = make_x86_64_address_space(*memory_, *info_);
    EXPECT_TRUE(kernel.ok());
    if (!kernel.ok()) return 0;
    auto layout = dmesg::PrbLayout::from(*info_);
    EXPECT_TRUE(layout.ok()) << "these kernels use the lockless ring";
    if (!layout.ok()) return 0;
    auto ring = dmesg::read_prb(**kernel, *layout);
    EXPECT_TRUE(ring.ok());
    if (!ring.ok()) return 0;
    std::set<uint64_t> pages;
    add_pages(pages, layout->prb_symbol, layout->word);
    add_pages(pages, ring->ringbuffer_vaddr, layout->ringbuffer_size);
    add_pages(pages, ring->descs.vaddr(), ring->descs.size());
    add_pages(pages, ring->infos.vaddr(), ring->infos.size());
    add_pages(pages, ring->data.vaddr(), ring->data.size());
    return pages.size();
  }

  void expect_reads_only_the_log(const std::string& name) {
    const char* dir = std::getenv("VMCOLLECT_REAL_DUMP_DIR");
    const std::string path = std::string(dir) + "/capture/" + name;
    if (::access(path.c_str(), R_OK) != 0) {
      // The CTest fixture runs make-dump.sh --vmcollect, which writes it.
      FAIL() << path << " is missing (make-dump.sh without --vmcollect?)";
    }
    const uint64_t log = log_pages();
    const uint64_t bound = log + kPageTablePages + kSlack;
    auto dump = open_dump(path);
    ASSERT_TRUE(dump.ok()) << dump.error().describe();
    ASSERT_EQ((*dump)->metadata().format, "kdump");
    auto kernel = make_x86_64_address_space(**dump, *info_);
    ASSERT_TRUE(kernel.ok()) << kernel.error().describe();
    auto r = extract_dmesg(**kernel, *info_);
    ASSERT_TRUE(r.ok()) << r.error().describe();
    EXPECT_EQ(r->text, reference_->out);
    const ReadCounters c = (*dump)->read_counters();
    uint64_t ram_pages = 0;
    for (const auto& range : (*dump)->ram()) ram_pages += range.count();
    std::printf("%s (%s): %llu pages read, %llu decompressed; the log spans %llu pages, bound %llu; "
                "the dump covers %llu pages of RAM\n",
                name.c_str(), info_->osrelease().c_str(), static_cast<unsigned long long>(c.pages_read),
                static_cast<unsigned long long>(c.pages_decompressed), static_cast<unsigned long long>(log),
                static_cast<unsigned long long>(bound), static_cast<unsigned long long>(ram_pages));
    EXPECT_GT(c.pages_read, 0u) << "the kdump reader does not count";
    EXPECT_LE(c.pages_read, bound);
    EXPECT_LE(c.pages_decompressed, c.pages_read);
  }

  // x86_64: at most a PGD, a PUD and a PMD per mapping (kernel image, direct
  // map), plus PTE pages where the ring is 4 KiB-mapped.
  static constexpr uint64_t kPageTablePages = 16;
  static constexpr uint64_t kSlack = 8;
};

TEST_F(RealKdumpDump, LogFromLzoDumpReadsOnlyTheLogPages) { expect_reads_only_the_log("vmcore-vmcollect-l-d1"); }

TEST_F(RealKdumpDump, LogFromZlibDumpReadsOnlyTheLogPages) { expect_reads_only_the_log("vmcore-vmcollect-c-d1"); }

}  // namespace
}  // namespace vmc::testing
