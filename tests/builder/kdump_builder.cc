// A small kdump-compressed writer for reader tests, independent of
// formats/kdump_writer.cc and compress/. It lays the file out the way
// makedumpfile does (header, sub header + notes, two bitmaps, descriptors,
// one shared zero page then page data, erase info last) and calls the codec
// libraries the way makedumpfile calls them.
#include <lzo/lzo1x.h>
#include <snappy-c.h>
#include <zlib.h>
#include <zstd.h>

#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <numeric>

#include "base/endian.h"
#include "formats/flattened_format.h"
#include "formats/kdump_format.h"
#include "tests/builder/dump_builder.h"

namespace vmc::testing {
namespace {

uint64_t div_up(uint64_t a, uint64_t b) { return (a + b - 1) / b; }

void put_field(char* dst, size_t cap, const std::string& s) {
  std::memset(dst, 0, cap);
  std::memcpy(dst, s.data(), std::min(s.size(), cap - 1));
}

template <typename T>
void put(std::vector<std::byte>& file, uint64_t offset, const T& value) {
  if (file.size() < offset + sizeof(T)) file.resize(offset + sizeof(T));
  std::memcpy(file.data() + offset, &value, sizeof(T));
}

void put_bytes(std::vector<std::byte>& file, uint64_t offset, std::span<const std::byte> b) {
  if (file.size() < offset + b.size()) file.resize(offset + b.size());
  if (!b.empty()) std::memcpy(file.data() + offset, b.data(), b.size());
}

// Compressed bytes, or empty when the codec does not shrink the page.
std::vector<std::byte> compress_page(uint32_t flag, std::span<const std::byte> page) {
  std::vector<std::byte> out(page.size() * 2 + 1024);
  size_t n = 0;
  auto* src = reinterpret_cast<const unsigned char*>(page.data());
  auto* dst = reinterpret_cast<unsigned char*>(out.data());
  if (flag == kdump::kCompressedZlib) {
    uLongf len = out.size();
    if (compress2(dst, &len, src, page.size(), Z_BEST_SPEED) == Z_OK) n = len;
  } else if (flag == kdump::kCompressedLzo) {
    static bool init = lzo_init() == LZO_E_OK;
    if (!init) std::abort();
    std::vector<unsigned char> work(LZO1X_1_MEM_COMPRESS);
    lzo_uint len = out.size();
    if (lzo1x_1_compress(src, page.size(), dst, &len, work.data()) == LZO_E_OK) n = len;
  } else if (flag == kdump::kCompressedSnappy) {
    size_t len = out.size();
    if (snappy_compress(reinterpret_cast<const char*>(src), page.size(),
                        reinterpret_cast<char*>(dst), &len) == SNAPPY_OK) {
      n = len;
    }
  } else if (flag == kdump::kCompressedZstd) {
    size_t len = ZSTD_compress(dst, out.size(), src, page.size(), 1);
    if (!ZSTD_isError(len)) n = len;
  } else if (flag != 0) {
    std::fprintf(stderr, "build_kdump: unknown codec flag %#x\n", flag);
    std::abort();
  }
  if (n == 0 || n >= page.size()) return {};
  out.resize(n);
  return out;
}

bool all_zero(std::span<const std::byte> b) {
  return std::all_of(b.begin(), b.end(), [](std::byte x) { return x == std::byte{0}; });
}

void set_bit(std::vector<std::byte>& file, uint64_t base, uint64_t bit) {
  file[base + bit / 8] |= static_cast<std::byte>(1u << (bit % 8));
}

struct Layout {
  uint32_t block;
  uint64_t max_mapnr;
  uint64_t sub_hdr_blocks;
  uint64_t bitmap_bytes;  // one bitmap
  uint64_t bitmap1, bitmap2, descs, data;
};

// The sub header block(s): sub header, then the notes, then (v3, or when asked)
// the VMCOREINFO text on its own. Returns the offsets written into `sub`.
std::vector<std::byte> sub_header_area(const DumpBuilder& m, const KdumpBuildOptions& o,
                                       kdump::KdumpSubHeader& sub, uint32_t block) {
  std::vector<std::byte> area(sizeof(kdump::KdumpSubHeader));
  int v = o.header_version;
  std::vector<std::byte> notes = m.notes();
  if (v >= 4 && !notes.empty()) {
    sub.offset_note = static_cast<int64_t>(block + area.size());
    sub.size_note = notes.size();
    // VMCOREINFO's descriptor is the tail of the notes (see DumpBuilder::notes).
    if (v >= 3 && !m.vmcoreinfo().empty() && !o.vmcoreinfo_separate) {
      uint64_t desc_len = m.vmcoreinfo().size();
      uint64_t desc_off = notes.size() - ((desc_len + 3) & ~uint64_t{3});
      sub.offset_vmcoreinfo = static_cast<int64_t>(block + area.size() + desc_off);
      sub.size_vmcoreinfo = desc_len;
    }
    area.insert(area.end(), notes.begin(), notes.end());
  }
  if (v >= 3 && !m.vmcoreinfo().empty() && sub.size_vmcoreinfo == 0) {
    sub.offset_vmcoreinfo = static_cast<int64_t>(block + area.size());
    sub.size_vmcoreinfo = m.vmcoreinfo().size();
    auto text = std::as_bytes(std::span(m.vmcoreinfo()));
    area.insert(area.end(), text.begin(), text.end());
  }
  return area;
}

kdump::DiskDumpHeader make_header(const DumpBuilder& m, const KdumpBuildOptions& o, const Layout& l,
                                  uint64_t sub_blocks) {
  kdump::DiskDumpHeader h{};
  std::memcpy(h.signature, o.diskdump_signature ? "DISKDUMP" : kdump::kSignature, 8);
  h.header_version = o.header_version;
  put_field(h.utsname.sysname, 65, "Linux");
  put_field(h.utsname.nodename, 65, o.nodename);
  put_field(h.utsname.release, 65, o.release);
  put_field(h.utsname.version, 65, o.version);
  put_field(h.utsname.machine, 65, o.machine);
  h.timestamp_sec = o.timestamp_sec;
  h.status = o.codec_flag | (o.incomplete ? kdump::kIncomplete : 0);
  h.block_size = static_cast<int32_t>(l.block);
  h.sub_hdr_size = static_cast<int32_t>(sub_blocks);
  h.bitmap_blocks = static_cast<uint32_t>(2 * l.bitmap_bytes / l.block);
  h.max_mapnr = static_cast<uint32_t>(std::min<uint64_t>(l.max_mapnr, UINT32_MAX));
  h.nr_cpus = o.nr_cpus_field >= 0 ? o.nr_cpus_field : m.nr_cpus();
  return h;
}

}  // namespace

std::vector<std::byte> build_kdump(const DumpBuilder& m, const KdumpBuildOptions& o) {
  auto ram = m.ram_pfn_ranges();
  Layout l{};
  l.block = m.page_size();
  l.max_mapnr = ram.empty() ? 0 : ram.back().second;

  kdump::KdumpSubHeader sub{};
  std::vector<std::byte> area;
  if (!o.diskdump_signature) area = sub_header_area(m, o, sub, l.block);
  l.sub_hdr_blocks = div_up(area.size(), l.block);
  l.bitmap_bytes = std::max<uint64_t>(1, div_up(div_up(l.max_mapnr, 8), l.block)) * l.block;
  l.bitmap1 = (kdump::kHeaderBlocks + l.sub_hdr_blocks) * l.block;
  l.bitmap2 = l.bitmap1 + l.bitmap_bytes;
  l.descs = l.bitmap2 + l.bitmap_bytes;

  std::vector<uint64_t> dumped, in_file;  // 2nd bitmap; pages with descriptors here
  for (auto [s, e] : ram) {
    for (uint64_t pfn = s; pfn < e; ++pfn) {
      if (o.dumped && !o.dumped->count(pfn)) continue;
      dumped.push_back(pfn);
      if (!o.split || (pfn >= o.split->first && pfn < o.split->second)) in_file.push_back(pfn);
    }
  }
  l.data = l.descs + in_file.size() * sizeof(kdump::PageDescriptor);

  std::vector<std::byte> file(l.data);
  for (auto [s, e] : ram) {
    for (uint64_t pfn = s; pfn < e; ++pfn) set_bit(file, l.bitmap1, pfn);
  }
  uint64_t cursor = l.data, zero_offset = 0;
  if (o.share_zero_pages) {
    zero_offset = cursor;
    put_bytes(file, cursor, std::vector<std::byte>(l.block));
    cursor += l.block;
  }
  for (uint64_t pfn : dumped) set_bit(file, l.bitmap2, pfn);
  for (size_t i = 0; i < in_file.size(); ++i) {
    uint64_t pfn = in_file[i];
    std::vector<std::byte> page = m.page(pfn);
    kdump::PageDescriptor pd{};
    if (o.share_zero_pages && all_zero(page)) {
      pd.offset = static_cast<int64_t>(zero_offset);
      pd.size = l.block;
    } else {
      std::vector<std::byte> c = compress_page(o.codec_flag, page);
      const auto& stored = c.empty() ? page : c;
      pd.offset = static_cast<int64_t>(cursor);
      pd.size = static_cast<uint32_t>(stored.size());
      pd.flags = c.empty() ? 0 : o.codec_flag;
      put_bytes(file, cursor, stored);
      cursor += stored.size();
    }
    if (o.incomplete && i + o.missing_tail_descriptors >= in_file.size()) pd = {};
    put(file, l.descs + i * sizeof pd, pd);
  }
  if (o.header_version >= 5 && !o.eraseinfo.empty() && !o.diskdump_signature) {
    sub.offset_eraseinfo = static_cast<int64_t>(cursor);
    sub.size_eraseinfo = o.eraseinfo.size();
    put_bytes(file, cursor, o.eraseinfo);
  }
  if (!o.diskdump_signature) {
    sub.phys_base = o.phys_base;
    sub.dump_level = o.dump_level;
    if (o.header_version >= 6) sub.max_mapnr_64 = l.max_mapnr;
    if (o.split && o.header_version >= 2) {
      sub.split = 1;
      sub.start_pfn = std::min<uint64_t>(o.split->first, UINT32_MAX);
      sub.end_pfn = std::min<uint64_t>(o.split->second, UINT32_MAX);
      if (o.header_version >= 6) {
        sub.start_pfn_64 = o.split->first;
        sub.end_pfn_64 = o.split->second;
      }
    }
    std::memcpy(area.data(), &sub, sizeof sub);
    put_bytes(file, l.block, area);
  }
  kdump::DiskDumpHeader h = make_header(m, o, l, l.sub_hdr_blocks);
  put(file, 0, h);
  return file;
}

namespace {

std::vector<std::byte> flat_header() {
  std::vector<std::byte> out(flat::kFlatHeaderSize);
  flat::FlatHeader fh{};
  std::memcpy(fh.signature, flat::kSignature, sizeof(flat::kSignature) - 1);
  fh.type = flat::kTypeFlat;
  fh.version = flat::kVersionFlat;
  std::memcpy(out.data(), &fh, sizeof fh);
  return out;
}

void append_record(std::vector<std::byte>& out, int64_t offset, std::span<const std::byte> data) {
  flat::FlatRecordHeader rh{};
  rh.offset = offset;
  rh.buf_size = static_cast<int64_t>(data.size());
  auto hb = std::as_bytes(std::span(&rh, 1));
  out.insert(out.end(), hb.begin(), hb.end());
  out.insert(out.end(), data.begin(), data.end());
}

std::vector<std::byte> flatten_in_order(std::span<const std::byte> file, size_t record_size,
                                        const std::vector<size_t>& order) {
  std::vector<std::byte> out = flat_header();
  for (size_t r : order) {
    uint64_t off = r * record_size;
    append_record(out, static_cast<int64_t>(off),
                  file.subspan(off, std::min<size_t>(record_size, file.size() - off)));
  }
  flat::FlatRecordHeader end{};
  end.offset = flat::kEndFlag;
  end.buf_size = flat::kEndFlag;
  auto eb = std::as_bytes(std::span(&end, 1));
  out.insert(out.end(), eb.begin(), eb.end());
  return out;
}

}  // namespace

std::vector<std::byte> flatten(std::span<const std::byte> file, size_t record_size) {
  std::vector<size_t> order(div_up(file.size(), record_size));
  std::iota(order.begin(), order.end(), 0);
  return flatten_in_order(file, record_size, order);
}

std::vector<std::byte> flatten_shuffled(std::span<const std::byte> file, size_t record_size,
                                        uint64_t seed) {
  std::vector<size_t> order(div_up(file.size(), record_size));
  std::iota(order.begin(), order.end(), 0);
  auto r = random_bytes(order.size() * 8, seed);
  for (size_t i = order.size(); i > 1; --i) {
    uint64_t v;
    std::memcpy(&v, r.data() + (i - 1) * 8, 8);
    std::swap(order[i - 1], order[v % i]);
  }
  return flatten_in_order(file, record_size, order);
}

}  // namespace vmc::testing
