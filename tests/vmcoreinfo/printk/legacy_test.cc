// The legacy character buffer (< 3.5): the last min(log_end, log_buf_len)
// bytes, oldest first, written raw.
#include <gtest/gtest.h>

#include "tests/vmcoreinfo/printk/dmesg_test_support.h"

namespace vmc::testing {
namespace {

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

// ---- Damage: the buffer has no records, so only its two numbers can be
// wrong. log_end and log_buf_len live in the symbols page (PrintkPlacement):
// log_end at +8, log_buf_len at +16.

void poke_log_end(DumpBuilder& b, uint32_t log_end) {
  b.write_value<uint32_t>(PrintkPlacement{}.symbols_pa + 8, log_end);
}

// A log_end far past the buffer (or garbage): the last log_buf_len bytes
// before it, taken modulo the size, exactly as vmcore-dmesg does.
TEST(LegacyLogDamage, LogEndFarPastTheBufferIsTakenModuloItsSize) {
  LegacyLogBuilder log(64);
  std::string all;
  for (int i = 0; i < 4; ++i) all += "<6>line " + std::to_string(i) + "\n";
  log.append(all);
  DumpBuilder b = machine_with(log);
  poke_log_end(b, 0xfffffff8);  // oldest byte at (log_end - 64) % 64 = 56
  auto r = extract(b);
  ASSERT_TRUE(r.ok());
  std::string buf = all + std::string(64 - all.size(), '\0');
  EXPECT_EQ(r->text, buf.substr(56) + buf.substr(0, 56));
  expect_matches_reference(b, r->text);
}

TEST(LegacyLogDamage, NegativeLogBufLenIsAnError) {
  LegacyLogBuilder log(64);
  log.append("<6>x\n");
  DumpBuilder b = machine_with(log);
  b.write_value<int32_t>(PrintkPlacement{}.symbols_pa + 16, -4096);
  auto r = extract(b);
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.error().describe().find("log_buf_len -4096 is not a size"), std::string::npos) << r.error().describe();
}

// Larger than the whole (16 MiB) machine: refused before any allocation.
TEST(LegacyLogDamage, LogBufLenBeyondTheMachinesMemoryIsAnError) {
  LegacyLogBuilder log(64);
  log.append("<6>x\n");
  DumpBuilder b = machine_with(log);
  b.write_value<int32_t>(PrintkPlacement{}.symbols_pa + 16, 0x7ffff000);
  auto r = extract(b);
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.error().describe().find("larger than the dump's memory"), std::string::npos) << r.error().describe();
}

}  // namespace
}  // namespace vmc::testing
