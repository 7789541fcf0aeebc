// Why it is shaped this way: the filter reads only mem_map (1.6 % of memory),
// so it runs twice (once to size the descriptor table, once per cycle to
// write) instead of keeping a terabyte-sized bitmap. Page data is read once:
// the zero check happens in the pass that compresses. Workers compress a
// chunk of pages into per-page slots; the writer then emits them in pfn order
// with one large write, so the output is the same at any thread count.
#include "collector/engine.h"

#include <algorithm>
#include <cstring>

#include "collector/bitmap.h"
#include "collector/parallel.h"
#include "formats/kdump_format.h"

namespace vmc {
namespace {

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
  for (const auto& r : memory.ram()) {
    uint64_t b = std::max(r.start, start), e = std::min(r.end, end);
    if (b < e) set_bit_range(bits, b - start, e - start);
  }
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

void add_unreadable(std::vector<PfnRange>& ranges, uint64_t pfn) {
  if (!ranges.empty() && ranges.back().end == pfn) {
    ranges.back().end = pfn + 1;
  } else {
    ranges.push_back({pfn, pfn + 1});
  }
}

// Compresses one chunk of pages and hands it to the writer.
class ChunkProcessor {
 public:
  ChunkProcessor(PhysicalMemory& memory, const CollectOptions& options, CollectReport& report)
      : memory_(memory), options_(options), report_(report), page_size_(memory.page_size()) {
    threads_ = std::max(1, options.threads);
    if (options.codec != compress::CodecKind::none) {
      for (int i = 0; i < threads_; ++i) codecs_.push_back(compress::make_codec(options.codec));
      slot_size_ = codecs_.front()->max_compressed_size(page_size_);
    }
    slots_.resize(static_cast<size_t>(options.chunk_pages) * slot_size_);
    sources_.resize(options.chunk_pages);
    results_.resize(options.chunk_pages);
  }

  // pfns: kept pages in increasing order (at most chunk_pages). Clears the keep
  // bit of pages that turn out zero (-d 1) or unreadable.
  Status process(std::span<const uint64_t> pfns, uint64_t cycle_start, std::vector<uint64_t>& keep,
                 DumpWriter& writer) {
    views_.clear();
    read_sources(pfns, cycle_start, keep);
    parallel_for(threads_, static_cast<int64_t>(pfns.size()),
                 [&](int64_t i, int tid) { compress_one(static_cast<size_t>(i), tid); });
    records_.clear();
    for (size_t i = 0; i < pfns.size(); ++i) {
      const Slot& r = results_[i];
      if (sources_[i] == nullptr) continue;  // unreadable
      // Zero pages go to the writer marked as such: kdump shares one stored
      // zero page (makedumpfile's -d 1), ELF leaves long runs of them out.
      if (r.zero && (options_.dump_level & kDumpLevelZero)) report_.excluded[ExcludeReason::kZero]++;
      std::span<const std::byte> data =
          r.size != 0 ? std::span<const std::byte>(slots_.data() + i * slot_size_, r.size)
                      : std::span<const std::byte>(sources_[i], page_size_);
      records_.push_back({pfns[i], data, r.size != 0 ? r.flag : 0u, r.zero});
    }
    report_.dumped_pages += records_.size();
    return writer.write_pages(records_);
  }

 private:
  struct Slot {
    uint32_t size = 0;  // compressed size; 0 = stored raw
    uint32_t flag = 0;
    bool zero = false;
  };

  // Maps runs of consecutive pfns; a run that fails is retried page by page so
  // one bad page does not cost its neighbours.
  void read_sources(std::span<const uint64_t> pfns, uint64_t cycle_start, std::vector<uint64_t>& keep) {
    size_t i = 0;
    while (i < pfns.size()) {
      size_t j = i + 1;
      while (j < pfns.size() && pfns[j] == pfns[j - 1] + 1) ++j;
      auto view = memory_.pages(pfns[i], j - i);
      if (view.ok()) {
        for (size_t k = i; k < j; ++k) sources_[k] = view->data() + (k - i) * page_size_;
        views_.push_back(std::move(view).value());
      } else {
        for (size_t k = i; k < j; ++k) read_single(pfns[k], k, cycle_start, keep);
      }
      i = j;
    }
  }

