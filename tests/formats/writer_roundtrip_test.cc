// The project's writers (kdump, ELF, flattened) read back through the readers:
// what vmcollect writes, vmcollect must read (re-filtering, -R, --dump-dmesg
// on its own output). The readers are checked against independent files in
// the other tests; this one ties the two halves together.
#include <gtest/gtest.h>

#include "compress/codec.h"
#include "formats/dump_writer.h"
#include "formats/elf_core_reader.h"
#include "formats/flattened_reader.h"
#include "formats/kdump_reader.h"
#include "tests/formats/reader_test_util.h"

namespace vmc::testing {
namespace {

using compress::CodecKind;

DumpBuilder machine() {
  DumpBuilder b;
  b.add_ram(0, 2 << 20, 0xffff888000000000ull).add_ram(4 << 20, 2 << 20, 0xffff888000400000ull);
  b.set_vmcoreinfo("OSRELEASE=6.1.0-rt\nPAGESIZE=4096\n").set_prstatus_notes(2);
  for (uint64_t pfn = 0; pfn < 0x600; ++pfn) {
    if (pfn >= 0x200 && pfn < 0x400) continue;
    if (pfn % 4 == 1) continue;  // zero pages
    b.fill_page(pfn, pfn % 3 ? PageFill::kText : PageFill::kRandom, 21);
  }
  return b;
}

// Writes every RAM page of b through `writer` the way the engine does: chunks
// of pages in pfn order, then the bitmaps of the one cycle.
void write_all(const DumpBuilder& b, DumpWriter& writer, CodecKind codec) {
  ASSERT_TRUE(writer.begin().ok());
  auto c = compress::make_codec(codec);
  std::vector<uint64_t> ram(0x600 / 64), dumped(0x600 / 64);
  std::vector<std::vector<std::byte>> store;
  std::vector<PageRecord> records;
  for (auto [s, e] : b.ram_pfn_ranges()) {
    for (uint64_t pfn = s; pfn < e; ++pfn) {
      ram[pfn / 64] |= uint64_t{1} << (pfn % 64);
      dumped[pfn / 64] |= uint64_t{1} << (pfn % 64);
      auto page = b.page(pfn);
      bool zero = compress::is_zero_page(page);
      auto stored_codec = compress::CodecKind::kNone;
      if (c && !zero) {
        std::vector<std::byte> out(c->max_compressed_size(4096));
        size_t n = c->compress(page, out);
        if (n != 0) {
          out.resize(n);
          page = std::move(out);
          stored_codec = codec;
        }
      }
      store.push_back(std::move(page));
      records.push_back({pfn, store.back(), stored_codec, zero});
    }
  }
  for (size_t i = 0; i < records.size(); i += 100) {  // store is stable from here on
    auto n = std::min<size_t>(100, records.size() - i);
    for (size_t k = i; k < i + n; ++k) records[k].data = store[k];
    ASSERT_TRUE(writer.write_pages(std::span(records).subspan(i, n)).ok());
  }
  ASSERT_TRUE(writer.end_cycle(0, 0x600, ram, dumped).ok());
  ASSERT_TRUE(writer.finish(false).ok());
}

DumpHeaderInfo header_for(const DumpBuilder& b, CodecKind codec) {
  DumpHeaderInfo h;
  h.max_pfn = 0x600;
  h.max_dumped_pages = 0x400;
  h.codec = codec;
  h.notes = b.notes();
  h.vmcoreinfo = b.vmcoreinfo();
  h.nr_cpus = 2;
  h.release = "6.1.0-rt";
  for (const auto& s : b.segments()) h.segments.push_back({s.paddr, s.vaddr, s.size});
  return h;
}

class OurKdumpWriter : public ::testing::TestWithParam<CodecKind> {};

TEST_P(OurKdumpWriter, ReadsBackPageForPage) {
  if (!compress::codec_available(GetParam())) GTEST_SKIP() << "codec not built";
  DumpBuilder b = machine();
  io::MemoryOutput out("ours.kdump");
  auto w = make_kdump_writer(out, header_for(b, GetParam()));
  write_all(b, *w, GetParam());
  auto m = open_kdump(io::memory_input("ours.kdump", out.contents()));
  ASSERT_TRUE(m.ok()) << describe(m);
  EXPECT_EQ((*m)->ram(), (std::vector<PfnRange>{{0, 0x200}, {0x400, 0x600}}));
  EXPECT_EQ((*m)->metadata().vmcoreinfo, b.vmcoreinfo());
  EXPECT_EQ((*m)->metadata().nr_cpus, 2);
  EXPECT_FALSE((*m)->metadata().incomplete);
  EXPECT_EQ(expect_pages_match(**m, b), 0x400u);
}

TEST_P(OurKdumpWriter, ThroughAFlattenedPipeReadsBackAndRebuilds) {
  if (!compress::codec_available(GetParam())) GTEST_SKIP() << "codec not built";
  DumpBuilder b = machine();
  io::MemoryOutput plain("ours.kdump");
  write_all(b, *make_kdump_writer(plain, header_for(b, GetParam())), GetParam());
  io::MemoryOutput pipe("pipe", /*seekable=*/false);
  auto flat = make_flattened_output(pipe);
  write_all(b, *make_kdump_writer(*flat, header_for(b, GetParam())), GetParam());
  auto m = open_flattened(io::memory_input("ours.flat", pipe.contents()));
  ASSERT_TRUE(m.ok()) << describe(m);
  EXPECT_EQ(expect_pages_match(**m, b), 0x400u);
  io::MemoryOutput rebuilt("rebuilt");
  auto in = io::memory_input("ours.flat", pipe.contents());
  auto r = rearrange_flattened(*input_stream(*in), rebuilt);
  ASSERT_TRUE(r.ok()) << describe(r);
  // Unwritten descriptor slots are holes in one, missing in the other.
  auto a = plain.contents(), c = rebuilt.contents();
  c.resize(a.size());
  EXPECT_EQ(a, c);
}

INSTANTIATE_TEST_SUITE_P(Codecs, OurKdumpWriter,
                         ::testing::Values(CodecKind::kNone, CodecKind::kZlib, CodecKind::kLzo,
                                           CodecKind::kSnappy, CodecKind::kZstd),
                         [](const auto& p) { return std::string(compress::codec_name(p.param)); });

TEST(OurElfWriter, ReadsBackPageForPage) {
  DumpBuilder b = machine();
  io::MemoryOutput out("ours.elf");
  write_all(b, *make_elf_writer(out, header_for(b, CodecKind::kNone)), CodecKind::kNone);
  auto m = open_elf_core(io::memory_input("ours.elf", out.contents()));
  ASSERT_TRUE(m.ok()) << describe(m);
  EXPECT_EQ((*m)->metadata().vmcoreinfo, b.vmcoreinfo());
  EXPECT_EQ((*m)->metadata().nr_cpus, 2);
  EXPECT_EQ(expect_pages_match(**m, b), 0x400u);
}

}  // namespace
}  // namespace vmc::testing
