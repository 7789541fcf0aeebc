// The lockless ring (5.10+): healthy rings printed exactly as vmcore-dmesg
// does, and damaged ones printing every intact record with a warning naming
// what was skipped.
#include <gtest/gtest.h>

#include <random>

#include "tests/vmcoreinfo/printk/dmesg_test_support.h"
#include "vmcoreinfo/printk/printk_ringbuffer.h"

namespace vmc::testing {
namespace {

using Ring = LocklessRingBuilder;

TEST(LocklessRing, PrintsRecordsAsVmcoreDmesg) {
  Ring ring(5, 12);
  ring.add(PrintkRecord(1'500'000, "first line").with_caller(5));
  ring.add(PrintkRecord(2'000'000, "multi\nline\abell")
               .with_caller(0x80000001)
               .with_dev("pci", "+pci:0000:00:01.0"));
  ring.add(PrintkRecord(3'000'000, ""));  // an empty line: a data-less record
  ring.add(PrintkRecord(4'000'000, "tab\there \x1b[0m \x7f\x80\xff"));
  ring.add(PrintkRecord(123456'789'012'345, "last"), Ring::kCommitted);
  DumpBuilder b = machine_with(ring);

  auto r = extract(b);
  ASSERT_TRUE(r.ok()) << r.error().describe();
  EXPECT_EQ(r->text,
            "[    0.001500] first line\n"
            "[    0.002000] multi\nline\\x07bell\n"
            "[    0.003000] \n"
            "[    0.004000] tab\there \\x1b[0m \\x7f\\x80\\xff\n"
            "[123456.789012] last\n");
  EXPECT_TRUE(r->warnings.empty()) << joined(r->warnings);
  expect_matches_reference(b, r->text);
}

TEST(LocklessRing, EmptyRingPrintsNothing) {
  Ring ring(4, 10);
  DumpBuilder b = machine_with(ring);
  auto r = extract(b);
  ASSERT_TRUE(r.ok()) << r.error().describe();
  EXPECT_EQ(r->text, "");
  // The initial descriptor is reusable and has no record: not damage.
  expect_matches_reference(b, r->text);
}

// 8 descriptors and 256 bytes of text: records are recycled by both rings,
// text blocks wrap to the ring's start and ids wrap past the 62-bit mask.
TEST(LocklessRing, WrappedRingPrintsTheSurvivorsOldestFirst) {
  Ring ring(3, 8);
  bool block_wrapped = false;
  uint64_t first_id = 0;
  for (int i = 0; i < 30; ++i) {
    std::string text = "msg " + std::to_string(i) + " " + std::string(i % 13, 'x');
    uint64_t id = ring.add(PrintkRecord(i * 1'000'000'007ULL, text));
    if (i == 0) first_id = id;
    block_wrapped |= ring.lpos_begin(id) / 256 != ring.lpos_next(id) / 256;
  }
  ASSERT_TRUE(block_wrapped);
  ASSERT_LT(ring.head_id(), first_id) << "ids should have wrapped past the 62-bit mask";
  DumpBuilder b = machine_with(ring);
  auto r = extract(b);
  ASSERT_TRUE(r.ok()) << r.error().describe();
  EXPECT_EQ(r->text,
            "[   22.000000] msg 22 xxxxxxxxx\n"
            "[   23.000000] msg 23 xxxxxxxxxx\n"
            "[   24.000000] msg 24 xxxxxxxxxxx\n"
            "[   25.000000] msg 25 xxxxxxxxxxxx\n"
            "[   26.000000] msg 26 \n"
            "[   27.000000] msg 27 x\n"
            "[   28.000000] msg 28 xx\n"
            "[   29.000000] msg 29 xxx\n");
  EXPECT_TRUE(r->warnings.empty()) << joined(r->warnings);
  expect_matches_reference(b, r->text);
}

// 5.10-6.7 (and stable kernels without the backport): prb_desc_ring has no
// last_finalized_seq, so text_data_ring sits 8 bytes earlier. Offsets come
// from VMCOREINFO, so the same records print the same way.
TEST(LocklessRing, Linux510LayoutWithoutLastFinalizedSeq) {
  Ring ring(3, 8, /*last_finalized_seq=*/false);
  for (int i = 0; i < 12; ++i) ring.add(PrintkRecord(i * 1'000'000'007ULL, "old layout " + std::to_string(i)));
  DumpBuilder b = machine_with(ring);
  ASSERT_NE(b.vmcoreinfo().find("OFFSET(printk_ringbuffer.text_data_ring)=40"), std::string::npos);
  auto r = extract(b);
  ASSERT_TRUE(r.ok()) << r.error().describe();
  EXPECT_EQ(r->text,
            "[    4.000000] old layout 4\n"
            "[    5.000000] old layout 5\n"
            "[    6.000000] old layout 6\n"
            "[    7.000000] old layout 7\n"
            "[    8.000000] old layout 8\n"
            "[    9.000000] old layout 9\n"
            "[   10.000000] old layout 10\n"
            "[   11.000000] old layout 11\n");
  EXPECT_TRUE(r->warnings.empty()) << joined(r->warnings);
  expect_matches_reference(b, r->text);
}

// The data ring fills before the descriptor ring: the oldest descriptors in
// tail..head are reusable, which vmcore-dmesg skips silently, and so do we.
TEST(LocklessRing, RecycledTextLeavesReusableDescriptorsAtTheTail) {
  Ring ring(4, 9);
  std::vector<uint64_t> ids;
  for (int i = 0; i < 40; ++i) {
    ids.push_back(ring.add(PrintkRecord(1000ULL * i, "record " + std::to_string(i) + std::string(40, '.'))));
  }
  int reusable = 0;
  std::string expected;
  for (uint64_t id = ring.tail_id();; id = (id + 1) & Ring::kIdMask) {
    uint64_t state = ring.state_var(id) >> 62;
    if (state == Ring::kReusable) {
      ++reusable;
    } else {
      size_t i = std::find(ids.begin(), ids.end(), id) - ids.begin();
      char ts[32];
      std::snprintf(ts, sizeof ts, "[%5d.%06d] ", 0, static_cast<int>(i));
      expected += ts + ("record " + std::to_string(i) + std::string(40, '.')) + "\n";
    }
    if (id == ring.head_id()) break;
  }
  ASSERT_GT(reusable, 0);
  DumpBuilder b = machine_with(ring);
  auto r = extract(b);
  ASSERT_TRUE(r.ok()) << r.error().describe();
  EXPECT_EQ(r->text, expected);
  EXPECT_TRUE(r->warnings.empty()) << joined(r->warnings);
  expect_matches_reference(b, r->text);
}

// Continuation: since 5.10 pr_cont() extends the last record in place, so it
// is one record; while still open it is committed, not finalized, and printed.
TEST(LocklessRing, OpenContinuationRecordIsPrinted) {
  Ring ring(4, 10);
  ring.add(PrintkRecord(5'000, "Booting"));
  ring.add(PrintkRecord(6'000, "cpu0: a b c"), Ring::kCommitted);
  DumpBuilder b = machine_with(ring);
  auto r = extract(b);
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->text, "[    0.000005] Booting\n[    0.000006] cpu0: a b c\n");
  expect_matches_reference(b, r->text);
}

// ---- Damage ----------------------------------------------------------------

struct DamagedRing {
  Ring ring{4, 10};
  std::vector<uint64_t> ids;
  DamagedRing() {
    for (int i = 0; i < 6; ++i) {
      ids.push_back(ring.add(PrintkRecord((i + 1) * 1'000'000ULL, "line " + std::to_string(i))));
    }
  }
  // Every line but the ones listed.
  static std::string all_but(std::initializer_list<int> skipped) {
    std::string s;
    for (int i = 0; i < 6; ++i) {
      if (std::find(skipped.begin(), skipped.end(), i) != skipped.end()) continue;
      s += "[    0.00" + std::to_string(i + 1) + "000] line " + std::to_string(i) + "\n";
    }
    return s;
  }
};

TEST(LocklessRingDamage, StateVarOfAnotherIdIsSkipped) {
  DamagedRing d;
  d.ring.set_state_var(d.ids[2], (uint64_t{Ring::kFinalized} << 62) | (d.ids[2] + 16));
  auto r = extract(machine_with(d.ring));
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->text, DamagedRing::all_but({2}));
  ASSERT_EQ(r->warnings.size(), 1u) << joined(r->warnings);
  EXPECT_NE(r->warnings[0].find("descriptor " + std::to_string(d.ring.index(d.ids[2]))), std::string::npos);
  EXPECT_NE(r->warnings[0].find("belongs to id"), std::string::npos);
}

TEST(LocklessRingDamage, ReservedRecordInTheMiddleIsSkippedWithWarning) {
  DamagedRing d;
  d.ring.set_state(d.ids[3], Ring::kReserved);
  DumpBuilder b = machine_with(d.ring);
  auto r = extract(b);
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->text, DamagedRing::all_but({3}));
  EXPECT_TRUE(any_warning_has(*r, "reserved")) << joined(r->warnings);
  expect_matches_reference(b, r->text);  // vmcore-dmesg skips it too
}

TEST(LocklessRingDamage, IllegalLposIsSkipped) {
  DamagedRing d;
  uint64_t begin = d.ring.lpos_begin(d.ids[1]);
  d.ring.set_lpos(d.ids[1], begin + 0x50, begin + 0x10);  // next before begin, same wrap
  d.ring.set_lpos(d.ids[4], d.ring.lpos_begin(d.ids[4]) + 3, d.ring.lpos_next(d.ids[4]));  // misaligned
  auto r = extract(machine_with(d.ring));
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->text, DamagedRing::all_but({1, 4}));
  ASSERT_EQ(r->warnings.size(), 2u) << joined(r->warnings);
  EXPECT_TRUE(any_warning_has(*r, "is not a valid data block"));
}

TEST(LocklessRingDamage, LposFarOutsideTheRingIsSkipped) {
  DamagedRing d;
  d.ring.set_lpos(d.ids[0], 0x1000000, 0x3000000);  // many wraps apart
  auto r = extract(machine_with(d.ring));
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->text, DamagedRing::all_but({0}));
  EXPECT_EQ(r->warnings.size(), 1u) << joined(r->warnings);
}

TEST(LocklessRingDamage, BlockOfAnotherIdIsSkipped) {
  DamagedRing d;
  uint64_t other = d.ids[4];
  d.ring.poke_data(d.ring.lpos_begin(d.ids[2]) % d.ring.data_size(), std::as_bytes(std::span(&other, 1)));
  auto r = extract(machine_with(d.ring));
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->text, DamagedRing::all_but({2}));
  ASSERT_EQ(r->warnings.size(), 1u) << joined(r->warnings);
  EXPECT_NE(r->warnings[0].find("belongs to id " + hex(other)), std::string::npos) << r->warnings[0];
}

TEST(LocklessRingDamage, TextLenBeyondItsBlockIsTruncatedAsVmcoreDmesgDoes) {
  DamagedRing d;
  d.ring.set_text_len(d.ids[5], 300);  // "line 5" sits in a 16-byte block: 8 bytes of text room
  DumpBuilder b = machine_with(d.ring);
  auto r = extract(b);
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->text, DamagedRing::all_but({5}) + "[    0.006000] line 5\\x00\\x00\n");
  EXPECT_TRUE(any_warning_has(*r, "truncated")) << joined(r->warnings);
  expect_matches_reference(b, r->text);
}

TEST(LocklessRingDamage, SequenceGapIsReportedButPrinted) {
  DamagedRing d;
  d.ring.set_seq(d.ids[3], d.ring.seq(d.ids[3]) + 100);
  auto r = extract(machine_with(d.ring));
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->text, DamagedRing::all_but({}));
  // Both edges of the jump are reported: into record 3 and out of it.
  EXPECT_EQ(r->warnings.size(), 2u) << joined(r->warnings);
  EXPECT_TRUE(any_warning_has(*r, "sequence number"));
}

// Records lost between two intact ones (their descriptors recycled with
// newer sequence numbers written, as when printk_info is overwritten while the
// dump is taken): every record prints, and the jump is reported once, at the
// first record after it, with both numbers.
TEST(LocklessRingDamage, SequenceJumpOverLostRecordsIsReportedOnceWhereItIs) {
  DamagedRing d;
  for (int i = 3; i < 6; ++i) d.ring.set_seq(d.ids[i], d.ring.seq(d.ids[i]) + 1000);
  auto r = extract(machine_with(d.ring));
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->text, DamagedRing::all_but({}));
  ASSERT_EQ(r->warnings.size(), 1u) << joined(r->warnings);
  EXPECT_NE(r->warnings[0].find("descriptor " + std::to_string(d.ring.index(d.ids[3]))), std::string::npos)
      << r->warnings[0];
  EXPECT_NE(r->warnings[0].find("sequence number " + std::to_string(d.ring.seq(d.ids[3]))), std::string::npos)
      << r->warnings[0];
}

// Several kinds of damage in one ring: each bad record is skipped and named,
// and the intact ones around them all print, in order.
TEST(LocklessRingDamage, MixedDamageSkipsOnlyTheBadRecords) {
  DamagedRing d;
  d.ring.set_state(d.ids[0], Ring::kReserved);                                       // bad state
  d.ring.set_lpos(d.ids[2], 0x10000000, 0x10000000 + 0x40);                          // text far out of range
  d.ring.set_state_var(d.ids[4], (uint64_t{Ring::kCommitted} << 62) | (d.ids[4] + 1));  // another id
  auto r = extract(machine_with(d.ring));
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->text, DamagedRing::all_but({0, 2, 4}));
  ASSERT_EQ(r->warnings.size(), 3u) << joined(r->warnings);
  for (int i : {0, 2, 4}) {
    EXPECT_TRUE(any_warning_has(*r, "descriptor " + std::to_string(d.ring.index(d.ids[i])) + " "))
        << i << "\n" << joined(r->warnings);
  }
}

// A data ring larger than the whole machine (corrupt size_bits within the
// accepted range): an error, not a 2 GiB allocation.
TEST(LocklessRingDamage, DataRingBeyondTheMachinesMemoryIsAnError) {
  Ring ring(4, 10);
  ring.add(PrintkRecord(1, "x"));
  DumpBuilder b = machine_with(ring);
  const std::string vi = b.vmcoreinfo();
  const auto at = vi.find("OFFSET(prb_data_ring.size_bits)=");
  const auto at2 = vi.find("OFFSET(printk_ringbuffer.text_data_ring)=");
  ASSERT_NE(at, std::string::npos);
  ASSERT_NE(at2, std::string::npos);
  const uint64_t off = std::stoull(vi.substr(at + 32)) + std::stoull(vi.substr(at2 + 41));
  b.write_value<uint32_t>(ring.addresses(PrintkPlacement{}).ring - PrintkPlacement{}.va_offset + off, 31);
  auto r = extract(b);
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.error().describe().find("larger than the dump's memory"), std::string::npos) << r.error().describe();
}

TEST(LocklessRingDamage, CorruptTailIdCannotLoopForever) {
  DamagedRing d;
  d.ring.set_tail_id((d.ring.head_id() + 1) & Ring::kIdMask);  // 2^62 - 1 records "apart"
  auto r = extract(machine_with(d.ring));
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->text, DamagedRing::all_but({}));
  EXPECT_TRUE(any_warning_has(*r, "records apart")) << joined(r->warnings);
}

