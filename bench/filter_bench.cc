// The filter pass: how fast PageFilter::filter() walks mem_map, in bytes of
// struct page per second (so "per GiB of mem_map"; 1 GiB of mem_map
// describes 64 GiB of RAM), one thread, the way the engine calls it (bits
// set for available pfns, slices of 32768 pfns).
//
//   filter/synthetic_mixed  a synthetic 6.1 machine (tests/builder), 4 GiB
//                           of RAM, every struct page written: free blocks
//                           of all orders (tails included), anonymous and
//                           file pages, slab, THPs, kernel pages
//   filter/real             the dump named by VMCOLLECT_BENCH_DUMP (an ELF
//                           /proc/vmcore copy with VMCOREINFO), when set
//
// Counters: excluded = share of pfns the filter left out.
#include <benchmark/benchmark.h>
#include <unistd.h>

#include <cstdlib>
#include <memory>
#include <string>
#include <vector>

#include "base/physical_memory.h"
#include "formats/elf_core_reader.h"
#include "tests/builder/kernel_layout.h"
#include "vmcoreinfo/pages/page_filter.h"
#include "vmcoreinfo/table/vmcoreinfo.h"

namespace {

using vmc::testing::KernelLayoutBuilder;

struct Subject {
  std::unique_ptr<vmc::PhysicalMemory> memory;
  std::unique_ptr<vmc::PageFilter> filter;
  uint64_t struct_page_size = 64;
};

// Every 2 MiB of the machine gets one kind of content, in a fixed rotation.
void describe_machine(KernelLayoutBuilder& b, uint64_t first_pfn, uint64_t end_pfn) {
  using C = KernelLayoutBuilder::Compound;
  unsigned turn = 0;
  for (uint64_t g = (first_pfn + 511) / 512 * 512; g + 512 <= end_pfn; g += 512, ++turn) {
    switch (turn % 20) {
      case 0: case 1: case 2: case 3: case 4: case 5: case 6: case 7:  // 40 % free, orders 0..9
        for (uint64_t p = g, o = turn % 10; p < g + 512; p += uint64_t{1} << o, o = (o + 3) % 10) {
          while (p % (uint64_t{1} << o) != 0 || p + (uint64_t{1} << o) > g + 512) --o;
          b.free_block(p, static_cast<unsigned>(o));
        }
        break;
      case 8: case 9: case 10: case 11:  // 20 % anonymous
        for (uint64_t p = g; p < g + 512; ++p) b.anon(p);
        break;
      case 12: case 13: case 14:  // 15 % page cache, some with buffers
        for (uint64_t p = g; p < g + 512; ++p) b.file_cache(p, p % 4 == 0);
        break;
      case 15: case 16:  // 10 % slab
        for (uint64_t p = g; p < g + 512; ++p) b.slab(p);
        break;
      case 17:  // 5 % THP
        b.compound(g, 9, C::kAnonThp);
        break;
      default:  // 10 % other kernel pages
        for (uint64_t p = g; p < g + 512; ++p) b.in_use(p);
        break;
    }
  }
}

std::unique_ptr<Subject> open_subject(const std::string& path) {
  auto in = vmc::io::open_input(path);
  if (!in) return nullptr;
  auto m = vmc::open_elf_core(std::move(*in));
  if (!m) return nullptr;
  auto info = vmc::VmcoreInfo::parse((*m)->metadata().vmcoreinfo);
  if (!info) return nullptr;
  auto f = vmc::make_page_filter(**m, *info, 31);
  if (!f) return nullptr;
  auto s = std::make_unique<Subject>();
  if (auto size = info->size("page")) s->struct_page_size = *size;
  s->memory = std::move(*m);
  s->filter = std::move(*f);
  return s;
}

std::unique_ptr<Subject> synthetic_subject() {
  vmc::testing::MachineSpec machine;
  machine.ram = {{0x1000, 0x9f000}, {0x100000, uint64_t{4} << 30}};
  KernelLayoutBuilder b(vmc::testing::debian_6_1(), machine);
  // Leave the kernel image, mem_map and page tables (top of RAM) alone.
  describe_machine(b, (uint64_t{128} << 20) / 4096, ((uint64_t{4} << 30) - (uint64_t{256} << 20)) / 4096);
  b.finish();
  std::string path = "/tmp/vmc-filter-bench-" + std::to_string(::getpid()) + ".vmcore";
  if (!b.dump().write_elf(path)) return nullptr;
  auto s = open_subject(path);
  ::unlink(path.c_str());  // stays readable while open
  return s;
}

void bm_filter(benchmark::State& state, std::shared_ptr<Subject> s) {
  if (!s) {
    state.SkipWithError("no dump");
    return;
  }
  const uint64_t max_pfn = s->memory->max_pfn(), slice = uint64_t{1} << 15;
  std::vector<uint64_t> bits;
  uint64_t excluded = 0;
  for (auto _ : state) {
    vmc::FilterStats stats;
    for (uint64_t start = 0; start < max_pfn; start += slice) {
      uint64_t end = std::min(max_pfn, start + slice);
      bits.assign((end - start + 63) / 64, 0);
      s->memory->available(start, end, bits);
      s->filter->filter(start, end, bits, stats);
    }
    excluded = 0;
    for (uint64_t n : stats.excluded) excluded += n;
    benchmark::DoNotOptimize(bits.data());
  }
  state.SetBytesProcessed(static_cast<int64_t>(state.iterations() * max_pfn * s->struct_page_size));
  state.counters["excluded"] = static_cast<double>(excluded) / static_cast<double>(max_pfn);
}

}  // namespace

int main(int argc, char** argv) {
  benchmark::Initialize(&argc, argv);
  if (benchmark::ReportUnrecognizedArguments(argc, argv)) return 1;
  benchmark::RegisterBenchmark("filter/synthetic_mixed", bm_filter, std::shared_ptr<Subject>(synthetic_subject()))
      ->Unit(benchmark::kMillisecond);
  if (const char* real = std::getenv("VMCOLLECT_BENCH_DUMP")) {
    benchmark::RegisterBenchmark("filter/real", bm_filter, std::shared_ptr<Subject>(open_subject(real)))
        ->Unit(benchmark::kMillisecond);
  }
  benchmark::RunSpecifiedBenchmarks();
  benchmark::Shutdown();
  return 0;
}
