// pfn -> struct page: every mem_section encoding, the VMEMMAP base read back
// from the sections, the flag bits below the encoded map (up to 6.15's bit 5),
// damaged sections, and FLATMEM.
#include <gtest/gtest.h>

#include "tests/vmcoreinfo/pages/filter_test_util.h"
#include "vmcoreinfo/arch/address_space.h"
#include "vmcoreinfo/pages/mem_map.h"

namespace vmc::testing {
namespace {

struct Loaded {
  OpenedDump dump;
  std::unique_ptr<KernelAddressSpace> kernel;
  std::optional<KernelMemoryModel> model;
  std::vector<std::string> warnings;
  std::string error;
};

Loaded load(KernelLayoutBuilder& b) {
  Loaded l;
  l.dump = open_built(b);
  if (!l.dump.memory) return l;
  auto as = make_x86_64_address_space(*l.dump.memory, l.dump.info);
  if (!as.ok()) {
    l.error = as.error().describe();
    return l;
  }
  l.kernel = std::move(*as);
  auto m = KernelMemoryModel::load(*l.kernel, l.dump.info, l.warnings);
  if (m.ok()) {
    l.model = std::move(*m);
  } else {
    l.error = m.error().describe();
  }
  return l;
}

void expect_all_sections(KernelLayoutBuilder& b, const Loaded& l) {
  ASSERT_TRUE(l.model) << l.error;
  EXPECT_EQ(l.model->usable_sections(), 4u);  // 512 MiB of RAM
  for (uint64_t pfn : {0x100ull, 0x7fffull, 0x8000ull, 0x12345ull, 0x1ffffull}) {
    auto run = l.model->locate(pfn);
    ASSERT_TRUE(run) << pfn;
    EXPECT_EQ(run->vaddr, b.struct_page_vaddr(pfn)) << pfn;
    EXPECT_EQ(run->pfns, 0x8000 - (pfn & 0x7fff)) << pfn;
  }
  EXPECT_FALSE(l.model->locate(0x20000));  // beyond RAM: no section
}

class ModelPerKernel : public ::testing::TestWithParam<KernelSpec> {};

TEST_P(ModelPerKernel, FindsEveryStructPage) {
  KernelLayoutBuilder b(GetParam());
  b.finish();
  auto l = load(b);
  expect_all_sections(b, l);
  EXPECT_EQ(l.model->vmemmap_base(), b.vmemmap_base());
  EXPECT_TRUE(l.warnings.empty() || !GetParam().export_section_size_bits) << l.warnings.front();
}

INSTANTIATE_TEST_SUITE_P(Kernels, ModelPerKernel, ::testing::ValuesIn(all_kernel_specs()),
                         [](const auto& p) { return p.param.name; });

TEST(KernelModel, EveryMemSectionEncoding) {
  using S = KernelSpec::Sections;
  for (S s : {S::kRootArray, S::kRootPointer, S::kRootPointerVariable, S::kStatic}) {
    KernelSpec k = debian_6_1();
    k.sections = s;
    if (s == S::kStatic) k.max_physmem_bits = 36;  // a static array of 512 sections
    KernelLayoutBuilder b(k);
    b.finish();
    auto l = load(b);
    SCOPED_TRACE(static_cast<int>(s));
    expect_all_sections(b, l);
  }
}

TEST(KernelModel, NoLengthMeansExtreme) {
  KernelSpec k = debian_6_1();
  k.export_length = false;
  KernelLayoutBuilder b(k);
  b.finish();
  auto l = load(b);
  expect_all_sections(b, l);
}

TEST(KernelModel, SparsememWithoutVmemmap) {
  MachineSpec m;
  m.per_section_maps = true;
  KernelLayoutBuilder b(debian_6_1(), m);
  b.finish();
  auto l = load(b);
  expect_all_sections(b, l);
  EXPECT_FALSE(l.model->vmemmap_base());
}

TEST(KernelModel, AllSixFlagBitsAreMasked) {
  KernelSpec k = debian_6_12();
  k.section_flags = 0x3f;  // PRESENT..VMEMMAP_PREINIT
  KernelLayoutBuilder b(k);
  b.finish();
  auto l = load(b);
  expect_all_sections(b, l);
  EXPECT_EQ(l.model->vmemmap_base(), b.vmemmap_base());
}

TEST(KernelModel, SectionsWithoutPresentOrMemMapAreAbsent) {
  KernelLayoutBuilder b(debian_6_1());
  // 5.3-5.5: a hot-removed section keeps its encoded map but loses PRESENT.
  b.override_section_word(2, b.vmemmap_base() | 0x2);
  b.override_section_word(3, b.vmemmap_base() | 0x1);
  b.finish();
  auto l = load(b);
  ASSERT_TRUE(l.model) << l.error;
  EXPECT_EQ(l.model->usable_sections(), 2u);
  EXPECT_TRUE(l.model->locate(0x8000));
  EXPECT_FALSE(l.model->locate(0x10000));
  EXPECT_FALSE(l.model->locate(0x18000));
}

TEST(KernelModel, ASectionDisagreeingWithTheVmemmapBaseIsDropped) {
  KernelLayoutBuilder b(debian_6_1());
  b.override_section_word(1, (b.vmemmap_base() + (uint64_t{1} << 30)) | 0xf);
  b.override_section_word(2, 0x0000123400000000 | 0xf);  // not a kernel address
  b.finish();
  auto l = load(b);
  ASSERT_TRUE(l.model) << l.error;
  EXPECT_EQ(l.model->usable_sections(), 2u);
  EXPECT_FALSE(l.model->locate(0x8000));
  EXPECT_FALSE(l.model->locate(0x10000));
  EXPECT_TRUE(l.model->locate(0x18000));
  ASSERT_EQ(l.warnings.size(), 2u);
  EXPECT_NE(l.warnings[0].find("section 2"), std::string::npos) << l.warnings[0];
  EXPECT_NE(l.warnings[1].find("mem_section 1"), std::string::npos) << l.warnings[1];
}

TEST(KernelModel, UnmappedSectionMapsLeaveNothing) {
  KernelLayoutBuilder b(debian_6_1());
  // Every section agrees on a base whose vmemmap nobody mapped.
  b.override_section_word(3, (b.vmemmap_base() + (uint64_t{64} << 30)) | 0xf);
  b.override_section_word(0, (b.vmemmap_base() + (uint64_t{64} << 30)) | 0xf);
  b.override_section_word(1, (b.vmemmap_base() + (uint64_t{64} << 30)) | 0xf);
  b.override_section_word(2, (b.vmemmap_base() + (uint64_t{64} << 30)) | 0xf);
  b.finish();
  auto l = load(b);
  EXPECT_FALSE(l.model);
  EXPECT_NE(l.error.find("can be translated"), std::string::npos) << l.error;
}

TEST(KernelModel, NoPresentSectionIsAnError) {
  KernelLayoutBuilder b(debian_6_1());
  for (int s = 0; s < 4; ++s) b.override_section_word(s, 0);
  b.finish();
  auto l = load(b);
  EXPECT_FALSE(l.model);
  EXPECT_NE(l.error.find("no present section"), std::string::npos) << l.error;
}

TEST(KernelModel, Flatmem) {
  // FLATMEM is not an x86_64 model; describe one anyway: SYMBOL(mem_map) is a
  // pointer variable holding the array, here section 0's map in the direct map.
  MachineSpec m;
  m.per_section_maps = true;
  KernelLayoutBuilder b(debian_6_1(), m);
  b.omit_vmcoreinfo("SYMBOL(mem_section)");
  b.extra_vmcoreinfo("SYMBOL(mem_map)=" + hex(b.image_vaddr() + 0x1c00).substr(2));
  b.finish();
  uint64_t base = b.struct_page_vaddr(0);
  b.dump().write_value(m.kernel_phys + 0x1c00, base);
  auto l = load(b);
  ASSERT_TRUE(l.model) << l.error;
  EXPECT_EQ(l.model->model(), MemoryModel::kFlat);
  EXPECT_EQ(l.model->locate(0x100)->vaddr, base + 0x100 * 64);
  EXPECT_EQ(l.model->locate(0x100)->pfns, 0x20000u - 0x100);
  EXPECT_FALSE(l.model->locate(0x20000));
}

}  // namespace
}  // namespace vmc::testing