TEST(LocklessRingDamage, UnreadableTextPageCostsOnlyItsRecords) {
  Ring ring(6, 13);  // 8 KiB of text: two pages
  std::vector<uint64_t> ids;
  for (int i = 0; i < 40; ++i) ids.push_back(ring.add(PrintkRecord(0, "r" + std::string(150, 'a' + i % 26))));
  DumpBuilder b = machine_with(ring);
  const uint64_t data_pa = ring.addresses(PrintkPlacement{}).data - PrintkPlacement{}.va_offset;
  auto r = extract(b, {data_pa / 4096});  // the ring's first page is gone
  ASSERT_TRUE(r.ok()) << r.error().describe();
  int lines = static_cast<int>(std::count(r->text.begin(), r->text.end(), '\n'));
  EXPECT_GT(lines, 10);
  EXPECT_LT(lines, 40);
  EXPECT_TRUE(any_warning_has(*r, "not in the dump")) << joined(r->warnings);
  // What is printed is exactly the records that lie wholly in the second page.
  std::string expected;
  for (int i = 0; i < 40; ++i) {
    uint64_t begin = ring.lpos_begin(ids[i]) % ring.data_size();
    uint64_t next = ring.lpos_next(ids[i]) % ring.data_size();
    bool wraps = begin > next;
    if (!wraps && begin >= 4096) expected += "[    0.000000] r" + std::string(150, 'a' + i % 26) + "\n";
  }
  EXPECT_EQ(r->text, expected);
}

