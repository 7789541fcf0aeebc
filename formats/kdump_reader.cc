// kdump-compressed reader (see kdump_reader.h for what it promises).
//
// Open reads the header block, the sub header and what it points to (notes,
// VMCOREINFO, erase info) through bounds checks, and scans the 1st bitmap into
// RAM ranges. Nothing else is read up front: the 2nd bitmap, the descriptors
// and page data are viewed as pfns are asked for, so memory stays bounded for
// a dump of any size.
#include "formats/kdump_reader.h"

#include <algorithm>
#include <atomic>
#include <bit>
#include <cstring>
#include <deque>
#include <mutex>
#include <optional>
#include <unordered_map>

#include "base/checked_reader.h"
#include "base/fixed_string.h"
#include "base/pfn_ranges.h"
#include "compress/codec.h"
#include "formats/elf_core_reader.h"
#include "formats/elf_notes.h"
#include "formats/kdump_format.h"

namespace vmc {
namespace {

using kdump::DiskDumpHeader;
using kdump::KdumpSubHeader;
using kdump::PageDescriptor;

constexpr uint64_t kGroupPfns = 32768;                  // pfns per prefix-count entry
constexpr uint64_t kScanBytes = uint64_t{1} << 20;      // bitmap bytes viewed at a time
constexpr uint64_t kMaxMetaBytes = uint64_t{64} << 20;  // notes, VMCOREINFO, erase info
constexpr uint64_t kMaxWindow = uint64_t{8} << 20;      // page data viewed at a time
constexpr uint64_t kMaxRamRanges = uint64_t{1} << 24;
constexpr size_t kPageCacheSize = 16;   // decoded pages kept for read_physical
constexpr char kDiskdumpSignature[8] = {'D', 'I', 'S', 'K', 'D', 'U', 'M', 'P'};

std::optional<compress::CodecKind> codec_of(uint32_t flag) {
  switch (flag) {
    case kdump::kCompressedZlib:
      return compress::CodecKind::kZlib;
    case kdump::kCompressedLzo:
      return compress::CodecKind::kLzo;
    case kdump::kCompressedSnappy:
      return compress::CodecKind::kSnappy;
    case kdump::kCompressedZstd:
      return compress::CodecKind::kZstd;
    default:
      return std::nullopt;
  }
}

bool bit_at(std::span<const std::byte> bytes, uint64_t i) {
  return (static_cast<uint8_t>(bytes[i / 8]) >> (i % 8)) & 1;
}

// Set bits among bits [first, end) of bytes (bit 0 = byte 0's LSB).
uint64_t popcount_bits(std::span<const std::byte> bytes, uint64_t first, uint64_t end) {
  uint64_t n = 0, p = first;
  for (; p < end && p % 64 != 0; ++p) n += bit_at(bytes, p);
  for (; p + 64 <= end; p += 64) {
    n += static_cast<uint64_t>(std::popcount(load<Le64>(bytes.data() + p / 8).get()));
  }
  for (; p < end; ++p) n += bit_at(bytes, p);
  return n;
}

// A codec borrowed from the pool for one decompression.
class CodecPool {
 public:
  std::unique_ptr<compress::Codec> take(compress::CodecKind kind) {
    {
      std::lock_guard lock(mu_);
      auto& free = free_[static_cast<size_t>(kind)];
      if (!free.empty()) {
        auto c = std::move(free.back());
        free.pop_back();
        return c;
      }
    }
    return compress::make_codec(kind);
  }
  void give_back(std::unique_ptr<compress::Codec> c) {
    if (!c) return;
    std::lock_guard lock(mu_);
    auto& free = free_[static_cast<size_t>(c->kind())];
    if (free.size() < 64) free.push_back(std::move(c));
  }

 private:
  std::mutex mu_;
  std::vector<std::unique_ptr<compress::Codec>> free_[5];
};

class KdumpReader final : public PhysicalMemory {
 public:
  KdumpReader(std::unique_ptr<io::InputFile> in, std::string format) : in_(std::move(in)) {
    md_.format = std::move(format);
  }

  Status open() {
    VMC_TRY(parse_header());
    if (kdump_) VMC_TRY(parse_sub_header());
    VMC_TRY(check_layout());
    VMC_TRY(scan_ram());
    auto r = rank(start_pfn_);
    if (!r) return std::move(r).error();
    start_rank_ = *r;
    return check_descriptor_count();
  }

