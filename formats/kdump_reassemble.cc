// --reassemble (see kdump_reassemble.h). Two passes over the set: the first parses
// and cross-checks every file (headers, bitmaps, descriptors) without writing;
// the second copies. Memory stays bounded: bitmaps, descriptors and page data
// go through fixed-size buffers.
#include "formats/kdump_reassemble.h"

#include <algorithm>
#include <bit>
#include <cstring>

#include "base/checked_reader.h"
#include "formats/kdump_format.h"

namespace vmc {
namespace {

using kdump::DiskDumpHeader;
using kdump::KdumpSubHeader;
using kdump::PageDescriptor;

constexpr uint64_t kChunk = uint64_t{8} << 20;  // bytes compared or copied at a time
constexpr uint64_t kDescBatch = 65536;          // descriptors at a time

struct Part {
  std::unique_ptr<io::InputFile> in;
  DiskDumpHeader header{};
  KdumpSubHeader sub{};
  uint64_t block = 0, max_mapnr = 0, start = 0, end = 0;
  uint64_t bitmap1 = 0, half = 0, desc_offset = 0;
  uint64_t pages = 0;            // 2nd-bitmap bits in [start, end): this file's descriptors
  uint64_t data_lo = 0, data_hi = 0;  // the page data its descriptors point into

