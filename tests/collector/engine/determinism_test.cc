// Byte-identical output at any thread count and across runs (issue 9), for
// every output format (kdump, flattened kdump, ELF) and every codec: workers
// compress into per-page slots and one writer emits in pfn order, so 1, 2
// and 8 threads, run twice, must give the same bytes. A fake memory with
// zero, random and text pages, several cycles and chunks, RAM holes and zero
// runs long enough to become ELF holes.
#include <gtest/gtest.h>

#include "collector/engine/engine.h"
#include "compress/codec.h"
#include "tests/collector/engine/fake_memory.h"

namespace vmc {
namespace {

using compress::CodecKind;
using testing::FakeMemory;

enum class Format { kKdump, kFlattened, kElf };

const char* format_name(Format f) {
  switch (f) {
    case Format::kKdump: return "kdump";
    case Format::kFlattened: return "flattened";
    case Format::kElf: return "elf";
  }
  return "?";
}

std::vector<std::byte> dump_bytes(PhysicalMemory& m, Format format, CodecKind codec, int threads) {
  io::MemoryOutput file("out", /*seekable=*/format != Format::kFlattened);
  std::unique_ptr<io::OutputFile> flat;
  if (format == Format::kFlattened) flat = make_flattened_output(file);
  io::OutputFile& out = flat ? *flat : file;
  DumpHeaderInfo h;
  h.page_size = m.page_size();
  h.max_pfn = m.max_pfn();
  h.codec = codec;
  h.dump_level = 1;
  h.release = "6.1.0-test";
  h.timestamp_sec = 1700000000;
  h.segments = m.metadata().segments;
  WriterFactory factory = [&](const DumpPlan& plan) -> Result<std::unique_ptr<DumpWriter>> {
    h.max_dumped_pages = plan.pages;
    h.max_runs = plan.runs;
    return format == Format::kElf ? make_elf_writer(out, h) : make_kdump_writer(out, h);
  };
  CollectOptions o;
  o.codec = codec;
  o.dump_level = 1;
  o.threads = threads;
  o.cycle_pfns = 4096;
  o.chunk_pages = 97;  // chunks that straddle cycles and thread shares unevenly
  auto report = collect(m, nullptr, factory, o);
  EXPECT_TRUE(report.ok()) << (report.ok() ? "" : report.error().describe());
  if (report.ok()) {
    EXPECT_FALSE(report->incomplete);
  }
  return file.contents();
}

using Param = std::tuple<Format, CodecKind>;
class SameBytes : public ::testing::TestWithParam<Param> {};

TEST_P(SameBytes, AtOneTwoAndEightThreadsAndAcrossRuns) {
  auto [format, codec] = GetParam();
  if (codec != CodecKind::kNone && !compress::codec_available(codec)) {
    ADD_FAILURE() << compress::codec_name(codec) << " is not built in";
    return;
  }
  FakeMemory m({{0, 160}, {256, 3000}, {4500, 7000}});
  m.zero_range(1000, 1300);  // a long zero run: an ELF hole at -d 1
  const auto reference = dump_bytes(m, format, codec, 1);
  ASSERT_GT(reference.size(), 100000u);
  for (int threads : {1, 2, 8}) {
    auto again = dump_bytes(m, format, codec, threads);
    ASSERT_EQ(again.size(), reference.size()) << threads << " threads";
    EXPECT_TRUE(again == reference) << threads << " threads: bytes differ";
  }
}

constexpr CodecKind kCodecs[] = {CodecKind::kNone, CodecKind::kZlib, CodecKind::kLzo,
                                 CodecKind::kSnappy, CodecKind::kZstd};

// ELF output takes no codec (-E with -c/-l/-p/-z is refused, as makedumpfile does).
INSTANTIATE_TEST_SUITE_P(
    Kdump, SameBytes,
    ::testing::Combine(::testing::Values(Format::kKdump, Format::kFlattened),
                       ::testing::ValuesIn(kCodecs)),
    [](const auto& p) {
      return std::string(format_name(std::get<0>(p.param))) + "_" +
             std::string(compress::codec_name(std::get<1>(p.param)));
    });
INSTANTIATE_TEST_SUITE_P(
    Elf, SameBytes,
    ::testing::Combine(::testing::Values(Format::kElf), ::testing::Values(CodecKind::kNone)),
    [](const auto& p) {
      return std::string(format_name(std::get<0>(p.param))) + "_" +
             std::string(compress::codec_name(std::get<1>(p.param)));
    });

}  // namespace
}  // namespace vmc