  void read_single(uint64_t pfn, size_t k, uint64_t cycle_start, std::vector<uint64_t>& keep) {
    auto view = memory_.pages(pfn, 1);
    if (view.ok()) {
      sources_[k] = view->data();
      views_.push_back(std::move(view).value());
      return;
    }
    sources_[k] = nullptr;
    clear_bit(keep, pfn - cycle_start);
    report_.excluded[ExcludeReason::kUnreadable]++;
    add_unreadable(report_.unreadable, pfn);
    if (report_.warnings.size() < 16) report_.warnings.push_back(view.error().describe());
  }

  void compress_one(size_t i, int tid) {
    Slot& r = results_[i];
    r = Slot{};
    const std::byte* src = sources_[i];
    if (src == nullptr) return;
    std::span<const std::byte> page(src, page_size_);
    r.zero = compress::is_zero_page(page);
    if (r.zero || codecs_.empty()) return;
    auto& codec = *codecs_[static_cast<size_t>(tid)];
    std::span<std::byte> dst(slots_.data() + i * slot_size_, slot_size_);
    size_t n = codec.compress(page, dst);
    if (n != 0 && n < page_size_) {
      r.size = static_cast<uint32_t>(n);
      r.flag = kdump_codec_flag(options_.codec);
    }
  }

  PhysicalMemory& memory_;
  const CollectOptions& options_;
  CollectReport& report_;
  uint32_t page_size_;
  int threads_;
  size_t slot_size_ = 0;
  std::vector<std::unique_ptr<compress::Codec>> codecs_;
  std::vector<std::byte> slots_;
  std::vector<const std::byte*> sources_;
  std::vector<Slot> results_;
  std::vector<io::ByteView> views_;
  std::vector<PageRecord> records_;
};

std::optional<Error> cancelled(const CollectOptions& options) {
  if (options.cancel == nullptr || options.cancel->load() == 0) return std::nullopt;
  return Error(ErrorKind::kInterrupted,
               "interrupted by signal " + std::to_string(options.cancel->load()));
}

}  // namespace

Result<CollectReport> collect(PhysicalMemory& memory, const PageFilter* filter,
                              const WriterFactory& make_writer, const CollectOptions& options) {
  CollectReport report;
  report.max_pfn = memory.max_pfn();
  for (const auto& r : memory.ram()) report.ram_pages += r.count();
  report.memory_hole = report.max_pfn - report.ram_pages;
  if (filter) report.warnings = filter->warnings();

  const uint64_t cycle = std::max<uint64_t>(64, options.cycle_pfns / 64 * 64);
  std::vector<uint64_t> keep, ram;

  // Pass 1 (mem_map only): how many pages and runs of pages to write.
  DumpPlan plan;
  {
    FilterStats discard;
    bool previous_kept = false;
    for (uint64_t s = 0; s < report.max_pfn; s += cycle) {
      uint64_t e = std::min(report.max_pfn, s + cycle);
      candidate_pages(memory, filter, options.threads, s, e, keep, discard);
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

  for (uint64_t start = 0; start < report.max_pfn; start += cycle) {
    uint64_t end = std::min(report.max_pfn, start + cycle);
    candidate_pages(memory, filter, options.threads, start, end, keep, report.excluded);
    ram_bits(memory, start, end, ram);
    for (uint64_t i = next_set_bit(keep, 0, end - start); i < end - start;) {
      if (auto e = cancelled(options)) {
        (void)writer.end_cycle(start, end, ram, keep);
        return stop(std::move(*e));
      }
      pfns.clear();
      for (; i < end - start && pfns.size() < options.chunk_pages; i = next_set_bit(keep, i + 1, end - start)) {
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
    if (auto s = writer.end_cycle(start, end, ram, keep); !s.ok()) return stop(std::move(s).error());
  }
  report.data_bytes = writer.data_bytes();
  bool incomplete = !report.unreadable.empty();
  report.incomplete = incomplete;
  if (auto s = writer.finish(incomplete); !s.ok()) return stop(std::move(s).error());
  return report;
}

}  // namespace vmc
