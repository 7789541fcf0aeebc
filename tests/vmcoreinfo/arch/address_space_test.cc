// x86_64 translation over synthetic dumps: phys_base from each source, the
// direct-map offset from the segments, 4- and 5-level walks through 1 GiB,
// 2 MiB and 4 KiB pages, and the SME C-bit.
#include <gtest/gtest.h>

#include "tests/vmcoreinfo/pages/filter_test_util.h"
#include "vmcoreinfo/arch/address_space.h"
#include "vmcoreinfo/arch/x86_64.h"

namespace vmc::testing {
namespace {

class AddressSpacePerKernel : public ::testing::TestWithParam<KernelSpec> {};

TEST_P(AddressSpacePerKernel, DerivesTheLayoutAndTranslates) {
  KernelLayoutBuilder b(GetParam());
  b.anon(0x1234);
  b.finish();
  auto d = open_built(b);
  ASSERT_TRUE(d.memory);
  auto layout = x86_64::derive_layout(*d.memory, d.info);
  ASSERT_TRUE(layout.ok()) << layout.error().describe();
  EXPECT_EQ(layout->phys_base, b.phys_base());
  EXPECT_EQ(layout->levels, GetParam().five_level ? 5 : 4);
  EXPECT_EQ(layout->page_offset, b.page_offset());
  EXPECT_EQ(layout->top_table, b.top_table());
  EXPECT_EQ(layout->sme_mask, GetParam().sme_mask);

  auto as = make_x86_64_address_space(*d.memory, d.info);
  ASSERT_TRUE(as.ok()) << as.error().describe();
  // Kernel image, direct map, and vmemmap (only reachable by walking).
  EXPECT_EQ(*(*as)->virt_to_phys(b.image_vaddr() + 0x1000), b.machine().kernel_phys + 0x1000);
  EXPECT_EQ(*(*as)->virt_to_phys(b.page_offset() + 0x1234567), 0x1234567u);
  std::array<std::byte, 64> page{};
  ASSERT_TRUE((*as)->read_virtual(b.struct_page_vaddr(0x1234), page).ok());
  EXPECT_EQ(page, b.raw(0x1234));
}

INSTANTIATE_TEST_SUITE_P(Kernels, AddressSpacePerKernel, ::testing::ValuesIn(all_kernel_specs()),
                         [](const auto& p) { return p.param.name; });

TEST(AddressSpace, WalkedAddressesAgreeWithTheDirectMap) {
  for (bool four_k : {false, true}) {
    MachineSpec m;
    m.vmemmap_4k = four_k;
    KernelLayoutBuilder b(debian_6_1(), m);
    b.finish();
    auto d = open_built(b);
    auto as = make_x86_64_address_space(*d.memory, d.info);
    ASSERT_TRUE(as.ok());
    // The struct page of pfn 0x8000 is mapped by vmemmap; its physical
    // address must hold what the direct map shows at the same place.
    auto t = (*as)->translate(b.struct_page_vaddr(0x8000));
    ASSERT_TRUE(t.ok()) << t.error().describe();
    EXPECT_EQ(t->contiguous, four_k ? 4096u : (uint64_t{2} << 20)) << "one run per mapping page";
    EXPECT_EQ(*(*as)->virt_to_phys(b.page_offset() + t->paddr), t->paddr);
  }
}

TEST(AddressSpace, PhysBaseFoundBySearchWhenOnlyTheSymbolIsExported) {
  // RHEL 7: SYMBOL(phys_base) only, and the reader drops the kernel-text
  // segment (a direct-map segment covers the same bytes).
  MachineSpec m;
  m.kernel_phys = 0x7000000;  // phys_base 0x6000000: not the first candidate
  KernelLayoutBuilder b(rhel7_3_10(), m);
  b.finish();
  auto d = open_built(b);
  auto layout = x86_64::derive_layout(*d.memory, d.info);
  ASSERT_TRUE(layout.ok()) << layout.error().describe();
  EXPECT_EQ(layout->phys_base, 0x6000000u);
  bool searched = false;
  for (const auto& n : layout->notes) searched |= n.find("search") != std::string::npos;
  EXPECT_TRUE(searched);
}

TEST(AddressSpace, NegativePhysBase) {
  // KASLR put the image virtually above where it sits physically: Debian's
  // real 6.1 dump has NUMBER(phys_base)=-555745280.
  MachineSpec m;
  m.kernel_phys = 0x2000000;
  m.kaslr_offset = 0x29e00000;
  KernelLayoutBuilder b(debian_6_1(), m);
  b.finish();
  EXPECT_GT(b.phys_base(), uint64_t{1} << 63);
  auto d = open_built(b);
  auto as = make_x86_64_address_space(*d.memory, d.info);
  ASSERT_TRUE(as.ok()) << as.error().describe();
  EXPECT_EQ(*(*as)->virt_to_phys(b.image_vaddr()), 0x2000000u);
}

TEST(AddressSpace, UnmappedAddressesAreErrors) {
  KernelLayoutBuilder b(debian_6_12());
  b.finish();
  auto d = open_built(b);
  auto as = make_x86_64_address_space(*d.memory, d.info);
  ASSERT_TRUE(as.ok());
  auto r = (*as)->virt_to_phys(0xffffc90000000000);  // vmalloc space: nothing mapped
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.error().message().find("not mapped"), std::string::npos) << r.error().message();
  std::array<std::byte, 16> buf;
  EXPECT_FALSE((*as)->read_virtual(0x1000, buf).ok());  // user space
}

TEST(AddressSpace, NoTopTableSymbolIsAnError) {
  KernelLayoutBuilder b(debian_6_1());
  b.omit_vmcoreinfo("SYMBOL(init_top_pgt)");
  b.omit_vmcoreinfo("SYMBOL(swapper_pg_dir)");
  b.finish();
  auto d = open_built(b);
  auto as = make_x86_64_address_space(*d.memory, d.info);
  ASSERT_FALSE(as.ok());
  EXPECT_NE(as.error().describe().find("init_top_pgt"), std::string::npos);
}

TEST(AddressSpace, SwapperPgDirIsEnoughForTheWalk) {
  KernelLayoutBuilder b(debian_6_1());
  b.omit_vmcoreinfo("SYMBOL(init_top_pgt)");
  b.finish();
  auto d = open_built(b);
  auto as = make_x86_64_address_space(*d.memory, d.info);
  ASSERT_TRUE(as.ok()) << as.error().describe();
  EXPECT_TRUE((*as)->virt_to_phys(b.struct_page_vaddr(0x100)).ok());
}

}  // namespace
}  // namespace vmc::testing