  const DumpMetadata& metadata() const override { return md_; }
  const std::vector<PfnRange>& ram() const override { return ram_; }

  void available(uint64_t start, uint64_t end, std::span<uint64_t> bits) const override {
    uint64_t lo = std::max(start, start_pfn_), hi = std::min(end, end_pfn_);
    if (lo >= hi) return;
    auto bm = bitmap_view(bitmap2_, lo, hi);
    if (!bm) return;  // unknown which pages are there: claim none
    uint64_t first = lo / 8 * 8;
    auto bytes = bm->bytes();
    for (uint64_t p = lo; p < hi; ++p) {
      if (p % 64 == 0 && (p - start) % 64 == 0 && p + 64 <= hi) {  // a whole word at once
        uint64_t w = load<Le64>(bytes.data() + (p - first) / 8);
        bits[(p - start) / 64] |= w;
        p += 63;
        continue;
      }
      if (p % 8 == 0 && p + 8 <= hi && bytes[(p - first) / 8] == std::byte{0}) {
        p += 7;
        continue;
      }
      if (bit_at(bytes, p - first)) {
        bits[(p - start) / 64] |= uint64_t{1} << ((p - start) % 64);
      }
    }
    // Pages whose descriptor or data is missing (a cut or inconsistent dump)
    // stay available: pages() fails for them, so the engine reports them
    // unreadable and marks its output incomplete instead of dropping them as
    // if they had been excluded.
  }

  Result<io::ByteView> pages(uint64_t pfn, uint64_t count) override {
    if (count == 0) return io::ByteView();
    auto run = stored_run(pfn, count);
    if (!run) return std::move(run).error();
    if (auto v = raw_run(run->descs)) {
      pages_read_.fetch_add(count, std::memory_order_relaxed);
      return std::move(*v);
    }
    std::vector<std::byte> out(static_cast<size_t>(count * ps()));
    VMC_TRY(decode_all(run->descs, run->index, pfn, out));
    pages_read_.fetch_add(count, std::memory_order_relaxed);
    return io::ByteView::copy_of(std::move(out));
  }

  // Decodes straight into the caller's buffer, which the engine reuses
  // (pages() allocates one per call).
  Status copy_pages(uint64_t pfn, uint64_t count, std::span<std::byte> out) override {
    VMC_TRY(check_copy_size(count, out));
    if (count == 0) return {};
    auto run = stored_run(pfn, count);
    if (!run) return std::move(run).error();
    VMC_TRY(decode_all(run->descs, run->index, pfn, out));
    pages_read_.fetch_add(count, std::memory_order_relaxed);
    return {};
  }
  bool prefers_copy() const override { return in_->prefers_read(); }

  ReadCounters read_counters() const override {
    return {pages_read_.load(std::memory_order_relaxed),
            pages_decompressed_.load(std::memory_order_relaxed)};
  }

  Status read_physical(uint64_t paddr, std::span<std::byte> out) override {
    size_t done = 0;
    while (done < out.size()) {
      uint64_t addr = paddr + done, pfn = addr / ps(), off = addr % ps();
      size_t n = static_cast<size_t>(std::min<uint64_t>(out.size() - done, ps() - off));
      auto page = cached_page(pfn);
      if (!page)
        return std::move(page).error().add_context("reading physical address " + hex(addr));
      std::memcpy(out.data() + done, page->data() + off, n);
      done += n;
    }
    return {};
  }

 private:
  uint64_t ps() const { return md_.page_size; }
  const std::string& name() const { return in_->name(); }

  // ---- open ---------------------------------------------------------------

