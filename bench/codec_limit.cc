// The codec limit of a whole run: how long one thread takes just to compress
// exactly the pages a dump stores, with one kept codec context, the pages
// already in memory. Nothing a collector does can be faster at one thread;
// bench/compare.sh puts vmcollect's whole-run time beside it ("overhead").
//
//   codec_limit --codec -l|-c|-p|-z [--reps N] [--write-dir DIR] RAW_DUMP KEPT_DUMP
//
// KEPT_DUMP is a dump written from RAW_DUMP (by vmcollect or makedumpfile):
// its bitmap says which pages were kept. Zero pages among them are left out
// (a collector stores them without compressing), the rest are read from
// RAW_DUMP, copied into one buffer, and compressed REPS times in pfn order;
// the fastest pass is printed: wall seconds, and CPU seconds of the thread
// (what to compare with a collector's user + system time on a busy machine).
//
// It also prints the I/O floor of the same run, which no collector avoids
// either and which the codec limit leaves out: reading every kept page
// (zero pages too: only reading them shows they are zero) from RAW_DUMP,
// runs of consecutive pfns into one reused 1 MiB buffer, and, with
// --write-dir DIR, writing the stored bytes to a file in DIR, 1 MiB at a time.
// codec limit + read floor + write floor is what one thread cannot beat.
#include <fcntl.h>
#include <time.h>
#include <unistd.h>

#include <algorithm>
#include <cstdlib>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <string>
#include <vector>

#include "base/physical_memory.h"
#include "compress/codec.h"
#include "formats/open_dump.h"

namespace {

using vmc::compress::CodecKind;

struct Args {
  CodecKind codec = CodecKind::kNone;
  int reps = 3;
  std::string raw, kept, write_dir;
};

bool parse_codec(const std::string& s, CodecKind& kind) {
  if (s == "-c" || s == "zlib") kind = CodecKind::kZlib;
  else if (s == "-l" || s == "lzo") kind = CodecKind::kLzo;
  else if (s == "-p" || s == "snappy") kind = CodecKind::kSnappy;
  else if (s == "-z" || s == "zstd") kind = CodecKind::kZstd;
  else return false;
  return true;
}

bool parse_args(int argc, char** argv, Args& a) {
  std::vector<std::string> files;
  for (int i = 1; i < argc; ++i) {
    std::string s = argv[i];
    if (s == "--codec" && i + 1 < argc) {
      if (!parse_codec(argv[++i], a.codec)) return false;
    } else if (s == "--write-dir" && i + 1 < argc) {
      a.write_dir = argv[++i];
    } else if (s == "--reps" && i + 1 < argc) {
      a.reps = std::max(1, std::atoi(argv[++i]));
    } else {
      files.push_back(s);
    }
  }
  if (files.size() != 2 || a.codec == CodecKind::kNone) return false;
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

struct Best {
  double wall = 1e300, cpu = 1e300;
  template <typename F>
  void time(F&& pass) {
    auto t0 = std::chrono::steady_clock::now();
    double c0 = cpu_seconds();
    pass();
    cpu = std::min(cpu, cpu_seconds() - c0);
    wall = std::min(wall, std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count());
  }
};

// The non-zero pages of `raw` that `kept` holds, back to back; every kept
// pfn (zero pages included) in `pfns`.
std::vector<std::byte> load_pages(vmc::PhysicalMemory& raw, const vmc::PhysicalMemory& kept, uint64_t& zero,
                                  std::vector<uint64_t>& pfns) {
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
      pfns.push_back(start + i);
      if (vmc::compress::is_zero_page(view->bytes())) {
        ++zero;
        continue;
      }
      pages.insert(pages.end(), view->data(), view->data() + ps);
    }
  }
  return pages;
}

