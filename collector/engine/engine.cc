// Why it is shaped this way: the filter reads only mem_map (1.6 % of memory),
// so on big machines it runs twice (once to size the descriptor table, once
// per cycle to write) instead of keeping a terabyte-sized bitmap; when the
// bitmap is small (up to 128 GiB of RAM) the first pass's bits are kept.
// Page data is read once: the zero check happens in the pass that
// compresses. Workers compress a chunk of pages into per-page slots; the writer then emits them in pfn order
// with one large write (overlapping the next chunk's compression), so the
// output is the same at any thread count.
#include "collector/engine/engine.h"

#include <sys/mman.h>
#include <unistd.h>

#include <algorithm>
#include <cstring>
#include <memory>
#include <utility>

#include "base/bitmap.h"
#include "base/pfn_ranges.h"
#include "base/scratch_buffer.h"
#include "collector/engine/parallel.h"

namespace vmc {
namespace {

// Pass 1's bits are kept for pass 2 up to this many words (4 MiB: machines of
// up to 128 GiB of 4 KiB pages walk mem_map once).
constexpr size_t kPlanCacheWords = size_t{1} << 19;

// Bits of the pfns the input holds in [start, end), minus what the filter drops.
void candidate_pages(PhysicalMemory& memory, const PageFilter* filter, int threads, uint64_t start,
                     uint64_t end, std::vector<uint64_t>& keep, FilterStats& stats) {
  keep.assign(words_for(end - start), 0);
  memory.available(start, end, keep);
  if (filter == nullptr) return;
  // Slices of whole words, filtered in parallel, stats merged after.
  constexpr uint64_t kSlice = uint64_t{1} << 15;
  int64_t slices = static_cast<int64_t>((end - start + kSlice - 1) / kSlice);
  std::vector<FilterStats> per_slice(static_cast<size_t>(slices));
  parallel_for(threads, slices, [&](int64_t i, int) {
    uint64_t s = start + static_cast<uint64_t>(i) * kSlice;
    uint64_t e = std::min(end, s + kSlice);
    std::span<uint64_t> bits(keep.data() + (s - start) / 64, words_for(e - s));
    filter->filter(s, e, bits, per_slice[static_cast<size_t>(i)]);
  });
  for (const auto& st : per_slice) stats.merge(st);
}

void ram_bits(const PhysicalMemory& memory, uint64_t start, uint64_t end, std::vector<uint64_t>& bits) {
  bits.assign(words_for(end - start), 0);
  set_range_bits(memory.ram(), start, end, bits);
}

// Kept pfns whose predecessor is not kept (the one before bit 0 given).
uint64_t count_run_starts(std::span<const uint64_t> bits, uint64_t nbits, bool previous_kept) {
  uint64_t starts = 0;
  uint64_t carry = previous_kept ? 1 : 0;
  for (size_t w = 0; w < words_for(nbits); ++w) {
    uint64_t word = bits[w];
    if (w == words_for(nbits) - 1 && nbits % 64 != 0) word &= (uint64_t{1} << (nbits % 64)) - 1;
    starts += static_cast<uint64_t>(std::popcount(word & ~((word << 1) | carry)));
    carry = word >> 63;
  }
  return starts;
}

// Clears the bits of pfns outside [lo, hi) (the pages another split file writes).
void clear_outside(std::vector<uint64_t>& bits, uint64_t start, uint64_t end, uint64_t lo, uint64_t hi) {
  for (uint64_t i = 0; i < end - start; ++i) {
    uint64_t pfn = start + i;
    if (pfn >= lo && pfn < hi) {
      i = std::min(hi, end) - start - 1;
      continue;
    }
    clear_bit(bits, i);
  }
}

// Maps every page of a mapped input window in one system call: the pages
// are all about to be read, and a fault per page (or per 16, with the
// kernel's fault-around) costs more. Best effort: kernels before 5.14 and
// inputs that are not mappings (copies, /proc/vmcore's pfn maps) say no.
void prefault(std::span<const std::byte> bytes) {
#ifdef MADV_POPULATE_READ
  static const uintptr_t kPage = static_cast<uintptr_t>(::sysconf(_SC_PAGESIZE));
  if (bytes.size() < 2 * kPage) return;
  uintptr_t begin = reinterpret_cast<uintptr_t>(bytes.data()) & ~(kPage - 1);
  uintptr_t end = reinterpret_cast<uintptr_t>(bytes.data() + bytes.size());
  (void)::madvise(reinterpret_cast<void*>(begin), end - begin, MADV_POPULATE_READ);
#else
  (void)bytes;
#endif
}

void add_unreadable(std::vector<PfnRange>& ranges, uint64_t pfn) {
  if (!ranges.empty() && ranges.back().end == pfn) {
    ranges.back().end = pfn + 1;
  } else {
    ranges.push_back({pfn, pfn + 1});
  }
}

// Reads, zero-checks and compresses a chunk of pages, and hands chunks to the
// writer in pfn order. With several threads it is a pipeline without a
// barrier between chunks (WorkPipeline): helper threads compress chunk k, a
// grain of pages at a time, handed out dynamically (zero pages cost a scan,
// others a compression), while the calling thread finishes chunk k-1 with
// them, writes it, and reads chunk k+1; a helper that finds nothing left of
// chunk k goes straight on to chunk k+1. A dump file is read by the workers
// themselves, each grain with one pread into the batch's reused buffer (no
// mapping to build and tear down); /proc/vmcore is mapped, a run of pages at
// a time.
class ChunkProcessor {
 public:
  ChunkProcessor(PhysicalMemory& memory, const CollectOptions& options, CollectReport& report)
      : memory_(memory), options_(options), report_(report), page_size_(memory.page_size()) {
    threads_ = std::max(1, options.threads);
    grain_pages_ = std::clamp<size_t>(options.chunk_pages / (4 * static_cast<size_t>(threads_)), 16, 64);
    copy_input_ = memory.prefers_copy();
    if (options.codec != compress::CodecKind::kNone) {
      for (int i = 0; i < threads_; ++i) codecs_.push_back(compress::make_codec(options.codec));
      slot_size_ = codecs_.front()->max_compressed_size(page_size_);
    }
    // Two batches only when the writer overlaps compression.
    size_t input_page = copy_input_ ? page_size_ : 0;
    for (int b = 0; b < (threads_ > 1 ? 2 : 1); ++b) {
      batches_[b].reserve(options.chunk_pages, slot_size_, input_page);
    }
    if (threads_ > 1) pipeline_ = std::make_unique<WorkPipeline>(threads_);
  }