  Status parse_header() {
    auto head =
        read_checked(*in_, 0, sizeof(DiskDumpHeader), sizeof(DiskDumpHeader), "the kdump header");
    if (!head) return std::move(head).error();
    auto h = load<DiskDumpHeader>(head->data());
    kdump_ = std::memcmp(h.signature, kdump::kSignature, 8) == 0;
    if (!kdump_ && std::memcmp(h.signature, kDiskdumpSignature, 8) != 0) {
      return bad_input_at(name(), 0, "no kdump signature (\"KDUMP   \" or \"DISKDUMP\")");
    }
    version_ = h.header_version;
    if (kdump_ && version_ < 1) {
      return bad_input_at(name(), 8,
                          "kdump header version " + std::to_string(version_) +
                              " is not one makedumpfile writes (1 to 6)");
    }
    if (version_ > 6) {
      md_.warnings.push_back(name() + ": kdump header version " + std::to_string(version_) +
                             " is newer than 6; reading it as version 6");
    }
    int32_t bs = h.block_size;
    if (bs < 1024 || bs > (1 << 18) || (bs & (bs - 1)) != 0) {
      return bad_input_at(name(), offsetof(DiskDumpHeader, block_size),
                          "block size " + std::to_string(bs) + " is not a page size");
    }
    md_.page_size = static_cast<uint32_t>(bs);
    if (h.sub_hdr_size < 0) {
      return bad_input_at(name(), offsetof(DiskDumpHeader, sub_hdr_size),
                          "negative sub header size " + std::to_string(h.sub_hdr_size.get()));
    }
    if (h.bitmap_blocks % 2 != 0) {
      return bad_input_at(name(), offsetof(DiskDumpHeader, bitmap_blocks),
                          "odd bitmap block count " + std::to_string(h.bitmap_blocks.get()) +
                              " (two bitmaps of equal size expected)");
    }
    header_ = h;
    max_mapnr_ = h.max_mapnr;
    md_.utsname_release = nul_padded_string(h.utsname.release);
    md_.utsname_nodename = nul_padded_string(h.utsname.nodename);
    md_.utsname_version = nul_padded_string(h.utsname.version);
    md_.utsname_machine = nul_padded_string(h.utsname.machine);
    md_.timestamp_sec = h.timestamp_sec.get();
    if (h.nr_cpus > 0) md_.nr_cpus = h.nr_cpus;
    if (h.status & kdump::kIncomplete) {
      md_.incomplete = true;
      md_.warnings.push_back(name() +
                             " is marked incomplete: the tool that wrote it was cut "
                             "short, so some pages have no data");
    }
    return {};
  }

  Status parse_sub_header() {
    if (header_.sub_hdr_size == 0) {
      return bad_input_at(name(), offsetof(DiskDumpHeader, sub_hdr_size),
                          "a KDUMP file needs a sub header, but its size is 0 blocks");
    }
    auto bytes = read_checked(*in_, ps(), sizeof(KdumpSubHeader), sizeof(KdumpSubHeader),
                              "the kdump sub header");
    if (!bytes) return std::move(bytes).error();
    auto sub = load<KdumpSubHeader>(bytes->data());
    md_.phys_base = sub.phys_base.get();
    md_.dump_level = sub.dump_level.get();
    int v = version_;
    if (v >= 2 && sub.split != 0) {
      start_pfn_ = v >= 6 ? sub.start_pfn_64.get() : sub.start_pfn.get();
      split_end_ = v >= 6 ? sub.end_pfn_64.get() : sub.end_pfn.get();
    }
    if (v >= 6 && sub.max_mapnr_64 != 0) max_mapnr_ = sub.max_mapnr_64;
    if (v >= 4 && sub.size_note != 0) VMC_TRY(read_notes(sub));
    if (v >= 3 && sub.size_vmcoreinfo != 0) {
      auto text = read_blob(sub.offset_vmcoreinfo, sub.size_vmcoreinfo, "VMCOREINFO");
      if (!text) return std::move(text).error();
      std::string s(reinterpret_cast<const char*>(text->data()), text->size());
      while (!s.empty() && s.back() == '\0') s.pop_back();
      md_.vmcoreinfo = std::move(s);
    }
    if (v >= 5 && sub.size_eraseinfo != 0) {
      auto erase = read_blob(sub.offset_eraseinfo, sub.size_eraseinfo, "erase info");
      if (erase) {
        md_.eraseinfo = std::move(*erase);
      } else if (md_.incomplete) {
        md_.warnings.push_back(erase.error().describe());
      } else {
        return std::move(erase).error();
      }
    }
    return {};
  }

  Result<std::vector<std::byte>> read_blob(int64_t offset, uint64_t size, const std::string& what) {
    if (offset <= 0) {
      return bad_input_at(name(), ps(),
                          "the sub header puts " + what + " at offset " + std::to_string(offset));
    }
    return read_checked(*in_, static_cast<uint64_t>(offset), size, kMaxMetaBytes,
                        what + " (from the sub header)");
  }