// Reads the pages as a collector must: each run of consecutive pfns (at most
// a buffer's worth) with one copy_pages into the same buffer.
void read_all(vmc::PhysicalMemory& raw, const std::vector<uint64_t>& pfns, std::vector<std::byte>& buffer) {
  const size_t ps = raw.page_size(), max_run = buffer.size() / ps;
  for (size_t i = 0, j; i < pfns.size(); i = j) {
    for (j = i + 1; j < pfns.size() && j - i < max_run && pfns[j] == pfns[j - 1] + 1;) ++j;
    if (!raw.copy_pages(pfns[i], j - i, std::span(buffer).first((j - i) * ps)).ok()) {
      std::fprintf(stderr, "cannot read pfn %#llx\n", static_cast<unsigned long long>(pfns[i]));
      std::exit(1);
    }
  }
}

// Writes `bytes` bytes to a new file in dir, 1 MiB per write, and removes it.
void write_all(const std::string& dir, uint64_t bytes, const std::vector<std::byte>& chunk) {
  std::string path = dir + "/codec_limit.write-floor";
  int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0600);
  if (fd < 0) {
    std::perror(path.c_str());
    std::exit(1);
  }
  for (uint64_t done = 0; done < bytes;) {
    size_t n = static_cast<size_t>(std::min<uint64_t>(chunk.size(), bytes - done));
    ssize_t w = ::pwrite(fd, chunk.data(), n, static_cast<off_t>(done));
    if (w <= 0) {
      std::perror(path.c_str());
      std::exit(1);
    }
    done += static_cast<uint64_t>(w);
  }
  ::close(fd);
  ::unlink(path.c_str());
}

}  // namespace

int main(int argc, char** argv) {
  Args a;
  if (!parse_args(argc, argv, a)) {
    std::fprintf(stderr, "usage: codec_limit --codec -l|-c|-p|-z [--reps N] [--write-dir DIR] RAW_DUMP KEPT_DUMP\n");
    return 2;
  }
  auto raw = vmc::open_dump(a.raw);
  auto kept = vmc::open_dump(a.kept);
  if (!raw || !kept) {
    std::fprintf(stderr, "%s\n", (!raw ? raw.error() : kept.error()).describe().c_str());
    return 1;
  }
  uint64_t zero = 0;
  std::vector<uint64_t> pfns;
  std::vector<std::byte> pages = load_pages(**raw, **kept, zero, pfns);
  const size_t ps = (*raw)->page_size();
  auto codec = vmc::compress::make_codec(a.codec);
  if (!codec) {
    std::fprintf(stderr, "codec not built in\n");
    return 1;
  }
  std::vector<std::byte> dst(codec->max_compressed_size(ps));
  Best compress, read, write;
  uint64_t stored = 0;
  std::vector<std::byte> buffer(size_t{1} << 20);
  for (int rep = 0; rep < a.reps; ++rep) {
    compress.time([&] {
      stored = 0;
      for (size_t off = 0; off < pages.size(); off += ps) {
        size_t n = codec->compress(std::span(pages).subspan(off, ps), dst);
        stored += n != 0 ? n : ps;
      }
    });
    read.time([&] { read_all(**raw, pfns, buffer); });
    if (!a.write_dir.empty()) write.time([&] { write_all(a.write_dir, stored, buffer); });
  }
  std::printf("pages %zu (zero pages left out: %llu)\n", pages.size() / ps, static_cast<unsigned long long>(zero));
  std::printf("bytes in %zu, stored %llu\n", pages.size(), static_cast<unsigned long long>(stored));
  std::printf("seconds %.4f\n", compress.wall);
  std::printf("cpu_seconds %.4f\n", compress.cpu);
  std::printf("read_seconds %.4f\n", read.wall);
  std::printf("read_cpu_seconds %.4f\n", read.cpu);
  if (!a.write_dir.empty()) {
    std::printf("write_seconds %.4f\n", write.wall);
    std::printf("write_cpu_seconds %.4f\n", write.cpu);
  }
  return 0;
}
