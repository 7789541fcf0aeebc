// The codec limit of a whole run: how long one thread takes just to compress
// exactly the pages a dump stores, with one kept codec context, the pages
// already in memory. Nothing a collector does can be faster at one thread;
// bench/compare.sh puts vmcollect's whole-run time beside it ("overhead").
//
//   codec_limit --codec -l|-c|-p|-z [--reps N] RAW_DUMP KEPT_DUMP
//
// KEPT_DUMP is a dump written from RAW_DUMP (by vmcollect or makedumpfile):
// its bitmap says which pages were kept. Zero pages among them are left out
// (a collector stores them without compressing), the rest are read from
// RAW_DUMP, copied into one buffer, and compressed REPS times in pfn order;
// the fastest pass is printed: wall seconds, and CPU seconds of the thread
// (what to compare with a collector's user + system time on a busy machine).
#include <time.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <string>
#include <vector>

#include "compress/codec.h"
#include "formats/physical_memory.h"

namespace {

using vmc::compress::CodecKind;

struct Args {
  CodecKind codec = CodecKind::none;
  int reps = 3;
  std::string raw, kept;
};

bool parse_codec(const std::string& s, CodecKind& kind) {
  if (s == "-c" || s == "zlib") kind = CodecKind::zlib;
  else if (s == "-l" || s == "lzo") kind = CodecKind::lzo;
  else if (s == "-p" || s == "snappy") kind = CodecKind::snappy;
  else if (s == "-z" || s == "zstd") kind = CodecKind::zstd;
  else return false;
  return true;
}

bool parse_args(int argc, char** argv, Args& a) {
  std::vector<std::string> files;
  for (int i = 1; i < argc; ++i) {
    std::string s = argv[i];
    if (s == "--codec" && i + 1 < argc) {
      if (!parse_codec(argv[++i], a.codec)) return false;
    } else if (s == "--reps" && i + 1 < argc) {
      a.reps = std::max(1, std::atoi(argv[++i]));
    } else {
      files.push_back(s);
    }
  }
  if (files.size() != 2 || a.codec == CodecKind::none) return false;
  a.raw = files[0];
  a.kept = files[1];
  return true;
}

// CPU time of this thread: what the loop cost when other work shares the machine.
double cpu_seconds() {
  timespec ts{};
  ::clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
  return static_cast<double>(ts.tv_sec) + static_cast<double>(ts.tv_nsec) * 1e-9;
}

// The non-zero pages of `raw` that `kept` holds, back to back.
std::vector<std::byte> load_pages(vmc::PhysicalMemory& raw, const vmc::PhysicalMemory& kept, uint64_t& zero) {
  std::vector<std::byte> pages;
  const uint32_t ps = raw.page_size();
  const uint64_t cycle = uint64_t{1} << 20;
  std::vector<uint64_t> bits;
  for (uint64_t start = 0; start < kept.max_pfn(); start += cycle) {
    uint64_t end = std::min(kept.max_pfn(), start + cycle);
    bits.assign((end - start + 63) / 64, 0);
    kept.available(start, end, bits);
    for (uint64_t i = 0; i < end - start; ++i) {
      if (!((bits[i / 64] >> (i % 64)) & 1)) continue;
      auto view = raw.pages(start + i, 1);
      if (!view) continue;
      if (vmc::compress::is_zero_page(view->bytes())) {
        ++zero;
        continue;
      }
      pages.insert(pages.end(), view->data(), view->data() + ps);
    }
  }
  return pages;
}

}  // namespace

int main(int argc, char** argv) {
  Args a;
  if (!parse_args(argc, argv, a)) {
    std::fprintf(stderr, "usage: codec_limit --codec -l|-c|-p|-z [--reps N] RAW_DUMP KEPT_DUMP\n");
    return 2;
  }
  auto raw = vmc::open_dump(a.raw);
  auto kept = vmc::open_dump(a.kept);
  if (!raw || !kept) {
    std::fprintf(stderr, "%s\n", (!raw ? raw.error() : kept.error()).describe().c_str());
    return 1;
  }
  uint64_t zero = 0;
  std::vector<std::byte> pages = load_pages(**raw, **kept, zero);
  const size_t ps = (*raw)->page_size();
  auto codec = vmc::compress::make_codec(a.codec);
  if (!codec) {
    std::fprintf(stderr, "codec not built in\n");
    return 1;
  }
  std::vector<std::byte> dst(codec->max_compressed_size(ps));
  double best = 1e300, best_cpu = 1e300;
  uint64_t stored = 0;
  for (int rep = 0; rep < a.reps; ++rep) {
    stored = 0;
    auto t0 = std::chrono::steady_clock::now();
    double c0 = cpu_seconds();
    for (size_t off = 0; off < pages.size(); off += ps) {
      size_t n = codec->compress(std::span(pages).subspan(off, ps), dst);
      stored += n != 0 ? n : ps;
    }
    best_cpu = std::min(best_cpu, cpu_seconds() - c0);
    auto t1 = std::chrono::steady_clock::now();
    best = std::min(best, std::chrono::duration<double>(t1 - t0).count());
  }
  std::printf("pages %zu (zero pages left out: %llu)\n", pages.size() / ps, static_cast<unsigned long long>(zero));
  std::printf("bytes in %zu, stored %llu\n", pages.size(), static_cast<unsigned long long>(stored));
  std::printf("seconds %.4f\n", best);
  std::printf("cpu_seconds %.4f\n", best_cpu);
  return 0;
}
