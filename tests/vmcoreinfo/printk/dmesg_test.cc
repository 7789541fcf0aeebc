// Layout selection and the formatting rules on their own.
#include <gtest/gtest.h>

#include "tests/vmcoreinfo/printk/dmesg_test_support.h"
#include "vmcoreinfo/printk/dmesg_format.h"

namespace vmc::testing {
namespace {

std::string escaped(std::string_view raw) {
  std::string out;
  dmesg::append_escaped(out, std::as_bytes(std::span(raw.data(), raw.size())));
  return out;
}

TEST(DmesgFormat, Timestamp) {
  auto ts = [](uint64_t ns) {
    std::string s;
    dmesg::append_timestamp(s, ns);
    return s;
  };
  EXPECT_EQ(ts(0), "[    0.000000] ");
  EXPECT_EQ(ts(999), "[    0.000000] ");  // truncated, not rounded
  EXPECT_EQ(ts(1'234'567'891), "[    1.234567] ");
  EXPECT_EQ(ts(99999'999'999'999), "[99999.999999] ");
  EXPECT_EQ(ts(123456'000'000'000), "[123456.000000] ");  // wider than 5: not cut
  EXPECT_EQ(ts(UINT64_MAX), "[18446744073.709551] ");
}

// Bytes 0x00-0xff through vmcore-dmesg 2.0.25 (captured from the real binary
// on a synthetic core): only isprint() and isspace() bytes of the C locale
// pass raw.
TEST(DmesgFormat, EscapesExactlyWhatVmcoreDmesgEscapes) {
  std::string all;
  for (int c = 0; c < 256; ++c) all.push_back(static_cast<char>(c));
  std::string expected =
      "\\x00\\x01\\x02\\x03\\x04\\x05\\x06\\x07\\x08\t\n\v\f\r\\x0e\\x0f\\x10\\x11\\x12\\x13\\x14\\x15\\x16"
      "\\x17\\x18\\x19\\x1a\\x1b\\x1c\\x1d\\x1e\\x1f !\"#$%&'()*+,-./0123456789:;<=>?@ABCDEFGHIJKLMNOPQRSTUV"
      "WXYZ[\\]^_`abcdefghijklmnopqrstuvwxyz{|}~\\x7f";
  for (int c = 0x80; c < 0x100; ++c) {
    char buf[8];
    std::snprintf(buf, sizeof buf, "\\x%02x", c);
    expected += buf;
  }
  EXPECT_EQ(escaped(all), expected);
}

TEST(DmesgFormat, NewlinesInsideARecordAreNotIndented) {
  std::string out;
  std::string_view text = "a\nb";
  dmesg::append_record(out, DmesgStyle::kVmcoreDmesg, 2'000'000'000, std::nullopt, std::as_bytes(std::span(text.data(), text.size())));
  EXPECT_EQ(out, "[    2.000000] a\nb\n");
}

TEST(DmesgSelect, NoLogSymbolsIsUnsupported) {
  DumpBuilder b = make_machine();
  auto r = extract(b);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().kind(), ErrorKind::kUnsupported);
  EXPECT_NE(r.error().message().find("SYMBOL(prb)"), std::string::npos);
}

// A kernel exporting both (none does, but prb wins in vmcore-dmesg too).
TEST(DmesgSelect, LocklessRingWinsOverStructured) {
  PrintkPlacement ring_at;
  PrintkPlacement log_at;
  log_at.symbols_pa = 0x180000;
  log_at.buffers_pa = 0x400000;
  DumpBuilder b = make_machine();
  LocklessRingBuilder ring(4, 10);
  ring.add(PrintkRecord(1'000'000'000, "from the ring"));
  ring.write(b, ring_at);
  StructuredLogBuilder log(1024);
  log.add(PrintkRecord(2'000'000'000, "from log_buf"));
  log.write(b, log_at);
  auto r = extract(b);
  ASSERT_TRUE(r.ok()) << r.error().describe();
  EXPECT_EQ(r->text, "[    1.000000] from the ring\n");
}

}  // namespace
}  // namespace vmc::testing
