// What a first touch of fresh memory costs: the engine's buffers are touched
// once per run, so on a host where page faults are dear (a PVM or nested
// guest) their backing decides milliseconds of a 0.15 s run.
//
//   first_touch/4k/<MiB>       a fresh anonymous mapping with MADV_NOHUGEPAGE
//                              (what new[] of a large buffer gets where THP is
//                              "madvise" or "never"), touched, unmapped
//   first_touch/scratch/<MiB>  io::ScratchBuffer (2 MiB aligned, THP advised)
//
// Time per iteration covers allocation, one write per 4 KiB page and release;
// items/s counts 4 KiB pages. (A new[]/delete[] loop would measure glibc
// reusing the same already-touched memory, not a first touch.)
#include <benchmark/benchmark.h>
#include <sys/mman.h>

#include <cstddef>

#include "base/scratch_buffer.h"

namespace {

constexpr size_t kSmallPage = 4096;

void touch_every_page(std::byte* p, size_t bytes) {
  for (size_t i = 0; i < bytes; i += kSmallPage) p[i] = std::byte{1};
  benchmark::DoNotOptimize(p);
  benchmark::ClobberMemory();
}

void report(benchmark::State& state, size_t bytes) {  // items = 4 KiB pages
  state.SetItemsProcessed(static_cast<int64_t>(state.iterations() * (bytes / kSmallPage)));
}

void BM_FirstTouch4k(benchmark::State& state) {
  const size_t bytes = static_cast<size_t>(state.range(0)) << 20;
  for (auto _ : state) {
    void* p = ::mmap(nullptr, bytes, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (p == MAP_FAILED) {
      state.SkipWithError("mmap failed");
      break;
    }
    (void)::madvise(p, bytes, MADV_NOHUGEPAGE);
    touch_every_page(static_cast<std::byte*>(p), bytes);
    ::munmap(p, bytes);
  }
  report(state, bytes);
}

void BM_FirstTouchScratch(benchmark::State& state) {
  const size_t bytes = static_cast<size_t>(state.range(0)) << 20;
  for (auto _ : state) {
    vmc::io::ScratchBuffer b(bytes);
    touch_every_page(b.data(), bytes);
  }
  report(state, bytes);
}

BENCHMARK(BM_FirstTouch4k)->Name("first_touch/4k")->Arg(2)->Arg(8)->Unit(benchmark::kMicrosecond);
BENCHMARK(BM_FirstTouchScratch)->Name("first_touch/scratch")->Arg(2)->Arg(8)->Unit(benchmark::kMicrosecond);

}  // namespace

BENCHMARK_MAIN();
