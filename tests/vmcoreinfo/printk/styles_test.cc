// The two texts --dump-dmesg prints (vmcore-dmesg's, and makedumpfile's with
// its caller column and indented continuations) and --partial-dmesg's cut at
// the last `dmesg -c`, on logs the builder writes in each layout.
#include <gtest/gtest.h>

#include "tests/vmcoreinfo/printk/dmesg_test_support.h"

namespace vmc::testing {
namespace {

constexpr uint32_t kCpu = 0x80000000;
const DmesgOptions kMakedumpfile{DmesgStyle::kMakedumpfile, false};

Result<DmesgResult> extract_as(const DumpBuilder& b, const DmesgOptions& options) {
  return extract(b, {}, PrintkPlacement{}, options);
}

TEST(DmesgStyles, MakedumpfilePrintsTheCallerAndIndentsContinuations) {
  LocklessRingBuilder ring(4, 12);
  ring.add(PrintkRecord(1'500'000'000, "first\nsecond" + bytes({0x80}) + "\tend").with_caller(123));
  ring.add(PrintkRecord(2'000'000'000, "on a cpu").with_caller(kCpu | 1));
  DumpBuilder b = machine_with(ring);
  auto mdf = extract_as(b, kMakedumpfile);
  ASSERT_TRUE(mdf.ok()) << mdf.error().describe();
  // "[    1.500000] " and "[    T123] ": continuation lines start 26 columns in.
  EXPECT_EQ(mdf->text,
            "[    1.500000] [    T123] first\n"
            "                          second\\xffffff80\tend\n"
            "[    2.000000] [      C1] on a cpu\n");
  auto vd = extract_as(b, {});
  ASSERT_TRUE(vd.ok()) << vd.error().describe();
  EXPECT_EQ(vd->text, "[    1.500000] first\nsecond\\x80\tend\n[    2.000000] on a cpu\n");
  expect_matches_reference(b, vd->text);
}

TEST(DmesgStyles, StructuredLogWithoutCallerHasNoColumnAndNoWrapMarkerLine) {
  StructuredLogBuilder log(256);
  for (int i = 0; i < 20; ++i) log.add(PrintkRecord(uint64_t(i) * 1'000'000'000, "structured " + std::to_string(i)));
  DumpBuilder b = machine_with(log);
  auto vd = extract_as(b, {});
  auto mdf = extract_as(b, kMakedumpfile);
  ASSERT_TRUE(vd.ok() && mdf.ok());
  // vmcore-dmesg prints a "[    0.000000] " line for the wrap marker; makedumpfile does not.
  std::string without_marker = vd->text;
  auto marker = without_marker.find("[    0.000000] \n");
  ASSERT_NE(marker, std::string::npos) << vd->text;
  without_marker.erase(marker, std::string("[    0.000000] \n").size());
  EXPECT_EQ(mdf->text, without_marker);
}

TEST(DmesgStyles, StructuredLogCallerColumn) {
  StructuredLogBuilder log(StructuredLogBuilder::Options{4096, true, "printk_log"});
  log.add(PrintkRecord(3'000'000, "a task").with_caller(42));
  log.add(PrintkRecord(4'000'000, "a cpu").with_caller(kCpu | 3));
  auto mdf = extract_as(machine_with(log), kMakedumpfile);
  ASSERT_TRUE(mdf.ok()) << mdf.error().describe();
  EXPECT_EQ(mdf->text, "[    0.003000] [     T42] a task\n[    0.004000] [      C3] a cpu\n");
}

class PartialLockless : public ::testing::TestWithParam<bool> {};

TEST_P(PartialLockless, PrintsOnlyWhatFollowsTheLastClear) {
  LocklessRingBuilder ring(4, 12);
  for (int i = 0; i < 6; ++i) ring.add(PrintkRecord(uint64_t(i + 1) * 1'000'000'000, "line " + std::to_string(i)));
  ring.set_clear_seq(4, /*latched=*/GetParam());
  DumpBuilder b = machine_with(ring);
  auto partial = extract_as(b, DmesgOptions{DmesgStyle::kVmcoreDmesg, true});
  ASSERT_TRUE(partial.ok()) << partial.error().describe();
  EXPECT_EQ(partial->text, "[    5.000000] line 4\n[    6.000000] line 5\n");
  auto whole = extract_as(b, {});
  ASSERT_TRUE(whole.ok());
  EXPECT_EQ(whole->text.substr(whole->text.size() - partial->text.size()), partial->text);
  EXPECT_EQ(std::count(whole->text.begin(), whole->text.end(), '\n'), 6);
}

INSTANTIATE_TEST_SUITE_P(ClearSeq, PartialLockless, ::testing::Values(false, true),
                         [](const auto& p) { return p.param ? "latched" : "plain"; });

TEST(DmesgStyles, PartialStructuredLogStartsAtClearIdx) {
  StructuredLogBuilder log(4096);
  log.add(PrintkRecord(1'000'000'000, "before"));
  log.add(PrintkRecord(2'000'000'000, "cleared too"));
  uint32_t clear = log.next_idx();
  log.add(PrintkRecord(3'000'000'000, "after"));
  log.set_clear_idx(clear);
  auto partial = extract_as(machine_with(log), DmesgOptions{DmesgStyle::kMakedumpfile, true});
  ASSERT_TRUE(partial.ok()) << partial.error().describe();
  EXPECT_EQ(partial->text, "[    3.000000] after\n");
}

}  // namespace
}  // namespace vmc::testing