  // pfns: kept pages in increasing order (at most chunk_pages). Clears the keep
  // bit of pages that turn out unreadable. With one thread the chunk is
  // written before this returns; with more, it is written during the next
  // call or flush(), whose status says how the write went.
  Status process(std::span<const uint64_t> pfns, uint64_t cycle_start, std::vector<uint64_t>& keep,
                 DumpWriter& writer) {
    Batch& batch = batches_[current_];
    batch.pfns.assign(pfns.begin(), pfns.end());
    batch.cycle_start = cycle_start;
    batch.keep = &keep;
    if (!copy_input_) map_sources(batch);
    const size_t n = pfns.size();
    const auto grains = static_cast<int64_t>((n + grain_pages_ - 1) / grain_pages_);
    auto grain = [this, &batch, n](int64_t g, int tid) {
      size_t lo = static_cast<size_t>(g) * grain_pages_, hi = std::min(n, lo + grain_pages_);
      if (copy_input_) copy_sources(batch, lo, hi);
      for (size_t i = lo; i < hi; ++i) compress_one(batch, i, tid);
    };
    if (!pipeline_) {
      for (int64_t g = 0; g < grains; ++g) grain(g, 0);
      return finish(batch, writer);
    }
    // The helpers start on this chunk at once. This thread works on it too,
    // but only until the chunk before is done; it then writes that one and
    // returns to read the next, so the helpers always have a chunk queued.
    WorkPipeline::Job job = pipeline_->submit(grains, grain);
    if (pending_ != nullptr) {
      while (!pipeline_->done(pending_job_) && pipeline_->help_one(job)) {
      }
    }
    Status written = flush(writer);
    pending_ = &batch;
    pending_job_ = job;
    current_ ^= 1;
    return written;
  }

