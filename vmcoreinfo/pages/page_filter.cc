// Why the filter reads and walks the way it does: mem_map is 1.6 % of memory
// and contiguous within a section, so each call reads its slice of a section
// in as few physical runs as the vmemmap mapping allows and never touches page
// data. Blocks (free buddy blocks, compound pages) are aligned to their size,
// so they nest and never straddle one another; a block that began before a
// range is found by looking at the aligned heads up to the largest order. The
// pages left out are therefore the same however the engine cuts the pfn space
// into ranges, and each page is counted once, under its outermost block.
#include <algorithm>
#include <bit>
#include <cstring>
#include <memory>
#include <span>

#include "base/scratch_buffer.h"
#include "vmcoreinfo/arch/address_space.h"
#include "vmcoreinfo/pages/mem_map.h"
#include "vmcoreinfo/pages/page_classify.h"
#include "vmcoreinfo/pages/page_decode.h"
#include "vmcoreinfo/pages/page_filter.h"

namespace vmc {
namespace {

class MemMapFilter final : public PageFilter {
 public:
  MemMapFilter(PhysicalMemory& memory, std::unique_ptr<KernelAddressSpace> kernel, KernelMemoryModel model,
               PageLayout layout, std::vector<std::string> warnings)
      : memory_(memory),
        kernel_(std::move(kernel)),
        model_(std::move(model)),
        layout_(std::move(layout)),
        warnings_(std::move(warnings)),
        size_(layout_.size) {
    for (const auto& r : memory_.ram()) {
      if (!ram_.empty() && r.start <= ram_.back().end) {
        ram_.back().end = std::max(ram_.back().end, r.end);
      } else {
        ram_.push_back(r);
      }
    }
    max_block_order_ = std::max<unsigned>(kMaxCompoundOrder, layout_.free_orders ? layout_.free_orders - 1 : 0);
  }

  const std::vector<std::string>& warnings() const override { return warnings_; }

  void filter(uint64_t start, uint64_t end, std::span<uint64_t> keep, FilterStats& stats) const override {
    if (start >= end) return;
    Excluder out{start, end, keep, stats};
    uint64_t pfn = start;
    if (auto b = block_covering(start)) {
      out.exclude(start, b->end, b->reason);
      pfn = b->end;
    }
    auto ri = std::upper_bound(ram_.begin(), ram_.end(), pfn,
                               [](uint64_t p, const PfnRange& r) { return p < r.end; });
    Buffers& buf = buffers();
    // Struct pages are read a window at a time: small after a block was
    // skipped (a free 4 MiB block needs only its head's struct page, not the
    // 64 KiB of mem_map behind it), doubling while pages are judged one by one.
    uint64_t window = kMinReadPfns;
    while (pfn < end && ri != ram_.end()) {
      if (pfn >= ri->end) {
        ++ri;
        continue;
      }
      pfn = std::max(pfn, ri->start);
      if (pfn >= end) break;
      auto run = model_.locate(pfn);
      if (!run) {  // no struct pages here: keep up to the next section
        uint64_t pps = model_.pfns_per_section();
        pfn = std::min(ri->end, (pfn / pps + 1) * pps);
        continue;
      }
      uint64_t chunk_end = std::min({end, ri->end, pfn + run->pfns, pfn + window});
      uint64_t n = chunk_end - pfn;
      // One more struct page: the first tail of a head at the chunk's end.
      uint64_t extra = run->pfns > n ? 1 : 0;
      read_struct_pages(run->vaddr, n + extra, buf);
      uint64_t next = scan(pfn, chunk_end, n + extra, run->vaddr, buf, out);
      window = next > chunk_end ? kMinReadPfns : std::min(2 * window, kMaxReadPfns);
      pfn = next;
    }
  }

 private:
  static constexpr uint64_t kMinReadPfns = 64;       // one 4 KiB page of 64-byte struct pages
  static constexpr uint64_t kMaxReadPfns = 1u << 15;  // a 128 MiB section's