  Status read_notes(const KdumpSubHeader& sub) {
    auto notes = read_blob(sub.offset_note, sub.size_note, "the ELF notes");
    if (!notes) return std::move(notes).error();
    auto parsed = parse_elf_notes(*notes, name(), static_cast<uint64_t>(sub.offset_note.get()));
    if (!parsed) return std::move(parsed).error().add_context("parsing the ELF notes");
    if (parsed->nr_prstatus > 0) md_.nr_cpus = parsed->nr_prstatus;
    md_.vmcoreinfo = std::move(parsed->vmcoreinfo);
    md_.notes = std::move(*notes);
    return {};
  }

  Status check_layout() {
    uint64_t half = uint64_t{header_.bitmap_blocks} * ps() / 2;
    bitmap1_ = (kdump::kHeaderBlocks + static_cast<uint64_t>(header_.sub_hdr_size.get())) * ps();
    bitmap2_ = bitmap1_ + half;
    desc_offset_ = bitmap2_ + half;
    if (max_mapnr_ > half * 8) {
      return bad_input_at(name(), offsetof(DiskDumpHeader, max_mapnr),
                          "max_mapnr " + hex(max_mapnr_) + " needs more than the " +
                              std::to_string(half) + " bytes of each bitmap");
    }
    if (!fits_within(bitmap1_, 2 * half, in_->size())) {
      return bad_input_at(name(), bitmap1_,
                          "the bitmaps (" + std::to_string(2 * half) +
                              " bytes) lie beyond the end of the file (" +
                              std::to_string(in_->size()) + " bytes; truncated?)");
    }
    end_pfn_ = split_end_ ? std::min(*split_end_, max_mapnr_) : max_mapnr_;
    if (start_pfn_ > end_pfn_) {
      return bad_input_at(name(), ps(),
                          "split range " + hex(start_pfn_) + "-" + hex(end_pfn_) + " is inverted");
    }
    return {};
  }

  Status scan_ram() {
    for (uint64_t lo = 0; lo < max_mapnr_; lo += kScanBytes * 8) {
      uint64_t hi = std::min(max_mapnr_, lo + kScanBytes * 8);
      auto bm = bitmap_view(bitmap1_, lo, hi);
      if (!bm) return std::move(bm).error().add_context("reading the 1st bitmap");
      auto bytes = bm->bytes();
      for (uint64_t p = lo; p < hi; ++p) {
        uint8_t b = static_cast<uint8_t>(bytes[(p - lo) / 8]);
        if (p % 8 == 0 && p + 8 <= hi && (b == 0 || b == 0xff)) {
          if (b) append_range(ram_, {p, p + 8});
          p += 7;
        } else if ((b >> (p % 8)) & 1) {
          append_range(ram_, {p, p + 1});
        }
      }
      if (ram_.size() > kMaxRamRanges) {
        return bad_input_at(name(), bitmap1_,
                            "the 1st bitmap has more than " + std::to_string(kMaxRamRanges) +
                                " separate RAM ranges (corrupt?)");
      }
    }
    for (const auto& r : ram_) md_.segments.push_back({r.start * ps(), 0, r.count() * ps()});
    return {};
  }

  // The 2nd bitmap says how many pages have a descriptor; the table ends
  // where page data begins, which the first descriptor names (makedumpfile
  // and our writer put the data right after the table). A bitmap claiming
  // more pages than that (damaged: all ones, say) maps pfns onto other
  // pages' descriptors, so no page can be trusted: every one is reported
  // unreadable rather than read wrong.
  Status check_descriptor_count() {
    auto end_rank = rank(end_pfn_);
    if (!end_rank) return std::move(end_rank).error();
    uint64_t dumped = *end_rank - start_rank_;
    auto table_end = checked_add(desc_offset_, dumped * sizeof(PageDescriptor));
    data_start_ = table_end.value_or(UINT64_MAX);
    if (dumped == 0 || !fits_within(desc_offset_, sizeof(PageDescriptor), in_->size())) return {};
    auto first = descriptors(0, 1, start_pfn_);
    if (!first || first->front().offset.get() <= 0) return {};  // unknown; each page reports itself
    uint64_t first_data = static_cast<uint64_t>(first->front().offset.get());
    uint64_t capacity = first_data < desc_offset_ ? 0 : (first_data - desc_offset_) / sizeof(PageDescriptor);
    if (dumped <= capacity) return {};
    inconsistent_ = bad_input_at(
        name(), bitmap2_,
        "the 2nd bitmap marks " + std::to_string(dumped) + " pages dumped, but the page descriptor table at " +
            hex(desc_offset_) + " holds at most " + std::to_string(capacity) + " before the page data at " +
            hex(first_data) + ": which page is which is unknown, so none is read");
    md_.warnings.push_back(inconsistent_->describe());
    return {};
  }