  // Writes the chunk still held back (before a cycle's bitmaps, and at the end).
  Status flush(DumpWriter& writer) {
    if (pending_ == nullptr) return {};
    Batch& batch = *std::exchange(pending_, nullptr);
    pipeline_->wait(pending_job_);
    return finish(batch, writer);
  }

 private:
  // Pages handed to a worker at a time, and read with one pread when their
  // pfns are consecutive: four grains of a chunk per thread, for balance, but
  // 16-64 pages. A system call costs ~3 us in a paravirtualized guest (1,460
  // reads of 64 KiB at -l -d 31 on the 1 GiB test dump, 352 of 256 KiB now),
  // and 256 KiB still sits in L2.
  size_t grain_pages_ = 16;

  struct Slot {
    uint32_t size = 0;  // compressed size; 0 = stored raw
    bool zero = false;
  };

  struct Batch {
    std::vector<uint64_t> pfns;
    uint64_t cycle_start = 0;
    std::vector<uint64_t>* keep = nullptr;  // the cycle's bits, for pages found unreadable
    // Huge-page backed where the kernel allows (base/scratch_buffer.h); not
    // zero-filled: written before read.
    io::ScratchBuffer slots;
    std::vector<const std::byte*> sources;
    std::vector<Slot> results;
    std::vector<io::ByteView> views;
    io::ScratchBuffer input;  // page data read by copy_sources
    void reserve(size_t pages, size_t slot_size, size_t input_page_size) {
      pfns.reserve(pages);
      slots = io::ScratchBuffer(pages * slot_size + 1);
      if (input_page_size != 0) input = io::ScratchBuffer(pages * input_page_size);
      sources.resize(pages);
      results.resize(pages);
    }
  };

  // Copies pages [lo, hi) of the batch into its buffer, a run of consecutive
  // pfns per read. A run that fails is retried page by page so one bad page
  // does not cost its neighbours; a page that still fails is left without a
  // source for retry_unread, which runs on one thread and keeps the books.
  void copy_sources(Batch& b, size_t lo, size_t hi) {
    for (size_t i = lo, j; i < hi; i = j) {
      for (j = i + 1; j < hi && b.pfns[j] == b.pfns[j - 1] + 1;) ++j;
      std::byte* dst = b.input.data() + i * page_size_;
      if (memory_.copy_pages(b.pfns[i], j - i, {dst, (j - i) * page_size_}).ok()) {
        for (size_t k = i; k < j; ++k) b.sources[k] = dst + (k - i) * page_size_;
        continue;
      }
      for (size_t k = i; k < j; ++k) {
        std::byte* page = b.input.data() + k * page_size_;
        b.sources[k] = memory_.copy_pages(b.pfns[k], 1, {page, page_size_}).ok() ? page : nullptr;
      }
    }
  }

  // Once the batch is compressed: books the pages the workers could not
  // read (on this thread, the only one that touches report_ and the bits),
  // writes the batch, and lets go of its input windows.
  Status finish(Batch& b, DumpWriter& writer) {
    if (copy_input_) retry_unread(b);
    Status s = write(b, writer);
    b.views.clear();
    return s;
  }

  void retry_unread(Batch& b) {
    for (size_t k = 0; k < b.pfns.size(); ++k) {
      if (b.sources[k] != nullptr) continue;
      read_single(b, k);
      if (b.sources[k] != nullptr) compress_one(b, k, 0);
    }
  }