  struct Buffers {
    // Allocated once for the largest window, and never zero-filled: what it
    // holds is read over (the window shrinks and grows again after every
    // long free block). Pages the windows never reach are never touched.
    io::ScratchBuffer storage;  // huge-page backed where the kernel allows
    std::span<std::byte> bytes;  // the window's struct pages
    std::vector<uint8_t> ok;     // per struct page: read successfully
    void resize(size_t n, size_t largest) {
      if (n > storage.size()) storage = io::ScratchBuffer(std::max(n, largest));
      bytes = {storage.data(), n};
    }
  };
  static Buffers& buffers() {
    thread_local Buffers b;
    return b;
  }

  struct Block {
    uint64_t end;
    ExcludeReason reason;
    unsigned order;
  };

  // Clears keep bits of [from, to) ∩ [start, end) and counts the ones that were set.
  struct Excluder {
    uint64_t start, end;
    std::span<uint64_t> keep;
    FilterStats& stats;
    void exclude(uint64_t from, uint64_t to, ExcludeReason reason) {
      from = std::max(from, start);
      to = std::min(to, end);
      uint64_t counted = 0;
      while (from < to) {
        uint64_t bit = from - start, word = bit / 64, shift = bit % 64;
        uint64_t n = std::min<uint64_t>(64 - shift, to - from);
        uint64_t mask = (n == 64 ? ~uint64_t{0} : ((uint64_t{1} << n) - 1)) << shift;
        counted += static_cast<uint64_t>(std::popcount(keep[word] & mask));
        keep[word] &= ~mask;
        from += n;
      }
      stats[reason] += counted;
    }
  };

  // Judges [pfn, chunk_end) from the struct pages in buf (count of them, the
  // last possibly the one after chunk_end). Returns where the scan stopped:
  // chunk_end, or past it when a block extends further.
  uint64_t scan(uint64_t pfn, uint64_t chunk_end, uint64_t count, uint64_t vaddr, const Buffers& buf,
                Excluder& out) const {
    uint64_t p = pfn;
    while (p < chunk_end) {
      uint64_t i = p - pfn;
      if (!buf.ok[i]) {
        ++p;
        continue;
      }
      std::span<const std::byte> next;
      if (i + 1 < count && buf.ok[i + 1]) next = buf.bytes.subspan((i + 1) * size_, size_);
      Verdict v = judge(p, buf.bytes.subspan(i * size_, size_), next, vaddr + i * size_);
      if (!v.reason) {
        ++p;
        continue;
      }
      uint64_t to = p + (uint64_t{1} << v.order);
      out.exclude(p, to, *v.reason);
      p = to;
    }
    return p;
  }

  Verdict judge(uint64_t pfn, std::span<const std::byte> page, std::span<const std::byte> next,
                uint64_t vaddr) const {
    PageInfo info = decode(layout_, {page, next, vaddr, pfn});
    Verdict v = classify(info, layout_.usable_level);
    if (!v.reason || v.order == 0 || block_in_ram(pfn, v.order)) return v;
    // A block reaching past the dump's RAM is not what the kernel builds:
    // a free block is then not trusted at all, a compound head alone.
    info.buddy = info.unaccepted = false;
    info.compound_order = 0;
    return classify(info, layout_.usable_level);
  }

  const PfnRange* ram_range(uint64_t pfn) const {
    auto it = std::upper_bound(ram_.begin(), ram_.end(), pfn,
                               [](uint64_t p, const PfnRange& r) { return p < r.end; });
    return it != ram_.end() && pfn >= it->start ? &*it : nullptr;
  }

  bool block_in_ram(uint64_t pfn, unsigned order) const {
    const PfnRange* r = ram_range(pfn);
    return r != nullptr && (uint64_t{1} << order) <= r->end - pfn;
  }