  // ---- bitmaps and descriptors ------------------------------------------

  // The bytes of a bitmap holding bits [lo, hi); byte 0 holds bit lo / 8 * 8.
  Result<io::ByteView> bitmap_view(uint64_t base, uint64_t lo, uint64_t hi) const {
    uint64_t first = lo / 8, last = (hi + 7) / 8;
    return bytes_at(base + first, last - first);
  }

  // Bytes of the file: mapped, or copied when the input reads cheaper than
  // it maps (a dump file: see io::InputFile::prefers_read). The engine reads
  // a few pages at a time, and a mapping per read costs more than the copy.
  Result<io::ByteView> bytes_at(uint64_t offset, uint64_t length) const {
    if (in_->prefers_read()) return in_->io::InputFile::view(offset, length);
    return in_->view(offset, length);
  }

  // Set bits of the 2nd bitmap in [0, pfn).
  Result<uint64_t> rank(uint64_t pfn) const {
    uint64_t g = pfn / kGroupPfns, base;
    {
      std::lock_guard lock(mu_);
      while (prefix_.size() <= g) {
        uint64_t from = (prefix_.size() - 1) * kGroupPfns;
        uint64_t to = std::min(g * kGroupPfns, from + kScanBytes * 8);
        auto bm = bitmap_view(bitmap2_, from, to);
        if (!bm) return std::move(bm).error().add_context("reading the 2nd bitmap");
        for (uint64_t s = from; s < to; s += kGroupPfns) {
          uint64_t n = popcount_bits(bm->bytes(), s - from, s - from + kGroupPfns);
          prefix_.push_back(prefix_.back() + n);
        }
      }
      base = prefix_[g];
    }
    if (pfn % kGroupPfns == 0) return base;
    auto bm = bitmap_view(bitmap2_, g * kGroupPfns, pfn);
    if (!bm) return std::move(bm).error().add_context("reading the 2nd bitmap");
    return base + popcount_bits(bm->bytes(), 0, pfn - g * kGroupPfns);
  }

  // The descriptors of count dumped pages from pfn, and the index of the first.
  struct StoredRun {
    uint64_t index;
    std::vector<PageDescriptor> descs;
  };
  Result<StoredRun> stored_run(uint64_t pfn, uint64_t count) const {
    VMC_TRY(check_dumped(pfn, count));
    if (inconsistent_) return Error(*inconsistent_).add_context("reading pfn " + hex(pfn));
    auto index = desc_index(pfn);
    if (!index) return std::move(index).error();
    auto descs = descriptors(*index, count, pfn);
    if (!descs) return std::move(descs).error();
    return StoredRun{*index, std::move(*descs)};
  }

  Result<uint64_t> desc_index(uint64_t pfn) const {
    auto r = rank(pfn);
    if (!r) return std::move(r).error();
    return *r - start_rank_;
  }

  Status check_dumped(uint64_t pfn, uint64_t count) const {
    if (pfn < start_pfn_ || pfn >= end_pfn_ || count > end_pfn_ - pfn) {
      return Error(ErrorKind::kBadInput,
                   name() + ": pfn " + hex(pfn < start_pfn_ || pfn >= end_pfn_ ? pfn : end_pfn_) +
                       " is outside the pfns " + hex(start_pfn_) + "-" + hex(end_pfn_) +
                       " this dump holds");
    }
    auto bm = bitmap_view(bitmap2_, pfn, pfn + count);
    if (!bm) return std::move(bm).error().add_context("reading the 2nd bitmap");
    uint64_t first = pfn / 8 * 8;
    for (uint64_t p = pfn; p < pfn + count; ++p) {
      if (!bit_at(bm->bytes(), p - first)) {
        return Error(
            ErrorKind::kBadInput,
            name() + ": pfn " + hex(p) + " is not in the dump (excluded when it was written)");
      }
    }
    return {};
  }

