// The VMCOREINFO parser: each kind's number base, negative NUMBERs (the
// kernel prints them with %ld), the hex NUMBER the kernel prints for
// VMALLOC_START since 6.9, malformed lines, and kernel_version().
#include <gtest/gtest.h>

#include "vmcoreinfo/table/vmcoreinfo.h"

namespace vmc {
namespace {

VmcoreInfo parse_ok(std::string_view text) {
  auto r = VmcoreInfo::parse(text);
  EXPECT_TRUE(r.ok()) << (r.ok() ? "" : r.error().describe());
  return r.ok() ? std::move(*r) : VmcoreInfo{};
}

TEST(VmcoreInfoParse, EachKindHasItsBase) {
  auto v = parse_ok(
      "OSRELEASE=6.1.0-26-amd64\n"
      "PAGESIZE=4096\n"
      "SYMBOL(mem_section)=ffff89b47e813000\n"
      "SIZE(page)=64\n"
      "OFFSET(page._mapcount)=48\n"
      "LENGTH(zone.free_area)=11\n"
      "NUMBER(PG_lru)=4\n"
      "KERNELOFFSET=29e00000\n"
      "CRASHTIME=1700000000\n");
  EXPECT_EQ(v.symbol("mem_section"), 0xffff89b47e813000u);
  EXPECT_EQ(v.size("page"), 64u);
  EXPECT_EQ(v.offset("page._mapcount"), 48u);
  EXPECT_EQ(v.length("zone.free_area"), 11u);
  EXPECT_EQ(v.number("PG_lru"), 4);
  EXPECT_EQ(v.kernel_offset(), 0x29e00000u);
  EXPECT_EQ(v.page_size(), 4096u);
  EXPECT_EQ(v.crash_time(), 1700000000);
  EXPECT_EQ(v.osrelease(), "6.1.0-26-amd64");
  // Kinds do not leak into each other.
  EXPECT_FALSE(v.number("page"));
  EXPECT_FALSE(v.symbol("PG_lru"));
}

TEST(VmcoreInfoParse, NegativeNumbers) {
  auto v = parse_ok(
      "NUMBER(PAGE_BUDDY_MAPCOUNT_VALUE)=-129\n"
      "NUMBER(PAGE_BUDDY_MAPCOUNT_VALUE_6_12)=-268435456\n"
      "NUMBER(phys_base)=-555745280\n"
      "NUMBER(PAGE_OFFLINE_MAPCOUNT_VALUE)=4043309056\n");
  EXPECT_EQ(v.number("PAGE_BUDDY_MAPCOUNT_VALUE"), -129);
  EXPECT_EQ(v.number("PAGE_BUDDY_MAPCOUNT_VALUE_6_12"), -268435456);
  // phys_base is an unsigned long printed with %ld: the bits survive.
  EXPECT_EQ(static_cast<uint64_t>(*v.number("phys_base")), 0xffffffffdee00000u);
  EXPECT_EQ(v.number("PAGE_OFFLINE_MAPCOUNT_VALUE"), 4043309056);
}

TEST(VmcoreInfoParse, SymbolsAcceptAnOptional0x) {
  auto v = parse_ok("SYMBOL(init_top_pgt)=0xffffffffac810000\nSYMBOL(prb)=ffffffffac8643e0\n");
  EXPECT_EQ(v.symbol("init_top_pgt"), 0xffffffffac810000u);
  EXPECT_EQ(v.symbol("prb"), 0xffffffffac8643e0u);
}

// Linux 6.9+ prints NUMBER(VMALLOC_START)=0x%lx (seen in a real Debian 6.12
// dump), and arm64 prints NUMBER(KERNELPACMASK)=0x%llx: a NUMBER with a 0x
// prefix is hex, and must not make the whole note unreadable.
TEST(VmcoreInfoParse, HexNumbersFromTheKernel) {
  auto v = parse_ok("NUMBER(VMALLOC_START)=0xffffcf86c0000000\nNUMBER(KERNELPACMASK)=0xff80000000000000\n"
                    "NUMBER(PG_lru)=5\n");
  EXPECT_EQ(static_cast<uint64_t>(*v.number("VMALLOC_START")), 0xffffcf86c0000000u);
  EXPECT_EQ(static_cast<uint64_t>(*v.number("KERNELPACMASK")), 0xff80000000000000u);
  EXPECT_EQ(v.number("PG_lru"), 5);
}

TEST(VmcoreInfoParse, ToleratesCrLfBlankLinesAndNulPadding) {
  std::string text = "OSRELEASE=5.14.0\r\n\nSIZE(page)=64\n";
  text.append(3, '\0');
  auto v = parse_ok(text);
  EXPECT_EQ(v.size("page"), 64u);
  EXPECT_EQ(v.osrelease(), "5.14.0");
}

TEST(VmcoreInfoParse, MalformedLinesAreErrorsNamingTheLine) {
  for (const char* bad : {"SIZE(page)=sixty-four\n", "SYMBOL(x)=zz\n", "NUMBER(PG_lru)=4x\n", "no equals sign\n",
                          "=value\n", "PAGESIZE=4095\n", "OFFSET(page.flags)=\n", "LENGTH(a)=-1\n"}) {
    auto r = VmcoreInfo::parse(std::string("OSRELEASE=6.1.0\n") + bad);
    ASSERT_FALSE(r.ok()) << bad;
    EXPECT_EQ(r.error().kind(), ErrorKind::kBadInput) << bad;
    EXPECT_NE(r.error().message().find("line 2"), std::string::npos) << r.error().message();
  }
}

TEST(VmcoreInfoParse, RequireNamesTheMissingEntry) {
  auto v = parse_ok("SIZE(page)=64\n");
  auto r = v.require_offset("page.flags");
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.error().message().find("OFFSET(page.flags)"), std::string::npos);
  EXPECT_EQ(*v.require_size("page"), 64u);
}

TEST(VmcoreInfoParse, KernelVersion) {
  struct Case {
    const char* release;
    std::optional<uint32_t> code;
  } cases[] = {
      {"3.10.0-1160.el7.x86_64", kernel_version_code(3, 10, 0)},
      {"4.18.0-513.5.1.el8_9.x86_64", kernel_version_code(4, 18, 0)},
      {"5.15.0-91-generic", kernel_version_code(5, 15, 0)},
      {"6.1.0-26-amd64", kernel_version_code(6, 1, 0)},
      {"6.12.48+deb13-amd64", kernel_version_code(6, 12, 48)},
      {"6.12.117+deb12-amd64", kernel_version_code(6, 12, 117)},
      {"6.9", kernel_version_code(6, 9, 0)},
      {"7.1.0-rc1", kernel_version_code(7, 1, 0)},
      {"2.6.32-754.el6.x86_64", kernel_version_code(2, 6, 32)},
      {"4.4.300", kernel_version_code(4, 4, 255)},  // KERNEL_VERSION clamps the sublevel
      {"linux", std::nullopt},
  };
  for (const auto& c : cases) {
    auto v = parse_ok(std::string("OSRELEASE=") + c.release + "\n");
    EXPECT_EQ(v.kernel_version(), c.code) << c.release;
  }
  EXPECT_FALSE(parse_ok("SIZE(page)=64\n").kernel_version());
}

TEST(VmcoreInfoParse, LaterDuplicateWins) {
  auto v = parse_ok("NUMBER(PG_lru)=4\nNUMBER(PG_lru)=5\n");
  EXPECT_EQ(v.number("PG_lru"), 5);
}

}  // namespace
}  // namespace vmc