  // The outermost excluded block that begins before pfn and covers it. Heads
  // are aligned to their block size, so the candidates are pfn rounded down
  // to each order.
  std::optional<Block> block_covering(uint64_t pfn) const {
    std::optional<Block> best;
    uint64_t prev = pfn;
    std::byte two[2 * 4096];
    if (2 * size_ > sizeof two) return best;
    for (unsigned k = 1; k <= max_block_order_ && k < 64; ++k) {
      uint64_t head = pfn & ~((uint64_t{1} << k) - 1);
      if (head == prev) continue;
      prev = head;
      if (!ram_range(head)) continue;
      auto run = model_.locate(head);
      if (!run) continue;
      uint64_t count = run->pfns >= 2 ? 2 : 1;
      std::span<std::byte> bytes(two, count * size_);
      if (!kernel_->read_virtual(run->vaddr, bytes)) {
        if (count == 1 || !kernel_->read_virtual(run->vaddr, bytes.first(size_))) continue;
        count = 1;
      }
      std::span<const std::byte> next;
      if (count == 2) next = std::span<const std::byte>(two + size_, size_);
      Verdict v = judge(head, std::span<const std::byte>(two, size_), next, run->vaddr);
      uint64_t block_end = head + (uint64_t{1} << v.order);
      if (v.reason && block_end > pfn && (!best || v.order > best->order)) best = Block{block_end, *v.reason, v.order};
    }
    return best;
  }

  // Reads `count` consecutive struct pages at vaddr into buf, marking each
  // one readable or not; physically contiguous runs are read at once.
  void read_struct_pages(uint64_t vaddr, uint64_t count, Buffers& buf) const {
    uint64_t bytes = count * size_;
    buf.resize(bytes, (kMaxReadPfns + 1) * size_);
    buf.ok.assign(count, 1);
    uint64_t off = 0;
    while (off < bytes) {
      auto t = kernel_->translate(vaddr + off);
      if (!t) {
        uint64_t len = std::min(bytes - off, 4096 - ((vaddr + off) & 4095));
        mark_bad(off, len, buf);
        off += len;
        continue;
      }
      uint64_t len = std::min(bytes - off, t->contiguous);
      if (!memory_.read_physical(t->paddr, buf.bytes.subspan(off, len))) {
        // Isolate the bad pages of the run.
        for (uint64_t o = 0; o < len;) {
          uint64_t l = std::min(len - o, 4096 - ((t->paddr + o) & 4095));
          if (!memory_.read_physical(t->paddr + o, buf.bytes.subspan(off + o, l))) {
            mark_bad(off + o, l, buf);
          }
          o += l;
        }
      }
      off += len;
    }
  }

  void mark_bad(uint64_t off, uint64_t len, Buffers& buf) const {
    for (uint64_t i = off / size_; i <= (off + len - 1) / size_ && i < buf.ok.size(); ++i) buf.ok[i] = 0;
  }

  PhysicalMemory& memory_;
  std::unique_ptr<KernelAddressSpace> kernel_;
  KernelMemoryModel model_;
  PageLayout layout_;
  std::vector<std::string> warnings_;
  uint64_t size_;
  std::vector<PfnRange> ram_;
  unsigned max_block_order_ = kMaxCompoundOrder;
};

}  // namespace

Result<std::unique_ptr<PageFilter>> make_page_filter(PhysicalMemory& memory, const VmcoreInfo& info,
                                                     int dump_level) {
  std::vector<std::string> warnings;
  auto layout = make_page_layout(info, dump_level, warnings);
  if (!layout) return std::move(layout).error().add_context("setting up page filtering");
  auto kernel = make_address_space(memory, info);
  if (!kernel) return std::move(kernel).error().add_context("setting up page filtering");
  auto model = KernelMemoryModel::load(**kernel, info, warnings);
  if (!model) return std::move(model).error().add_context("locating mem_map");
  return std::unique_ptr<PageFilter>(std::make_unique<MemMapFilter>(memory, std::move(*kernel), std::move(*model),
                                                                    std::move(*layout), std::move(warnings)));
}

}  // namespace vmc