TEST(LocklessRingDamage, UnreadableDescriptorsAreAnError) {
  Ring ring(4, 10);
  ring.add(PrintkRecord(1, "x"));
  DumpBuilder b = machine_with(ring);
  const auto a = ring.addresses(PrintkPlacement{});
  const uint64_t descs_pa = a.descs - PrintkPlacement{}.va_offset;
  // The descriptors share their page with the ring struct; fail that page and
  // nothing can be read.
  auto r = extract(b, {descs_pa / 4096});
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.error().describe().find("printk"), std::string::npos) << r.error().describe();
}

TEST(LocklessRingDamage, ImplausibleCountBitsIsAnError) {
  Ring ring(4, 10);
  ring.add(PrintkRecord(1, "x"));
  DumpBuilder b = machine_with(ring);
  b.write_value<uint32_t>(ring.addresses(PrintkPlacement{}).ring - PrintkPlacement{}.va_offset, 60);
  auto r = extract(b);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().kind(), ErrorKind::kBadInput);
  EXPECT_NE(r.error().describe().find("count_bits 60"), std::string::npos) << r.error().describe();
}

TEST(LocklessRingDamage, MissingVmcoreinfoEntryIsNamed) {
  Ring ring(4, 10);
  DumpBuilder b = make_machine();
  ring.write(b, PrintkPlacement{});
  std::string vi = b.vmcoreinfo();
  auto at = vi.find("OFFSET(prb_desc_ring.infos)=16\n");
  ASSERT_NE(at, std::string::npos);
  vi.erase(at, std::string("OFFSET(prb_desc_ring.infos)=16\n").size());
  b.set_vmcoreinfo(vi);
  auto r = extract(b);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().kind(), ErrorKind::kUnsupported);
  EXPECT_NE(r.error().message().find("OFFSET(prb_desc_ring.infos)"), std::string::npos);
}

