// The fixture of the tests on a tests/vm dump, in the library
// (real_dump_filter_test.cc) and through the binary (levels_vm_test.cc): the
// dump directory an environment variable names, its vmcore opened, its
// VMCOREINFO parsed and the dead kernel's counters read; and the check both
// make of the pages makedumpfile 1.7.2 alone leaves out.
#pragma once

#include <gtest/gtest.h>

#include <cstdint>
#include <cstdlib>
#include <memory>
#include <string>
#include <vector>

#include "base/error.h"
#include "base/physical_memory.h"
#include "formats/open_dump.h"
#include "tests/vmcoreinfo/pages/dead_kernel_counters.h"
#include "vmcoreinfo/arch/address_space.h"
#include "vmcoreinfo/pages/mem_map.h"
#include "vmcoreinfo/pages/page_decode.h"
#include "vmcoreinfo/table/vmcoreinfo.h"

namespace vmc::testing {

// Opens dump_dir/vmcore, parses its VMCOREINFO and reads the counters
// beside it, asserting each step (call under ASSERT_NO_FATAL_FAILURE).
inline void open_dead_kernel_dump(const std::string& dump_dir, std::unique_ptr<PhysicalMemory>& memory,
                                  VmcoreInfo& info, DeadKernelCounters& counters) {
  auto m = open_dump(dump_dir + "/vmcore");
  ASSERT_TRUE(m.ok()) << m.error().describe();
  memory = std::move(*m);
  auto parsed = VmcoreInfo::parse(memory->metadata().vmcoreinfo);
  ASSERT_TRUE(parsed.ok()) << parsed.error().describe();
  info = std::move(*parsed);
  auto read = read_dead_kernel_counters(dump_dir);
  ASSERT_TRUE(read) << "no pre-panic/{vmstat,meminfo,zoneinfo} in " << dump_dir;
  counters = *read;
}

// The test is skipped when the environment variable is unset. A derived
// SetUp() calls this one first and returns when IsSkipped() or
// HasFatalFailure().
class DeadKernelDumpTest : public ::testing::Test {
 protected:
  explicit DeadKernelDumpTest(const char* dir_variable) : dir_variable_(dir_variable) {}

  void SetUp() override {
    const char* dir = std::getenv(dir_variable_);
    if (dir == nullptr) GTEST_SKIP() << dir_variable_ << " not set (a tests/vm dump directory)";
    dir_ = dir;
    check_prerequisites();
    if (IsSkipped() || HasFatalFailure()) return;
    ASSERT_NO_FATAL_FAILURE(open_dead_kernel_dump(dir_, memory_, info_, counters_));
  }

  // What else the test needs, checked before the dump is opened: a skip or a
  // failure here stops SetUp(), so a missing tool is reported as that even
  // when the dump would not open.
  virtual void check_prerequisites() {}

  // makedumpfile 1.7.2 reads slab.slabs as page.mapping on 6.2+, so the
  // pages it alone leaves out must be slab pages: each pfn's struct page,
  // read through the dead kernel's own mem_map, must decode as one.
  void expect_slab_pages(const std::vector<uint64_t>& pfns) {
    auto kernel = make_x86_64_address_space(*memory_, info_);
    ASSERT_TRUE(kernel.ok());
    std::vector<std::string> w;
    auto model = KernelMemoryModel::load(**kernel, info_, w);
    auto layout = make_page_layout(info_, 31, w);
    ASSERT_TRUE(model.ok() && layout.ok());
    for (uint64_t p : pfns) {
      auto at = model->locate(p);
      ASSERT_TRUE(at) << hex(p);
      std::vector<std::byte> page(layout->size);
      ASSERT_TRUE((*kernel)->read_virtual(at->vaddr, page).ok());
      EXPECT_TRUE(decode(*layout, {page, {}, at->vaddr, p}).slab)
          << "makedumpfile alone leaves out " << hex(p) << ", not a slab page";
    }
  }

  std::string dir_;
  std::unique_ptr<PhysicalMemory> memory_;
  VmcoreInfo info_;
  DeadKernelCounters counters_;

 private:
  const char* dir_variable_;
};

}  // namespace vmc::testing