  // Maps runs of consecutive pfns; a run that fails is retried page by page so
  // one bad page does not cost its neighbours.
  void map_sources(Batch& b) {
    const std::vector<uint64_t>& pfns = b.pfns;
    size_t i = 0;
    while (i < pfns.size()) {
      size_t j = i + 1;
      while (j < pfns.size() && pfns[j] == pfns[j - 1] + 1) ++j;
      auto view = memory_.pages(pfns[i], j - i);
      if (view.ok()) {
        prefault(view->bytes());
        for (size_t k = i; k < j; ++k) b.sources[k] = view->data() + (k - i) * page_size_;
        b.views.push_back(std::move(view).value());
      } else {
        for (size_t k = i; k < j; ++k) read_single(b, k);
      }
      i = j;
    }
  }

  void read_single(Batch& b, size_t k) {
    uint64_t pfn = b.pfns[k];
    auto view = memory_.pages(pfn, 1);
    if (view.ok()) {
      b.sources[k] = view->data();
      b.views.push_back(std::move(view).value());
      return;
    }
    b.sources[k] = nullptr;
    clear_bit(*b.keep, pfn - b.cycle_start);
    report_.excluded[ExcludeReason::kUnreadable]++;
    add_unreadable(report_.unreadable, pfn);
    if (report_.warnings.size() < 16) report_.warnings.push_back(view.error().describe());
  }

  void compress_one(Batch& b, size_t i, int tid) {
    Slot& r = b.results[i];
    r = Slot{};
    const std::byte* src = b.sources[i];
    if (src == nullptr) return;
    std::span<const std::byte> page(src, page_size_);
    r.zero = compress::is_zero_page(page);
    if (r.zero || codecs_.empty()) return;
    auto& codec = *codecs_[static_cast<size_t>(tid)];
    std::span<std::byte> dst(b.slots.data() + i * slot_size_, slot_size_);
    size_t n = codec.compress(page, dst);
    if (n != 0 && n < page_size_) {
      r.size = static_cast<uint32_t>(n);
    }
  }

  // Runs on the calling thread, the only writer of report_ (helpers touch only
  // the batches they compress).
  Status write(const Batch& b, DumpWriter& writer) {
    records_.clear();
    for (size_t i = 0; i < b.pfns.size(); ++i) {
      const Slot& r = b.results[i];
      if (b.sources[i] == nullptr) continue;  // unreadable
      // Zero pages go to the writer marked as such: kdump shares one stored
      // zero page (makedumpfile's -d 1), ELF leaves long runs of them out.
      if (r.zero && (options_.dump_level & kDumpLevelZero)) report_.excluded[ExcludeReason::kZero]++;
      std::span<const std::byte> data =
          r.size != 0 ? std::span<const std::byte>(b.slots.data() + i * slot_size_, r.size)
                      : std::span<const std::byte>(b.sources[i], page_size_);
      records_.push_back({b.pfns[i], data, r.size != 0 ? options_.codec : compress::CodecKind::kNone, r.zero});
    }
    report_.dumped_pages += records_.size();
    return writer.write_pages(records_);
  }