  const std::string& name() const { return in->name(); }
  uint64_t desc_end() const { return desc_offset + pages * sizeof(PageDescriptor); }
};

Error bad(const Part& p, uint64_t offset, std::string what) {
  return bad_input_at(p.name(), offset, std::move(what));
}

uint64_t count_bits(std::span<const std::byte> bytes, uint64_t first, uint64_t end) {
  uint64_t n = 0;
  for (uint64_t i = first; i < end; ++i) n += (static_cast<uint8_t>(bytes[i / 8]) >> (i % 8)) & 1;
  return n;
}

// Set bits of the 2nd bitmap in [start, end).
Result<uint64_t> dumped_in_range(Part& p) {
  uint64_t n = 0;
  for (uint64_t lo = p.start; lo < p.end; lo += kChunk * 8) {
    uint64_t hi = std::min(p.end, lo + kChunk * 8);
    uint64_t first = lo / 8;
    auto v = p.in->view(p.bitmap1 + p.half + first, (hi + 7) / 8 - first);
    if (!v) return std::move(v).error().add_context("reading the 2nd bitmap");
    n += count_bits(v->bytes(), lo - first * 8, hi - first * 8);
  }
  return n;
}

Status parse_headers(Part& p) {
  auto head = read_checked(*p.in, 0, sizeof(DiskDumpHeader), sizeof(DiskDumpHeader), "the kdump header");
  if (!head) return std::move(head).error();
  p.header = load<DiskDumpHeader>(head->data());
  if (std::memcmp(p.header.signature, kdump::kSignature, 8) != 0) {
    return bad(p, 0, "not a kdump-compressed file (no \"KDUMP   \" signature)");
  }
  int32_t bs = p.header.block_size;
  if (p.header.header_version < 2 || bs < 1024 || bs > (1 << 18) || (bs & (bs - 1)) != 0 ||
      p.header.sub_hdr_size <= 0 || p.header.bitmap_blocks % 2 != 0) {
    return bad(p, 0, "a kdump header makedumpfile --split does not write (version " +
                         std::to_string(p.header.header_version.get()) + ", block size " +
                         std::to_string(bs) + ")");
  }
  if (p.header.status & kdump::kIncomplete) {
    return bad(p, offsetof(DiskDumpHeader, status),
               "the file is marked incomplete: the run that wrote it was cut short");
  }
  p.block = static_cast<uint64_t>(bs);
  auto sub = read_checked(*p.in, p.block, sizeof(KdumpSubHeader), sizeof(KdumpSubHeader), "the kdump sub header");
  if (!sub) return std::move(sub).error();
  p.sub = load<KdumpSubHeader>(sub->data());
  if (p.sub.split == 0) return bad(p, p.block, "not a file of a --split set (split flag 0)");
  bool v6 = p.header.header_version >= 6;
  p.max_mapnr = v6 && p.sub.max_mapnr_64 != 0 ? p.sub.max_mapnr_64.get() : p.header.max_mapnr.get();
  p.start = v6 ? p.sub.start_pfn_64.get() : p.sub.start_pfn.get();
  p.end = v6 ? p.sub.end_pfn_64.get() : p.sub.end_pfn.get();
  p.half = uint64_t{p.header.bitmap_blocks} * p.block / 2;
  p.bitmap1 = (1 + static_cast<uint64_t>(p.header.sub_hdr_size.get())) * p.block;
  p.desc_offset = p.bitmap1 + 2 * p.half;
  if (p.max_mapnr > p.half * 8 || p.start > p.end || p.end > p.max_mapnr) {
    return bad(p, p.block, "split range " + hex(p.start) + "-" + hex(p.end) + " does not fit max_mapnr " +
                               hex(p.max_mapnr) + " and the bitmaps");
  }
  if (!fits_within(p.bitmap1, 2 * p.half, p.in->size())) {
    return bad(p, p.bitmap1, "the bitmaps lie beyond the end of the file (truncated?)");
  }
  auto pages = dumped_in_range(p);
  if (!pages) return std::move(pages).error().add_context(p.name());
  p.pages = *pages;
  return {};
}

// Every descriptor points at page data inside the file, after the table.
Status scan_descriptors(Part& p) {
  if (!fits_within(p.desc_offset, p.pages * sizeof(PageDescriptor), p.in->size())) {
    return bad(p, p.desc_offset, "the " + std::to_string(p.pages) +
                                     " page descriptors of pfns " + hex(p.start) + "-" + hex(p.end) +
                                     " lie beyond the end of the file (truncated)");
  }
  p.data_lo = UINT64_MAX;
  p.data_hi = 0;
  std::vector<PageDescriptor> d;
  for (uint64_t i = 0; i < p.pages; i += kDescBatch) {
    uint64_t n = std::min(kDescBatch, p.pages - i);
    d.resize(static_cast<size_t>(n));
    uint64_t at = p.desc_offset + i * sizeof(PageDescriptor);
    VMC_TRY_CTX(p.in->read_at(at, std::as_writable_bytes(std::span(d))), "reading page descriptors of " + p.name());
    for (uint64_t k = 0; k < n; ++k) {
      int64_t off = d[k].offset;
      uint32_t size = d[k].size;
      bool raw = (d[k].flags & kdump::kCompressionMask) == 0;
      if (off <= 0 || static_cast<uint64_t>(off) < p.desc_end() || size == 0 || size > 2 * p.block ||
          (raw && size != p.block) || !fits_within(static_cast<uint64_t>(off), size, p.in->size())) {
        return bad(p, at + k * sizeof(PageDescriptor),
                   "page descriptor " + std::to_string(i + k) + " (offset " + std::to_string(off) + ", " +
                       std::to_string(size) + " bytes) points outside the page data of the file" +
                       (off > 0 && static_cast<uint64_t>(off) + size > p.in->size() ? " (truncated)" : ""));
      }
      p.data_lo = std::min(p.data_lo, static_cast<uint64_t>(off));
      p.data_hi = std::max(p.data_hi, static_cast<uint64_t>(off) + size);
    }
  }
  if (p.pages == 0) p.data_lo = p.data_hi = 0;
  return {};
}

bool same_dump(const Part& a, const Part& b) {
  const DiskDumpHeader &x = a.header, &y = b.header;
  return x.header_version == y.header_version && x.block_size == y.block_size &&
         x.sub_hdr_size == y.sub_hdr_size && x.bitmap_blocks == y.bitmap_blocks &&
         a.max_mapnr == b.max_mapnr && a.sub.dump_level == b.sub.dump_level &&
         a.sub.phys_base == b.sub.phys_base && std::memcmp(&x.utsname, &y.utsname, sizeof x.utsname) == 0 &&
         x.timestamp_sec == y.timestamp_sec && x.timestamp_usec == y.timestamp_usec;
}

// [from, to) of both files holds the same bytes.
Status same_bytes(Part& a, Part& b, uint64_t from, uint64_t to, const char* what) {
  std::vector<std::byte> x, y;
  for (uint64_t o = from; o < to; o += kChunk) {
    uint64_t n = std::min(kChunk, to - o);
    x.resize(static_cast<size_t>(n));
    y.resize(static_cast<size_t>(n));
    VMC_TRY(a.in->read_at(o, x));
    VMC_TRY(b.in->read_at(o, y));
    if (x != y) {
      auto at = std::mismatch(x.begin(), x.end(), y.begin()).first - x.begin();
      return bad(b, o + static_cast<uint64_t>(at),
                 std::string(what) + " differ from " + a.name() + "'s: the files are not from one --split run");
    }
  }
  return {};
}

Status check_set(std::vector<Part>& parts) {
  std::sort(parts.begin(), parts.end(), [](const Part& a, const Part& b) { return a.start < b.start; });
  Part& first = parts.front();
  // Same dump first: a file from another run is named as such, not as a gap.
  for (Part& p : parts) {
    if (!same_dump(first, p)) {
      return bad(p, 0, "its header (kernel, crash time, dump level, size) differs from " + first.name() +
                           "'s: not from the same --split run");
    }
    if (&p == &first) continue;
    VMC_TRY(same_bytes(first, p, first.block + sizeof(KdumpSubHeader), first.bitmap1, "the ELF notes"));
    VMC_TRY(same_bytes(first, p, first.bitmap1, first.desc_offset, "the bitmaps"));
  }
  uint64_t expect = 0;
  for (Part& p : parts) {
    if (p.start > expect) {
      return Error(ErrorKind::kBadInput, "the split set lacks pfns " + hex(expect) + "-" + hex(p.start) +
                                             " (a file of the set is missing; " + p.name() + " starts at " +
                                             hex(p.start) + ")");
    }
    if (p.start < expect) {
      return Error(ErrorKind::kBadInput, p.name() + " holds pfns from " + hex(p.start) +
                                             ", which an earlier file of the set already holds (a file given twice?)");
    }
    expect = p.end;
  }
  if (expect != first.max_mapnr) {
    return Error(ErrorKind::kBadInput, "the split set lacks pfns " + hex(expect) + "-" + hex(first.max_mapnr) +
                                           " (the last file of the set is missing)");
  }
  for (Part& p : parts) VMC_TRY(scan_descriptors(p));
  return {};
}

Status copy_bytes(io::InputFile& in, uint64_t from, uint64_t length, io::OutputFile& out, uint64_t to) {
  std::vector<std::byte> buf;
  for (uint64_t o = 0; o < length; o += kChunk) {
    buf.resize(static_cast<size_t>(std::min(kChunk, length - o)));
    VMC_TRY(in.read_at(from + o, buf));
    VMC_TRY(out.write_at(to + o, buf));
  }
  return {};
}

// Descriptors of one file, offsets moved by delta, to index `first` of the output table.
Status copy_descriptors(Part& p, int64_t delta, io::OutputFile& out, uint64_t out_table, uint64_t first) {
  std::vector<PageDescriptor> d;
  for (uint64_t i = 0; i < p.pages; i += kDescBatch) {
    d.resize(static_cast<size_t>(std::min(kDescBatch, p.pages - i)));
    VMC_TRY(p.in->read_at(p.desc_offset + i * sizeof(PageDescriptor), std::as_writable_bytes(std::span(d))));
    for (auto& x : d) x.offset = x.offset.get() + delta;
    VMC_TRY(out.write_at(out_table + (first + i) * sizeof(PageDescriptor), std::as_bytes(std::span(d))));
  }
  return {};
}

Status write_header(const Part& first, bool incomplete, io::OutputFile& out) {
  DiskDumpHeader h = first.header;
  h.status = incomplete ? (h.status | kdump::kIncomplete) : (h.status & ~kdump::kIncomplete);
  return out.write_at(0, std::as_bytes(std::span(&h, 1)));
}

Result<ReassembleResult> write_whole(std::vector<Part>& parts, io::OutputFile& out) {
  Part& first = parts.front();
  ReassembleResult r;
  r.files = parts.size();
  for (const Part& p : parts) r.pages += p.pages;
  // Header block, sub header, notes and bitmaps as the first file has them.
  VMC_TRY_CTX(copy_bytes(*first.in, 0, first.desc_offset, out, 0), "copying the header and bitmaps");
  VMC_TRY(write_header(first, /*incomplete=*/true, out));
  uint64_t cursor = first.desc_offset + r.pages * sizeof(PageDescriptor), index = 0;
  for (Part& p : parts) {
    VMC_TRY_CTX(copy_bytes(*p.in, p.data_lo, p.data_hi - p.data_lo, out, cursor), "copying page data of " + p.name());
    int64_t delta = static_cast<int64_t>(cursor) - static_cast<int64_t>(p.data_lo);
    VMC_TRY_CTX(copy_descriptors(p, delta, out, first.desc_offset, index), "copying page descriptors of " + p.name());
    index += p.pages;
    cursor += p.data_hi - p.data_lo;
    r.data_bytes += p.data_hi - p.data_lo;
  }
  KdumpSubHeader sub = first.sub;
  sub.split = 0;
  sub.start_pfn = sub.end_pfn = sub.start_pfn_64 = sub.end_pfn_64 = 0;
  if (first.header.header_version >= 5 && sub.size_eraseinfo != 0 && sub.offset_eraseinfo > 0) {
    VMC_TRY_CTX(copy_bytes(*first.in, static_cast<uint64_t>(sub.offset_eraseinfo.get()), sub.size_eraseinfo, out, cursor),
                "copying the erase info of " + first.name());
    sub.offset_eraseinfo = static_cast<int64_t>(cursor);
  }
  VMC_TRY(out.write_at(first.block, std::as_bytes(std::span(&sub, 1))));
  VMC_TRY(write_header(first, /*incomplete=*/false, out));
  VMC_TRY(out.finish());
  return r;
}

}  // namespace

Result<ReassembleResult> reassemble_kdump(std::vector<std::unique_ptr<io::InputFile>> inputs, io::OutputFile& out) {
  if (inputs.size() < 2) return Error(ErrorKind::kInvalidArgument, "--reassemble needs at least two split files");
  std::vector<Part> parts;
  for (auto& in : inputs) {
    parts.push_back(Part{});
    parts.back().in = std::move(in);
    VMC_TRY(parse_headers(parts.back()));
  }
  VMC_TRY(check_set(parts));
  return write_whole(parts, out);
}

}  // namespace vmc
