// The legacy character buffer (< 3.5): the last min(log_end, log_buf_len)
// bytes, oldest first, written raw.
#include <gtest/gtest.h>

#include "tests/dmesg/dmesg_test_support.h"

namespace vmc::testing {
namespace {

DumpBuilder machine_with(const LegacyLogBuilder& log, bool with_logged_chars = true) {
  DumpBuilder b = make_machine();
  b.set_vmcoreinfo("OSRELEASE=2.6.32-test\nPAGESIZE=4096\n");
  log.write(b, PrintkPlacement{}, with_logged_chars);
  return b;
}

void expect_matches_reference(const DumpBuilder& b, const std::string& ours) {
  auto ref = run_vmcore_dmesg(b);
  if (!ref) return;
  EXPECT_EQ(ref->exit_code, 0) << ref->err;
  EXPECT_EQ(ref->out, ours);
}

TEST(LegacyLog, UnwrappedBufferIsPrintedRaw) {
  LegacyLogBuilder log(64);
  log.append(std::string("<6>hello\x01\xff\n<4>second line\n"));
  DumpBuilder b = machine_with(log);
  auto r = extract(b);
  ASSERT_TRUE(r.ok()) << r.error().describe();
  EXPECT_EQ(r->text, std::string("<6>hello\x01\xff\n<4>second line\n"));
  EXPECT_TRUE(r->warnings.empty());
  expect_matches_reference(b, r->text);
}

TEST(LegacyLog, WrappedBufferStartsAtLogEnd) {
  LegacyLogBuilder log(64);
  std::string all;
  for (int i = 0; i < 20; ++i) all += "<6>line " + std::to_string(i) + "\n";
  log.append(all);
  ASSERT_GT(log.log_end(), 64u);
  DumpBuilder b = machine_with(log);
  auto r = extract(b);
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->text, all.substr(all.size() - 64));
  expect_matches_reference(b, r->text);
}

TEST(LegacyLog, NulBytesAreKept) {
  LegacyLogBuilder log(32);
  log.append(std::string("<6>a\0b\n", 7));
  DumpBuilder b = machine_with(log);
  auto r = extract(b);
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->text, std::string("<6>a\0b\n", 7));
  expect_matches_reference(b, r->text);
}

// vmcore-dmesg refuses (exit 53) without SYMBOL(logged_chars) although it
// never uses the value; we print the log.
TEST(LegacyLog, LoggedCharsIsNotRequired) {
  LegacyLogBuilder log(64);
  log.append("<6>no logged_chars\n");
  auto r = extract(machine_with(log, false));
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->text, "<6>no logged_chars\n");
}

TEST(LegacyLog, UnreadablePageIsLeftOutWithAWarning) {
  LegacyLogBuilder log(8192);
  log.append(std::string(5000, 'a'));
  PrintkPlacement p;
  auto r = extract(machine_with(log), {(p.buffers_pa + 4096) / 4096});
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->text, std::string(4096, 'a'));
  ASSERT_EQ(r->warnings.size(), 1u);
  EXPECT_NE(r->warnings[0].find("904 bytes"), std::string::npos) << r->warnings[0];
}

}  // namespace
}  // namespace vmc::testing
