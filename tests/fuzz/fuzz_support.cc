// Memory images, a direct-map address space and a sink output for the fuzz
// targets (see fuzz_support.h).
#include "tests/fuzz/fuzz_support.h"

#include <algorithm>
#include <cstring>

#include "base/bitmap.h"

namespace vmc::fuzz {
namespace {

template <typename T>
void put(std::vector<std::byte>& out, T v) {
  for (size_t i = 0; i < sizeof(T); ++i) out.push_back(static_cast<std::byte>(v >> (8 * i)));
}

class Cursor {
 public:
  explicit Cursor(std::span<const uint8_t> d) : d_(d) {}
  bool take(size_t n, std::span<const uint8_t>& out) {
    if (d_.size() - pos_ < n) return false;
    out = d_.subspan(pos_, n);
    pos_ += n;
    return true;
  }
  template <typename T>
  bool get(T& v) {
    std::span<const uint8_t> b;
    if (!take(sizeof(T), b)) return false;
    v = 0;
    for (size_t i = 0; i < sizeof(T); ++i) v |= static_cast<T>(static_cast<T>(b[i]) << (8 * i));
    return true;
  }
  std::span<const uint8_t> rest() { return d_.subspan(std::exchange(pos_, d_.size())); }

 private:
  std::span<const uint8_t> d_;
  size_t pos_ = 0;
};

class ImageMemory final : public PhysicalMemory {
 public:
  explicit ImageMemory(DumpMetadata md, std::map<uint64_t, std::vector<std::byte>> pages)
      : md_(std::move(md)), pages_(std::move(pages)) {
    for (const auto& s : md_.segments) {
      uint64_t b = std::min(s.paddr / kImagePage, kImageMaxPfn);
      uint64_t e = std::min((s.paddr + std::min(s.size, kImageMaxPfn * kImagePage)) / kImagePage,
                            kImageMaxPfn);
      if (b < e) ram_.push_back({b, e});
    }
    std::sort(ram_.begin(), ram_.end(), [](auto& a, auto& b) { return a.start < b.start; });
    std::vector<PfnRange> merged;
    for (const auto& r : ram_) {
      if (!merged.empty() && r.start <= merged.back().end) {
        merged.back().end = std::max(merged.back().end, r.end);
      } else {
        merged.push_back(r);
      }
    }
    ram_ = std::move(merged);
  }
  const DumpMetadata& metadata() const override { return md_; }
  const std::vector<PfnRange>& ram() const override { return ram_; }
  void available(uint64_t start, uint64_t end, std::span<uint64_t> bits) const override {
    for (const auto& r : ram_) {
      uint64_t b = std::max(r.start, start), e = std::min(r.end, end);
      for (uint64_t p = b; p < e; ++p) bits[(p - start) / 64] |= uint64_t{1} << ((p - start) % 64);
    }
  }
  Result<io::ByteView> pages(uint64_t pfn, uint64_t count) override {
    if (count > 4096) return Error(ErrorKind::kInvalidArgument, "too many pages");
    std::vector<std::byte> out(count * kImagePage);
    VMC_TRY(read_physical(pfn * kImagePage, out));
    return io::ByteView::copy_of(std::move(out));
  }
  Status read_physical(uint64_t paddr, std::span<std::byte> out) override {
    size_t done = 0;
    while (done < out.size()) {
      uint64_t a = paddr + done;
      if (a < paddr) return Error(ErrorKind::kBadInput, "address wraps");
      uint64_t pfn = a / kImagePage, off = a % kImagePage;
      if (!in_ram(pfn)) return Error(ErrorKind::kBadInput, "pfn " + hex(pfn) + " is not RAM");
      size_t n = std::min<size_t>(out.size() - done, kImagePage - off);
      auto it = pages_.find(pfn);
      if (it == pages_.end()) {
        std::memset(out.data() + done, 0, n);
      } else {
        std::memcpy(out.data() + done, it->second.data() + off, n);
      }
      done += n;
    }
    return {};
  }

 private:
  bool in_ram(uint64_t pfn) const {
    for (const auto& r : ram_) {
      if (pfn >= r.start && pfn < r.end) return true;
    }
    return false;
  }
  DumpMetadata md_;
  std::map<uint64_t, std::vector<std::byte>> pages_;
  std::vector<PfnRange> ram_;
};

class DirectMap final : public KernelAddressSpace {
 public:
  DirectMap(PhysicalMemory& memory, uint64_t offset) : KernelAddressSpace(memory), offset_(offset) {}
  Result<uint64_t> virt_to_phys(uint64_t vaddr) const override {
    if (vaddr < offset_) return Error(ErrorKind::kBadInput, "not in the direct map: " + hex(vaddr));
    return vaddr - offset_;
  }