  Result<std::vector<PageDescriptor>> descriptors(uint64_t index, uint64_t count,
                                                  uint64_t pfn) const {
    uint64_t offset = desc_offset_ + index * sizeof(PageDescriptor);
    uint64_t len = count * sizeof(PageDescriptor);
    if (!fits_within(offset, len, in_->size())) {
      return bad_input_at(name(), offset,
                          "the page descriptors of pfn " + hex(pfn) +
                              " lie beyond the end of the file (truncated dump)");
    }
    auto v = bytes_at(offset, len);
    if (!v) return std::move(v).error().add_context("reading page descriptors of pfn " + hex(pfn));
    std::vector<PageDescriptor> out(static_cast<size_t>(count));
    std::memcpy(out.data(), v->data(), len);
    return out;
  }

  uint64_t desc_pos(uint64_t index) const { return desc_offset_ + index * sizeof(PageDescriptor); }

  Status validate(const PageDescriptor& d, uint64_t pfn, uint64_t index) const {
    auto bad = [&](const std::string& why) {
      return bad_input_at(name(), desc_pos(index),
                          "page descriptor of pfn " + hex(pfn) + ": " + why);
    };
    if (d.offset.get() <= 0) {
      return bad("no page data (offset " + std::to_string(d.offset.get()) +
                 "): the dump is incomplete");
    }
    uint32_t codec_bits = d.flags & kdump::kCompressionMask;
    if (codec_bits == 0 && d.size != ps()) {
      return bad("an uncompressed page of " + std::to_string(d.size.get()) + " bytes, not " +
                 std::to_string(ps()));
    }
    if (codec_bits != 0 && (d.size == 0 || d.size > 2 * ps() || !codec_of(codec_bits))) {
      return bad("compressed page of " + std::to_string(d.size.get()) + " bytes with flags " +
                 hex(d.flags));
    }
    if (static_cast<uint64_t>(d.offset.get()) < data_start_) {
      return bad("page data at offset " + hex(static_cast<uint64_t>(d.offset.get())) +
                 " lies inside the headers, bitmaps or descriptor table (which end at " + hex(data_start_) + ")");
    }
    if (!fits_within(static_cast<uint64_t>(d.offset.get()), d.size, in_->size())) {
      return bad("page data at offset " + hex(static_cast<uint64_t>(d.offset.get())) + " (" +
                 std::to_string(d.size.get()) +
                 " bytes) lies beyond the end of the file "
                 "(truncated dump)");
    }
    return {};
  }

  // ---- page data ------------------------------------------------------------

  // A zero-copy view when every page is stored raw, back to back.
  std::optional<io::ByteView> raw_run(const std::vector<PageDescriptor>& d) {
    int64_t start = d.front().offset;
    for (size_t k = 0; k < d.size(); ++k) {
      if (d[k].flags != 0 || d[k].size != ps() ||
          d[k].offset.get() != start + static_cast<int64_t>(k * ps())) {
        return std::nullopt;
      }
    }
    if (start <= 0 || static_cast<uint64_t>(start) < data_start_ ||
        !fits_within(static_cast<uint64_t>(start), d.size() * ps(), in_->size())) {
      return std::nullopt;  // decode_all() names the bad descriptor
    }
    auto v = in_->view(static_cast<uint64_t>(start), d.size() * ps());
    if (!v) return std::nullopt;  // decode_all() retries and reports with context
    return std::move(*v);
  }

  Status decode_all(const std::vector<PageDescriptor>& d, uint64_t index, uint64_t pfn,
                    std::span<std::byte> out) {
    std::unordered_map<int64_t, size_t> seen;  // data offset -> first page using it
    uint64_t decompressed = 0;
    io::ByteView win;
    uint64_t win_lo = 0, win_hi = 0;
    for (size_t k = 0; k < d.size(); ++k) {
      VMC_TRY(validate(d[k], pfn + k, index + k));
      auto dst = out.subspan(k * ps(), ps());
      if (auto it = seen.find(d[k].offset); it != seen.end() && d[it->second].size == d[k].size &&
                                            d[it->second].flags == d[k].flags) {
        std::memcpy(dst.data(), out.data() + it->second * ps(), ps());  // a shared (zero) page
        continue;
      }
      seen.emplace(d[k].offset, k);
      uint64_t lo = static_cast<uint64_t>(d[k].offset.get()), hi = lo + d[k].size;
      if (lo < win_lo || hi > win_hi) {
        win_hi = hi;
        for (size_t j = k + 1; j < d.size() && d[j].offset.get() == static_cast<int64_t>(win_hi) &&
                               win_hi - lo + d[j].size <= kMaxWindow;
             ++j) {
          win_hi += d[j].size;
        }
        win_hi = std::min(win_hi, in_->size());
        win_lo = lo;
        auto v = bytes_at(win_lo, win_hi - win_lo);
        if (!v) {
          return std::move(v).error().add_context("reading page data of pfn " + hex(pfn + k) +
                                                  " at file offset " + hex(lo));
        }
        win = std::move(*v);
      }
      VMC_TRY(decode(d[k], win.bytes().subspan(lo - win_lo, d[k].size), dst, pfn + k));
      if ((d[k].flags & kdump::kCompressionMask) != 0) ++decompressed;
    }
    pages_decompressed_.fetch_add(decompressed, std::memory_order_relaxed);
    return {};
  }