  PhysicalMemory& memory_;
  const CollectOptions& options_;
  CollectReport& report_;
  uint32_t page_size_;
  int threads_;
  bool copy_input_;  // the input is read into batch buffers, not mapped
  size_t slot_size_ = 0;
  std::vector<std::unique_ptr<compress::Codec>> codecs_;
  Batch batches_[2];
  int current_ = 0;
  Batch* pending_ = nullptr;  // submitted, not yet written
  WorkPipeline::Job pending_job_ = 0;
  std::vector<PageRecord> records_;
  // Last: destroyed first, it waits for work in flight on the batches and codecs.
  std::unique_ptr<WorkPipeline> pipeline_;
};

// Names where the dump stopped: the pages before next_pfn are on disk.
std::optional<Error> cancelled(const CollectOptions& options, uint64_t next_pfn) {
  if (options.cancel == nullptr || options.cancel->load() == 0) return std::nullopt;
  return Error(ErrorKind::kInterrupted,
               "interrupted by signal " + std::to_string(options.cancel->load()) +
                   " before pfn " + hex(next_pfn));
}

}  // namespace

Result<CollectReport> collect(PhysicalMemory& memory, const PageFilter* filter,
                              const WriterFactory& make_writer, const CollectOptions& options) {
  CollectReport report;
  report.max_pfn = memory.max_pfn();
  for (const auto& r : memory.ram()) report.ram_pages += r.count();
  report.memory_hole = report.max_pfn - report.ram_pages;
  if (filter) report.warnings = filter->warnings();
  // A truncated input (its reader says which segment lost what) cannot give a
  // whole dump: say so, and mark the output incomplete as the input is.
  for (const auto& w : memory.metadata().warnings) report.warnings.push_back(w);

  const uint64_t cycle = std::max<uint64_t>(64, options.cycle_pfns / 64 * 64);
  std::vector<uint64_t> keep, ram;

  // Pass 1 (mem_map only): how many pages and runs of pages to write. When
  // the bits of every cycle fit in kPlanCacheWords, they (and the filter's
  // counts) are kept for pass 2, which then does not walk mem_map again;
  // bigger dumps walk it twice rather than hold a bitmap of all of memory.
  DumpPlan plan;
  std::vector<std::vector<uint64_t>> cached_keep;
  std::vector<FilterStats> cached_stats;
  const bool cache_plan = words_for(report.max_pfn) <= kPlanCacheWords;
  {
    bool previous_kept = false;
    for (uint64_t s = 0; s < report.max_pfn; s += cycle) {
      if (auto e = cancelled(options, s)) return std::move(*e);  // nothing written yet
      uint64_t e = std::min(report.max_pfn, s + cycle);
      FilterStats stats;
      candidate_pages(memory, filter, options.threads, s, e, keep, stats);
      if (cache_plan) {
        cached_keep.push_back(keep);
        cached_stats.push_back(stats);
      }
      clear_outside(keep, s, e, options.write_start, options.write_end);
      plan.pages += count_bits(keep);
      plan.runs += count_run_starts(keep, e - s, previous_kept);
      previous_kept = e > s && test_bit(keep, e - s - 1);
    }
    plan.runs += memory.ram().size();  // a run also breaks where RAM ranges meet
  }
  const uint64_t candidates = plan.pages;
  auto writer_or = make_writer(plan);
  if (!writer_or.ok()) return std::move(writer_or).error();
  DumpWriter& writer = **writer_or;
  if (auto s = writer.begin(); !s.ok()) return std::move(s).error();

  ChunkProcessor chunks(memory, options, report);
  std::vector<uint64_t> pfns;
  uint64_t done = 0;
  auto stop = [&](Error e) -> Result<CollectReport> {
    report.incomplete = true;
    report.error = std::move(e);
    report.data_bytes = writer.data_bytes();
    if (auto s = writer.finish(/*incomplete=*/true); !s.ok()) {
      report.warnings.push_back("could not mark the dump incomplete: " + s.error().describe());
    }
    return report;
  };

  for (uint64_t start = 0, c = 0; start < report.max_pfn; start += cycle, ++c) {
    // Here too, not only between chunks: a long hole has no chunk to write.
    if (auto e = cancelled(options, start)) return stop(std::move(*e));  // the last cycle was flushed
    uint64_t end = std::min(report.max_pfn, start + cycle);
    if (cache_plan) {
      keep = std::move(cached_keep[c]);
      report.excluded.merge(cached_stats[c]);
    } else {
      candidate_pages(memory, filter, options.threads, start, end, keep, report.excluded);
    }
    ram_bits(memory, start, end, ram);
    // Only this file's pfns are read; the bitmaps keep every file's bits.
    uint64_t lo = std::clamp(options.write_start, start, end) - start;
    uint64_t hi = std::clamp(options.write_end, start, end) - start;
    for (uint64_t i = next_set_bit(keep, lo, hi); i < hi;) {
      if (auto e = cancelled(options, start + i)) {
        Status flushed = chunks.flush(writer);  // the pages before start + i go to disk
        (void)writer.end_cycle(start, end, ram, keep);
        return stop(flushed.ok() ? std::move(*e) : std::move(flushed).error());
      }
      pfns.clear();
      for (; i < hi && pfns.size() < options.chunk_pages; i = next_set_bit(keep, i + 1, hi)) {
        pfns.push_back(start + i);
      }
      if (auto s = chunks.process(pfns, start, keep, writer); !s.ok()) {
        // The pages of this chunk may be partly on disk: keep their bits, the
        // descriptors (zero) tell readers the data is missing.
        (void)writer.end_cycle(start, end, ram, keep);
        return stop(std::move(s).error());
      }
      done += pfns.size();
      if (options.progress) options.progress(done, candidates);
    }
    if (auto s = chunks.flush(writer); !s.ok()) {
      (void)writer.end_cycle(start, end, ram, keep);
      return stop(std::move(s).error());
    }
    if (auto s = writer.end_cycle(start, end, ram, keep); !s.ok()) return stop(std::move(s).error());
  }
  report.data_bytes = writer.data_bytes();
  bool incomplete = !report.unreadable.empty() || memory.metadata().incomplete;
  report.incomplete = incomplete;
  if (memory.metadata().incomplete && !report.error) {
    report.error = Error(ErrorKind::kBadInput,
                         "the input is incomplete (truncated, or marked so by the tool that wrote it): "
                         "the pages it lacks are not in the dump");
  }
  if (auto s = writer.finish(incomplete); !s.ok()) return stop(std::move(s).error());
  return report;
}

std::vector<uint64_t> split_boundaries(PhysicalMemory& memory, const PageFilter* filter,
                                       const CollectOptions& options, int parts) {
  const uint64_t max_pfn = memory.max_pfn();
  const uint64_t cycle = std::max<uint64_t>(64, options.cycle_pfns / 64 * 64);
  std::vector<uint64_t> keep, per_cycle;
  uint64_t total = 0;
  FilterStats discard;
  for (uint64_t s = 0; s < max_pfn; s += cycle) {
    // Cancelled: any bounds do, collect() stops at once on the same flag.
    if (cancelled(options, s)) return std::vector<uint64_t>(static_cast<size_t>(parts) + 1, max_pfn);
    candidate_pages(memory, filter, options.threads, s, std::min(max_pfn, s + cycle), keep, discard);
    per_cycle.push_back(count_bits(keep));
    total += per_cycle.back();
  }
  // Second look, cycle by cycle: the pfn where the running count passes k * total / parts.
  std::vector<uint64_t> bounds{0};
  uint64_t seen = 0;
  for (uint64_t s = 0, c = 0; s < max_pfn && static_cast<int>(bounds.size()) < parts; s += cycle, ++c) {
    uint64_t e = std::min(max_pfn, s + cycle);
    uint64_t target = total * bounds.size() / static_cast<uint64_t>(parts);
    if (seen + per_cycle[c] <= target) {
      seen += per_cycle[c];
      continue;
    }
    candidate_pages(memory, filter, options.threads, s, e, keep, discard);
    for (uint64_t i = next_set_bit(keep, 0, e - s); i < e - s; i = next_set_bit(keep, i + 1, e - s)) {
      // A loop, not an if: with more parts than pages some parts are empty.
      while (static_cast<int>(bounds.size()) < parts && seen >= target) {
        bounds.push_back(s + i);
        target = total * bounds.size() / static_cast<uint64_t>(parts);
      }
      ++seen;
    }
  }
  while (static_cast<int>(bounds.size()) < parts) bounds.push_back(max_pfn);
  // Whole bitmap words: crash counts a split file's 2nd bitmap 64 bits at a
  // time from its start_pfn (makedumpfile's splitblocks are aligned too).
  for (auto& b : bounds) b = b / 64 * 64;
  bounds.push_back(max_pfn);
  return bounds;
}

}  // namespace vmc