 private:
  uint64_t offset_;
};

}  // namespace

std::vector<std::byte> encode_image(const MemoryImage& image) {
  std::vector<std::byte> out;
  put<uint16_t>(out, static_cast<uint16_t>(std::min<size_t>(image.vmcoreinfo.size(), 0xffff)));
  for (size_t i = 0; i < std::min<size_t>(image.vmcoreinfo.size(), 0xffff); ++i) {
    out.push_back(static_cast<std::byte>(image.vmcoreinfo[i]));
  }
  put<uint8_t>(out, static_cast<uint8_t>(std::min<size_t>(image.segments.size(), 255)));
  for (size_t i = 0; i < std::min<size_t>(image.segments.size(), 255); ++i) {
    put<uint64_t>(out, image.segments[i].paddr);
    put<uint64_t>(out, image.segments[i].vaddr);
    put<uint64_t>(out, image.segments[i].size);
  }
  for (const auto& [pfn, bytes] : image.pages) {
    put<uint32_t>(out, static_cast<uint32_t>(pfn));
    out.insert(out.end(), bytes.begin(), bytes.end());
    out.resize(out.size() + (kImagePage - bytes.size()));
  }
  return out;
}

std::unique_ptr<PhysicalMemory> decode_image(std::span<const uint8_t> data) {
  Cursor c(data);
  uint16_t text_len = 0;
  std::span<const uint8_t> text;
  uint8_t nseg = 0;
  if (!c.get(text_len) || !c.take(text_len, text) || !c.get(nseg)) return nullptr;
  DumpMetadata md;
  md.format = "image";
  md.vmcoreinfo.assign(reinterpret_cast<const char*>(text.data()), text.size());
  for (uint8_t i = 0; i < nseg; ++i) {
    MemorySegment s{};
    if (!c.get(s.paddr) || !c.get(s.vaddr) || !c.get(s.size)) return nullptr;
    md.segments.push_back(s);
  }
  std::map<uint64_t, std::vector<std::byte>> pages;
  for (;;) {
    uint32_t pfn = 0;
    if (!c.get(pfn)) break;
    auto rest = c.rest();
    size_t n = std::min<size_t>(rest.size(), kImagePage);
    std::vector<std::byte> page(kImagePage);
    std::memcpy(page.data(), rest.data(), n);
    pages[pfn % kImageMaxPfn] = std::move(page);
    c = Cursor(rest.subspan(n));
  }
  return std::make_unique<ImageMemory>(std::move(md), std::move(pages));
}

std::unique_ptr<KernelAddressSpace> direct_map_space(PhysicalMemory& memory) {
  uint64_t offset = 0xffff888000000000ULL;
  for (const auto& s : memory.metadata().segments) {
    if (s.vaddr != 0 && s.vaddr >= s.paddr) {
      offset = s.vaddr - s.paddr;
      break;
    }
  }
  return std::make_unique<DirectMap>(memory, offset);
}

int fuzz_log_decoder(std::span<const uint8_t> data, LogDecoder decode) {
  auto memory = decode_image(data);
  if (!memory) return 0;
  auto info = VmcoreInfo::parse(memory->metadata().vmcoreinfo);
  if (!info.ok()) return 0;
  auto kernel = direct_map_space(*memory);
  // Both styles, the whole log and the part after the last `dmesg -c`.
  for (DmesgOptions options : {DmesgOptions{}, DmesgOptions{DmesgStyle::kMakedumpfile, true}}) {
    auto log = decode(*kernel, *info, options);
    if (log.ok()) (void)log->text.size();
  }
  return 0;
}

void exercise_memory(PhysicalMemory& memory, uint64_t max_pages) {
  const uint32_t page = memory.page_size();
  if (page == 0 || page > (1u << 20)) return;
  uint64_t budget = max_pages;
  for (const auto& r : memory.ram()) {
    if (budget == 0) break;
    uint64_t n = std::min<uint64_t>(r.count(), std::min<uint64_t>(budget, 256));
    std::vector<uint64_t> bits(words_for(n), 0);
    memory.available(r.start, r.start + n, bits);
    uint64_t run = 0;
    for (uint64_t i = 0; i <= n; ++i) {
      bool avail = i < n && test_bit(bits, i);
      if (avail) {
        ++run;
        continue;
      }
      if (run != 0) {
        uint64_t first = r.start + i - run;
        if (auto v = memory.pages(first, run); v.ok()) {
          volatile uint8_t sink = 0;
          for (size_t k = 0; k < v->size(); k += 512) sink = sink + static_cast<uint8_t>(v->data()[k]);
          if (v->size() != 0) sink = sink + static_cast<uint8_t>(v->data()[v->size() - 1]);
        } else {
          for (uint64_t p = first; p < first + run; ++p) (void)memory.pages(p, 1);
        }
        run = 0;
      }
    }
    budget -= n;
    std::byte small[40];
    (void)memory.read_physical(r.start * page + page - 20, small);  // crosses a page
    (void)memory.read_physical((r.end - 1) * page + page - 8, std::span(small, 16));  // past the end
  }
}

Status SinkOutput::write_at(uint64_t offset, std::span<const std::byte> data) {
  for (std::byte b : data) checksum_ = checksum_ * 31 + static_cast<uint8_t>(b);
  end_ = std::max(end_, offset + data.size());
  return {};
}

}  // namespace vmc::fuzz