// Random damage to descriptors, infos and text: never a crash or a hang, and
// whatever is printed is one line per record at most.
TEST(LocklessRingDamage, RandomCorruptionTerminates) {
  for (uint64_t seed = 1; seed <= 150; ++seed) {
    std::mt19937_64 rng(seed);
    Ring ring(4, 10);
    for (int i = 0; i < 40; ++i) {
      ring.add(PrintkRecord(rng(), std::string(rng() % 60, static_cast<char>('A' + i % 26))));
    }
    for (int k = 0; k < 6; ++k) {
      uint64_t id = ring.tail_id() + rng() % 16;
      switch (rng() % 6) {
        case 0:
          ring.set_state_var(id, rng());
          break;
        case 1:
          ring.set_lpos(id, rng() % 4096, rng() % 4096);
          break;
        case 2:
          ring.set_text_len(id, static_cast<uint16_t>(rng()));
          break;
        case 3:
          ring.set_seq(id, rng());
          break;
        case 4:
          ring.set_tail_id(rng() & Ring::kIdMask);
          break;
        case 5: {
          uint64_t junk = rng();
          ring.poke_data(rng() % (ring.data_size() - 8), std::as_bytes(std::span(&junk, 1)));
          break;
        }
      }
    }
    auto r = extract(machine_with(ring));
    ASSERT_TRUE(r.ok()) << "seed " << seed << ": " << r.error().describe();
    EXPECT_LE(r->warnings.size(), dmesg::WarningList::kMaxDetailed + 1);
  }
}

}  // namespace
}  // namespace vmc::testing
