// The structured log (3.5-5.9): records as vmcore-dmesg prints them, including
// its line for the len == 0 wrap marker, and the damage cases where it would
// loop, read outside log_buf or exit.
#include <gtest/gtest.h>

#include <algorithm>
#include <cstring>
#include <random>

#include "tests/vmcoreinfo/printk/dmesg_test_support.h"

namespace vmc::testing {
namespace {

using Log = StructuredLogBuilder;

void add_sample(Log& log) {
  log.add(PrintkRecord(0, "Linux version 5.4.0").with_caller(0x80000000));
  log.add(PrintkRecord(1'234'567'891, "tab\there\nnl\rcr\vvt\fff esc\x1b del\x7f hi\x80\xff")
              .with_caller(42)
              .with_dict("SUBSYSTEM=pci\0DEVICE=+pci:0000:00:01.0"));
  log.add(PrintkRecord(999'999'999'999, ""));
  log.add(PrintkRecord(123456'000'000'000, "last"));
}

const char* const kSampleText =
    "[    0.000000] Linux version 5.4.0\n"
    "[    1.234567] tab\there\nnl\rcr\vvt\fff esc\\x1b del\\x7f hi\\x80\\xff\n"
    "[  999.999999] \n"
    "[123456.000000] last\n";

TEST(StructuredLog, PrintsRecordsAsVmcoreDmesg) {
  Log log(4096);
  add_sample(log);
  DumpBuilder b = machine_with(log);
  auto r = extract(b);
  ASSERT_TRUE(r.ok()) << r.error().describe();
  EXPECT_EQ(r->text, kSampleText);
  EXPECT_TRUE(r->warnings.empty()) << joined(r->warnings);
  expect_matches_reference(b, r->text);
}

TEST(StructuredLog, CallerIdHeaderIsReadButNotPrinted) {
  Log log(Log::Options{4096, true, "printk_log"});  // 5.1+ CONFIG_PRINTK_CALLER
  add_sample(log);
  DumpBuilder b = machine_with(log);
  auto r = extract(b);
  ASSERT_TRUE(r.ok()) << r.error().describe();
  EXPECT_EQ(r->text, kSampleText);
  expect_matches_reference(b, r->text);
}

TEST(StructuredLog, StructLogBefore311) {
  Log log(Log::Options{4096, false, "log"});
  add_sample(log);
  DumpBuilder b = machine_with(log);
  ASSERT_NE(b.vmcoreinfo().find("SIZE(log)=16"), std::string::npos);
  auto r = extract(b);
  ASSERT_TRUE(r.ok()) << r.error().describe();
  EXPECT_EQ(r->text, kSampleText);
  expect_matches_reference(b, r->text);
}

// Fragments of a pr_cont() line that reached log_buf as separate records
// (LOG_CONT) are separate lines, each with its own timestamp: vmcore-dmesg
// does not merge them.
TEST(StructuredLog, ContinuationFragmentsAreSeparateLines) {
  Log log(4096);
  log.add(PrintkRecord(1'000, "Memory: ").with_flags(8));
  log.add(PrintkRecord(2'000, "1024K").with_flags(8));
  log.add(PrintkRecord(3'000, " available").with_flags(2));
  DumpBuilder b = machine_with(log);
  auto r = extract(b);
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->text,
            "[    0.000001] Memory: \n"
            "[    0.000002] 1024K\n"
            "[    0.000003]  available\n");
  expect_matches_reference(b, r->text);
}

// 512 bytes: old records are freed, the buffer wraps, and the len == 0
// marker at the end prints as "[    0.000000] " between the two halves.
Log wrapped_log() {
  Log log(512);
  for (int i = 0; i < 20; ++i) {
    log.add(
        PrintkRecord((i + 1) * 1'000'000'000ULL, "message " + std::to_string(i) + " " + std::string(i, '-')));
  }
  return log;
}

TEST(StructuredLog, WrappedLogPrintsTheMarkerLineLikeVmcoreDmesg) {
  Log log = wrapped_log();
  ASSERT_GT(log.first_idx(), log.next_idx());
  ASSERT_GT(log.dropped(), 0u);
  DumpBuilder b = machine_with(log);
  auto r = extract(b);
  ASSERT_TRUE(r.ok()) << r.error().describe();
  EXPECT_EQ(r->text,
            "[   11.000000] message 10 ----------\n"
            "[   12.000000] message 11 -----------\n"
            "[   13.000000] message 12 ------------\n"
            "[   14.000000] message 13 -------------\n"
            "[    0.000000] \n"
            "[   15.000000] message 14 --------------\n"
            "[   16.000000] message 15 ---------------\n"
            "[   17.000000] message 16 ----------------\n"
            "[   18.000000] message 17 -----------------\n"
            "[   19.000000] message 18 ------------------\n"
            "[   20.000000] message 19 -------------------\n");
  EXPECT_TRUE(r->warnings.empty()) << joined(r->warnings);
  expect_matches_reference(b, r->text);
}

TEST(StructuredLog, EmptyLogPrintsNothing) {
  Log log(1024);
  DumpBuilder b = machine_with(log);
  auto r = extract(b);
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->text, "");
  expect_matches_reference(b, r->text);
}

// ---- Damage ----------------------------------------------------------------

struct Unwrapped {
  Log log{1024};
  std::vector<uint32_t> idx;
  Unwrapped() {
    for (int i = 0; i < 5; ++i) {
      idx.push_back(log.next_idx());
      log.add(PrintkRecord((i + 1) * 1'000'000ULL, "line " + std::to_string(i)));
    }
  }
  static std::string lines(int from, int to) {
    std::string s;
    for (int i = from; i < to; ++i)
      s += "[    0.00" + std::to_string(i + 1) + "000] line " + std::to_string(i) + "\n";
    return s;
  }
};

// A damaged log is still read: the walk succeeds, prints `text` (what it
// could trust) and names the damage in a warning containing `warning`.
void expect_damaged_log_prints(const Log& log, const std::string& text, const std::string& warning) {
  auto r = extract(machine_with(log));
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->text, text);
  EXPECT_TRUE(any_warning_has(*r, warning)) << joined(r->warnings);
}

TEST(StructuredLogDamage, LenPointingOutsideLogBufStops) {
  Unwrapped u;
  u.log.set_len(u.idx[2], 4000);
  auto r = extract(machine_with(u.log));
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->text, Unwrapped::lines(0, 3));
  ASSERT_EQ(r->warnings.size(), 1u) << joined(r->warnings);
  EXPECT_NE(r->warnings[0].find("points outside log_buf"), std::string::npos) << r->warnings[0];
  EXPECT_NE(r->warnings[0].find(hex(u.idx[2])), std::string::npos) << r->warnings[0];
}

TEST(StructuredLogDamage, LenSteppingOverNextIdxStops) {
  Unwrapped u;
  u.log.set_len(u.idx[1], 200);  // past log_next_idx (5 records of 24 bytes)
  expect_damaged_log_prints(u.log, Unwrapped::lines(0, 2), "steps over log_next_idx");
}

TEST(StructuredLogDamage, SecondWrapMarkerIsACycle) {
  Log log = wrapped_log();
  // Turn the first record after the wrap into another wrap marker.
  log.set_len(0, 0);
  expect_damaged_log_prints(log,
                            "[   11.000000] message 10 ----------\n"
                            "[   12.000000] message 11 -----------\n"
                            "[   13.000000] message 12 ------------\n"
                            "[   14.000000] message 13 -------------\n"
                            "[    0.000000] \n"
                            "[   15.000000] message 14 --------------\n",
                            "second wrap marker");
}

TEST(StructuredLogDamage, WrapMarkerInAnUnwrappedLogStops) {
  Unwrapped u;
  u.log.set_len(u.idx[3], 0);
  expect_damaged_log_prints(u.log, Unwrapped::lines(0, 4), "wrap marker before log_next_idx");
}

// The chain of records from log_first_idx, as (index, len) pairs, read from
// the builder's buffer (len is the u16 after the 8-byte ts_nsec).
std::vector<std::pair<uint32_t, uint16_t>> chain(Log& log) {
  std::vector<std::pair<uint32_t, uint16_t>> out;
  uint32_t idx = log.first_idx();
  for (int guard = 0; guard < 10000 && idx != log.next_idx(); ++guard) {
    uint16_t len = 0;
    std::memcpy(&len, log.buffer().data() + idx + 8, 2);
    out.emplace_back(idx, len);
    idx = len == 0 ? 0 : idx + len;
  }
  return out;
}

TEST(StructuredLogDamage, TextLenPastTheBufferIsTruncated) {
  Log log(256);
  for (int i = 0; i < 9; ++i) log.add(PrintkRecord(0, "abcdefghijklmnop"));
  // The last record before the marker: make its text run off the end.
  auto records = chain(log);
  auto marker = std::find_if(records.begin(), records.end(), [](const auto& record) { return record.second == 0; });
  ASSERT_NE(marker, records.begin());
  ASSERT_NE(marker, records.end());
  log.set_text_len(std::prev(marker)->first, 1000);
  auto r = extract(machine_with(log));
  ASSERT_TRUE(r.ok());
  EXPECT_TRUE(any_warning_has(*r, "runs past the end of log_buf; truncated")) << joined(r->warnings);
}

TEST(StructuredLogDamage, FirstIdxOutsideTheBuffer) {
  Unwrapped u;
  u.log.set_first_idx(5000);
  expect_damaged_log_prints(u.log, "", "log_first_idx 0x1388 lies outside");
}

TEST(StructuredLogDamage, ShortLenIsReportedAndFollowedLikeVmcoreDmesg) {
  Unwrapped u;
  // The last record's len cut below its header and text, log_next_idx moved
  // to match: vmcore-dmesg follows the len as it is, and so do we (warning).
  u.log.set_len(u.idx[4], 8);
  u.log.set_next_idx(u.idx[4] + 8);
  DumpBuilder b = machine_with(u.log);
  auto r = extract(b);
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->text, Unwrapped::lines(0, 5));
  EXPECT_TRUE(any_warning_has(*r, "shorter than its header")) << joined(r->warnings);
  expect_matches_reference(b, r->text);
}

TEST(StructuredLogDamage, UnreadablePageStopsTheWalkThere) {
  Log log(8192);
  for (int i = 0; i < 200; ++i) log.add(PrintkRecord(0, "record " + std::to_string(i)));
  PrintkPlacement p;
  auto r = extract(machine_with(log), {(p.buffers_pa + 4096) / 4096});
  ASSERT_TRUE(r.ok());
  EXPECT_FALSE(r->text.empty());
  EXPECT_TRUE(any_warning_has(*r, "not in the dump")) << joined(r->warnings);
}

TEST(StructuredLogDamage, MissingOffsetIsNamed) {
  Unwrapped u;
  DumpBuilder b = machine_with(u.log);
  std::string vi = b.vmcoreinfo();
  const std::string entry = "OFFSET(printk_log.text_len)=10\n";
  vi.erase(vi.find(entry), entry.size());
  b.set_vmcoreinfo(vi);
  auto r = extract(b);
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.error().message().find("OFFSET(printk_log.text_len)"), std::string::npos);
}

// A len broken before the wrap marker of a wrapped log: the records from it
// to the end of log_buf are lost, the newer ones after the wrap are printed.
TEST(StructuredLogDamage, BrokenLenBeforeTheWrapCostsOnlyTheRecordsUpToTheEnd) {
  Log log = wrapped_log();
  auto records = chain(log);
  ASSERT_EQ(records.size(), 11u);  // messages 10-13, the marker, 14-19
  ASSERT_EQ(records[4].second, 0) << "the marker";
  const uint32_t broken = records[1].first;  // message 11
  log.set_len(broken, 4000);
  auto r = extract(machine_with(log));
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->text,
            "[   11.000000] message 10 ----------\n"
            "[   12.000000] message 11 -----------\n"  // its text is intact; its len is not
            "[   15.000000] message 14 --------------\n"
            "[   16.000000] message 15 ---------------\n"
            "[   17.000000] message 16 ----------------\n"
            "[   18.000000] message 17 -----------------\n"
            "[   19.000000] message 18 ------------------\n"
            "[   20.000000] message 19 -------------------\n");
  ASSERT_EQ(r->warnings.size(), 2u) << joined(r->warnings);
  EXPECT_NE(r->warnings[0].find("index " + hex(broken)), std::string::npos) << r->warnings[0];
  EXPECT_NE(r->warnings[0].find("points outside log_buf"), std::string::npos) << r->warnings[0];
  EXPECT_NE(r->warnings[1].find("breaks at index " + hex(broken)), std::string::npos) << r->warnings[1];
  EXPECT_NE(r->warnings[1].find("after the wrap"), std::string::npos) << r->warnings[1];
}

// A page of log_buf missing from the dump (filtered, or EIO) in the older half
// of a wrapped log: the records on it and after it up to the buffer's end are
// lost and named; the ones before it and all those after the wrap print.
TEST(StructuredLogDamage, UnreadablePageBeforeTheWrapCostsOnlyItsHalf) {
  Log log(8192);
  // 100-byte records (16-byte header, 84 bytes of text): wrap once, and stop
  // when the newer half reaches 2000 bytes, so log_first_idx and
  // log_next_idx both lie in the first page and the marker in the second.
  for (int i = 0; log.first_idx() <= log.next_idx() || log.next_idx() < 2000; ++i) {
    std::string text = "record " + std::to_string(10000 + i);
    text.resize(84, '.');
    log.add(PrintkRecord(static_cast<uint64_t>(i) * 1000, text));
  }
  auto records = chain(log);
  ASSERT_LT(log.first_idx(), 4096u);
  ASSERT_GT(log.first_idx(), log.next_idx());
  DumpBuilder b = machine_with(log);
  auto healthy = extract(b);
  ASSERT_TRUE(healthy.ok());
  // Line k of the healthy text belongs to records[k] (the marker has one too).
  std::vector<std::string> lines;
  for (size_t at = 0; at < healthy->text.size();) {
    size_t nl = healthy->text.find('\n', at);
    lines.push_back(healthy->text.substr(at, nl + 1 - at));
    at = nl + 1;
  }
  ASSERT_EQ(lines.size(), records.size());
  std::string expected;
  uint32_t first_lost = 0;
  for (size_t k = 0; k < records.size(); ++k) {
    const auto [idx, len] = records[k];
    const bool older_half = idx >= log.first_idx();
    if (!older_half || idx + 100 <= 4096) {
      expected += lines[k];
    } else if (first_lost == 0) {
      first_lost = idx;
    }
  }
  PrintkPlacement p;
  auto r = extract(b, {(p.buffers_pa + 4096) / 4096});
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->text, expected);
  EXPECT_TRUE(any_warning_has(*r, "not in the dump")) << joined(r->warnings);
  EXPECT_TRUE(any_warning_has(*r, "after the wrap")) << joined(r->warnings);
}

// log_next_idx beyond log_buf_len: the walk runs to the buffer's zeroed end
// (a len == 0 header where no wrap can be) and stops there, reading nothing
// outside log_buf.
TEST(StructuredLogDamage, NextIdxOutsideTheBufferStops) {
  Unwrapped u;
  u.log.set_next_idx(5000);
  expect_damaged_log_prints(u.log, Unwrapped::lines(0, 5) + "[    0.000000] \n", "wrap marker before log_next_idx");
}

// log_buf_len larger than the whole machine: an error, not an allocation.
TEST(StructuredLogDamage, LogBufLenBeyondTheMachinesMemoryIsAnError) {
  Unwrapped u;
  DumpBuilder b = machine_with(u.log);
  const std::string vi = b.vmcoreinfo();
  const auto at = vi.find("SYMBOL(log_buf_len)=");
  ASSERT_NE(at, std::string::npos);
  const uint64_t va = std::stoull(vi.substr(at + 20, vi.find('\n', at) - at - 20), nullptr, 16);
  b.write_value<int32_t>(va - PrintkPlacement{}.va_offset, 0x7ffff000);
  auto r = extract(b);
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.error().describe().find("larger than the dump's memory"), std::string::npos) << r.error().describe();
}

// Random lens, text_lens and indexes: the walk always ends, without reading
// outside log_buf (the ASan build checks that).
TEST(StructuredLogDamage, RandomCorruptionTerminates) {
  for (uint64_t seed = 1; seed <= 150; ++seed) {
    std::mt19937_64 rng(seed);
    Log log(1024);
    std::vector<uint32_t> idx;
    for (int i = 0; i < 60; ++i) {
      idx.push_back(log.next_idx());
      log.add(PrintkRecord(rng(), std::string(rng() % 50, static_cast<char>('a' + i % 26))));
    }
    for (int k = 0; k < 4; ++k) {
      uint32_t at = idx[rng() % idx.size()];
      switch (rng() % 4) {
        case 0:
          log.set_len(at, static_cast<uint16_t>(rng()));
          break;
        case 1:
          log.set_text_len(at, static_cast<uint16_t>(rng()));
          break;
        case 2:
          log.set_first_idx(static_cast<uint32_t>(rng() % 1100));
          break;
        case 3:
          log.set_next_idx(static_cast<uint32_t>(rng() % 1100));
          break;
      }
    }
    auto r = extract(machine_with(log));
    ASSERT_TRUE(r.ok()) << "seed " << seed << ": " << r.error().describe();
  }
}

}  // namespace
}  // namespace vmc::testing
