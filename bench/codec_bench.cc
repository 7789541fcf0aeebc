// Per-page codec speed: compress and decompress one 4 KiB page at a time with
// each codec on each kind of synthetic page (bench/datagen.h), through one
// reused Codec as the collector's workers do, and is_zero_page.
//
//   compress/<codec>/<kind>     bytes/s and pages/s of input; "ratio" is
//                               input bytes / bytes stored (a page that does
//                               not get smaller counts as stored raw)
//   decompress/<codec>/<kind>   bytes/s and pages/s of output, over the pages
//                               that compressed (none for random: not run)
//   is_zero_page/<case>         bytes/s scanned
//
// Each case cycles through 256 distinct pages (1 MiB), generated from a fixed
// seed, so every run and machine sees the same bytes.
#include <benchmark/benchmark.h>

#include <memory>
#include <string>
#include <vector>

#include "bench/datagen.h"
#include "compress/codec.h"

namespace {

using vmc::bench::PageKind;
using vmc::compress::Codec;
using vmc::compress::CodecKind;

constexpr size_t kPage = 4096;
constexpr size_t kPages = 256;
constexpr uint64_t kSeed = 20240611;

struct Corpus {
  std::vector<std::byte> raw;                      // kPages pages back to back
  std::vector<std::vector<std::byte>> compressed;  // those that got smaller
  size_t stored_bytes = 0;                         // what a dump would hold
  std::span<const std::byte> page(size_t i) const { return std::span(raw).subspan(i * kPage, kPage); }
};

std::shared_ptr<const Corpus> make_corpus(CodecKind codec_kind, PageKind page_kind) {
  auto corpus = std::make_shared<Corpus>();
  corpus->raw = vmc::bench::make_pages(page_kind, kPages, kSeed, kPage);
  auto codec = vmc::compress::make_codec(codec_kind);
  std::vector<std::byte> dst(codec->max_compressed_size(kPage));
  for (size_t i = 0; i < kPages; ++i) {
    size_t n = codec->compress(corpus->page(i), dst);
    corpus->stored_bytes += n != 0 ? n : kPage;
    if (n != 0) corpus->compressed.emplace_back(dst.begin(), dst.begin() + static_cast<ptrdiff_t>(n));
  }
  return corpus;
}

void report(benchmark::State& state, const Corpus& corpus) {
  state.SetBytesProcessed(static_cast<int64_t>(state.iterations() * kPage));
  state.SetItemsProcessed(static_cast<int64_t>(state.iterations()));
  state.counters["ratio"] = static_cast<double>(corpus.raw.size()) / static_cast<double>(corpus.stored_bytes);
}

void bm_compress(benchmark::State& state, CodecKind kind, std::shared_ptr<const Corpus> corpus) {
  auto codec = vmc::compress::make_codec(kind);
  std::vector<std::byte> dst(codec->max_compressed_size(kPage));
  size_t i = 0;
  for (auto _ : state) {
    size_t n = codec->compress(corpus->page(i), dst);
    benchmark::DoNotOptimize(n);
    benchmark::ClobberMemory();
    if (++i == kPages) i = 0;
  }
  report(state, *corpus);
}

void bm_decompress(benchmark::State& state, CodecKind kind, std::shared_ptr<const Corpus> corpus) {
  auto codec = vmc::compress::make_codec(kind);
  std::vector<std::byte> page(kPage);
  size_t i = 0;
  for (auto _ : state) {
    bool ok = codec->decompress(corpus->compressed[i], page);
    if (!ok) {
      state.SkipWithError("decompress failed");
      break;
    }
    benchmark::DoNotOptimize(page.data());
    benchmark::ClobberMemory();
    if (++i == corpus->compressed.size()) i = 0;
  }
  report(state, *corpus);
}

// is_zero_page over pages of one kind; "zero" scans every byte (the worst
// case), "last_byte" scans every byte and then says no.
void bm_is_zero(benchmark::State& state, std::shared_ptr<const std::vector<std::byte>> pages) {
  size_t count = pages->size() / kPage, i = 0, zero = 0;
  for (auto _ : state) {
    zero += vmc::compress::is_zero_page(std::span(*pages).subspan(i * kPage, kPage));
    if (++i == count) i = 0;
  }
  benchmark::DoNotOptimize(zero);
  state.SetBytesProcessed(static_cast<int64_t>(state.iterations() * kPage));
  state.SetItemsProcessed(static_cast<int64_t>(state.iterations()));
}

void register_all() {
  for (CodecKind codec : {CodecKind::kZlib, CodecKind::kLzo, CodecKind::kSnappy, CodecKind::kZstd}) {
    if (!vmc::compress::codec_available(codec)) continue;
    std::string codec_name(vmc::compress::codec_name(codec));
    for (PageKind kind : vmc::bench::kAllPageKinds) {
      auto corpus = make_corpus(codec, kind);
      std::string suffix = codec_name + "/" + std::string(vmc::bench::page_kind_name(kind));
      benchmark::RegisterBenchmark(("compress/" + suffix).c_str(), bm_compress, codec, corpus);
      if (!corpus->compressed.empty()) {
        benchmark::RegisterBenchmark(("decompress/" + suffix).c_str(), bm_decompress, codec, corpus);
      }
    }
  }
  for (PageKind kind : {PageKind::kZero, PageKind::kRandom, PageKind::kKernel, PageKind::kMixed}) {
    auto pages = std::make_shared<std::vector<std::byte>>(vmc::bench::make_pages(kind, kPages, kSeed, kPage));
    benchmark::RegisterBenchmark(("is_zero_page/" + std::string(vmc::bench::page_kind_name(kind))).c_str(),
                                 bm_is_zero, pages);
  }
  auto last = std::make_shared<std::vector<std::byte>>(kPages * kPage);
  for (size_t i = 0; i < kPages; ++i) (*last)[i * kPage + kPage - 1] = std::byte{1};
  benchmark::RegisterBenchmark("is_zero_page/last_byte", bm_is_zero,
                               std::shared_ptr<const std::vector<std::byte>>(last));
}

}  // namespace

int main(int argc, char** argv) {
  benchmark::Initialize(&argc, argv);
  if (benchmark::ReportUnrecognizedArguments(argc, argv)) return 1;
  register_all();
  benchmark::RunSpecifiedBenchmarks();
  benchmark::Shutdown();
  return 0;
}