  Status decode(const PageDescriptor& d, std::span<const std::byte> src, std::span<std::byte> dst,
                uint64_t pfn) {
    uint32_t codec_bits = d.flags & kdump::kCompressionMask;
    if (codec_bits == 0) {
      std::memcpy(dst.data(), src.data(), dst.size());
      return {};
    }
    compress::CodecKind kind = *codec_of(codec_bits);
    auto codec = codecs_.take(kind);
    if (!codec) {
      return Error(ErrorKind::kUnsupported, name() + ": pfn " + hex(pfn) + " is compressed with " +
                                                std::string(compress::codec_name(kind)) +
                                                ", which this build does not include");
    }
    bool ok = codec->decompress(src, dst);
    codecs_.give_back(std::move(codec));
    if (!ok) {
      return bad_input_at(name(), static_cast<uint64_t>(d.offset.get()),
                          "corrupt " + std::string(compress::codec_name(kind)) + " data (" +
                              std::to_string(d.size.get()) + " bytes) for pfn " + hex(pfn));
    }
    return {};
  }

  Result<io::ByteView> cached_page(uint64_t pfn) {
    {
      std::lock_guard lock(mu_);
      for (const auto& [p, view] : cache_) {
        if (p == pfn) return view;
      }
    }
    auto v = pages(pfn, 1);
    if (!v) return std::move(v).error();
    std::lock_guard lock(mu_);
    cache_.emplace_back(pfn, *v);
    if (cache_.size() > kPageCacheSize) cache_.pop_front();
    return v;
  }

  std::unique_ptr<io::InputFile> in_;
  DumpMetadata md_;
  DiskDumpHeader header_{};
  bool kdump_ = true;
  int32_t version_ = 0;
  uint64_t max_mapnr_ = 0;
  uint64_t start_pfn_ = 0, end_pfn_ = 0, start_rank_ = 0;
  std::optional<uint64_t> split_end_;
  uint64_t bitmap1_ = 0, bitmap2_ = 0, desc_offset_ = 0;
  uint64_t data_start_ = 0;              // where the descriptor table ends
  std::optional<Error> inconsistent_;    // the 2nd bitmap disagrees with the descriptors
  std::vector<PfnRange> ram_;

  mutable std::mutex mu_;                    // guards prefix_ and cache_
  mutable std::vector<uint64_t> prefix_{0};  // prefix_[g]: 2nd-bitmap bits in [0, g * kGroupPfns)
  std::deque<std::pair<uint64_t, io::ByteView>> cache_;
  CodecPool codecs_;
  // read_counters(): relaxed atomics, added to once per pages() call.
  std::atomic<uint64_t> pages_read_{0}, pages_decompressed_{0};
};

}  // namespace

bool looks_like_kdump(std::span<const std::byte> head) {
  return head.size() >= 8 && (std::memcmp(head.data(), kdump::kSignature, 8) == 0 ||
                              std::memcmp(head.data(), kDiskdumpSignature, 8) == 0);
}

Result<std::unique_ptr<PhysicalMemory>> open_kdump(std::unique_ptr<io::InputFile> input,
                                                   std::string format_name) {
  auto reader = std::make_unique<KdumpReader>(std::move(input), std::move(format_name));
  if (auto s = reader->open(); !s) return std::move(s).error();
  return std::unique_ptr<PhysicalMemory>(std::move(reader));
}

}  // namespace vmc
