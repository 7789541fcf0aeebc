// read_kernel_utsname on synthetic dumps of every kernel layout: the name
// where OFFSET(uts_namespace.name) puts it (5.11+) or after the struct kref of
// older kernels, and nothing copied that does not read as this kernel's uname.
#include "vmcoreinfo/kernel/utsname.h"

#include <gtest/gtest.h>

#include <string>

#include "tests/vmcoreinfo/pages/filter_test_util.h"
#include "vmcoreinfo/arch/address_space.h"

namespace vmc::testing {
namespace {

Result<KernelUtsname> read_uname(KernelLayoutBuilder& b) {
  auto d = open_built(b);
  if (!d.memory) return Error(ErrorKind::kBadInput, "the built dump does not open");
  auto kernel = make_x86_64_address_space(*d.memory, d.info);
  if (!kernel) return std::move(kernel).error();
  return read_kernel_utsname(**kernel, d.info);
}

// Where the builder put init_uts_ns, physically.
uint64_t uts_phys(KernelLayoutBuilder& b) {
  auto d = open_built(b);
  return b.machine().kernel_phys + (*d.info.symbol("init_uts_ns") - b.image_vaddr());
}

class UtsnamePerKernel : public ::testing::TestWithParam<KernelSpec> {};

TEST_P(UtsnamePerKernel, ReadsTheWholeUname) {
  KernelLayoutBuilder b(GetParam());
  b.finish();
  auto u = read_uname(b);
  ASSERT_TRUE(u.ok()) << u.error().describe();
  EXPECT_EQ(u->sysname, "Linux");
  EXPECT_EQ(u->nodename, "vmc-test");
  EXPECT_EQ(u->release, GetParam().osrelease);
  EXPECT_EQ(u->version, "#1 SMP PREEMPT_DYNAMIC vmcollect builder");
  EXPECT_EQ(u->machine, "x86_64");
  EXPECT_EQ(u->domainname, "(none)");
}

INSTANTIATE_TEST_SUITE_P(Kernels, UtsnamePerKernel, ::testing::ValuesIn(all_kernel_specs()),
                         [](const auto& p) { return p.param.name; });

TEST(KernelUtsname, WithoutTheOffsetA511KernelIsReadAtTheOldPlaceAndRefused) {
  KernelLayoutBuilder b(debian_6_1());
  b.omit_vmcoreinfo("OFFSET(uts_namespace.name)");
  b.finish();
  auto u = read_uname(b);
  ASSERT_FALSE(u.ok());
  EXPECT_NE(u.error().describe().find("init_uts_ns.name"), std::string::npos) << u.error().describe();
}

TEST(KernelUtsname, AnotherReleaseThanVmcoreinfosIsRefused) {
  KernelLayoutBuilder b(debian_6_1());
  b.finish();
  const char other[] = "5.4.0-bogus";
  b.dump().write_physical(uts_phys(b) + 2 * 65, std::as_bytes(std::span(other)));
  auto u = read_uname(b);
  ASSERT_FALSE(u.ok());
  EXPECT_NE(u.error().describe().find(debian_6_1().osrelease), std::string::npos) << u.error().describe();
}

TEST(KernelUtsname, NoSymbolIsAnError) {
  KernelLayoutBuilder b(debian_6_1());
  b.omit_vmcoreinfo("SYMBOL(init_uts_ns)");
  b.finish();
  EXPECT_FALSE(read_uname(b).ok());
}

}  // namespace
}  // namespace vmc::testing
