// Writes the kdump-compressed format (see kdump_format.h for the layout).
//
// The descriptor table is sized by the filter pass (mem_map only) before any
// page is read, and page data follows it. Zero pages, found while compressing,
// all point at one stored zero page, as makedumpfile does at -d 1: readers
// still read them, and page data is read only once. The header says
// "incomplete" from the first write until finish() succeeds, so a dump cut
// short by a crash, a kill or a full disk never looks whole.
#include <algorithm>
#include <cstring>
#include <ctime>

#include "base/endian.h"
#include "formats/dump_writer.h"
#include "formats/elf_format.h"
#include "formats/elf_notes.h"
#include "formats/kdump_format.h"

namespace vmc {
namespace {

// The page-descriptor and header flag for a codec.
uint32_t kdump_codec_flag(compress::CodecKind codec) {
  switch (codec) {
    case compress::CodecKind::kZlib: return kdump::kCompressedZlib;
    case compress::CodecKind::kLzo: return kdump::kCompressedLzo;
    case compress::CodecKind::kSnappy: return kdump::kCompressedSnappy;
    case compress::CodecKind::kZstd: return kdump::kCompressedZstd;
    case compress::CodecKind::kNone: return 0;
  }
  return 0;
}


using kdump::DiskDumpHeader;
using kdump::KdumpSubHeader;
using kdump::PageDescriptor;

uint64_t div_up(uint64_t a, uint64_t b) { return (a + b - 1) / b; }

void copy_field(char* dst, size_t cap, const std::string& src) {
  std::memset(dst, 0, cap);
  std::memcpy(dst, src.data(), std::min(src.size(), cap - 1));
}

std::span<const std::byte> as_bytes_of(const auto& value) {
  return std::as_bytes(std::span(&value, 1));
}

class KdumpWriter final : public DumpWriter {
 public:
  KdumpWriter(io::OutputFile& out, DumpHeaderInfo header) : out_(out), h_(std::move(header)) {
    block_ = h_.page_size;
    sub_hdr_blocks_ = div_up(sizeof(KdumpSubHeader) + h_.notes.size(), block_);
    bitmap_bytes_ = div_up(div_up(h_.max_pfn, 8), block_) * block_;
    bitmap1_offset_ = (kdump::kHeaderBlocks + sub_hdr_blocks_) * block_;
    desc_offset_ = bitmap1_offset_ + 2 * bitmap_bytes_;
    zero_page_offset_ = desc_offset_ + h_.max_dumped_pages * sizeof(PageDescriptor);
    data_cursor_ = zero_page_offset_ + block_;
  }

  Status begin() override {
    // Header and bitmaps are rewritten in place later: make sure they have room.
    VMC_TRY_CTX(out_.reserve(0, desc_offset_), "reserving the dump header and bitmaps");
    VMC_TRY(write_header(/*incomplete=*/true));
    VMC_TRY(write_sub_header());
    if (!h_.notes.empty()) {
      VMC_TRY_CTX(out_.write_at(block_ + sizeof(KdumpSubHeader), h_.notes), "writing ELF notes");
    }
    std::vector<std::byte> zero(block_);
    VMC_TRY_CTX(out_.write_at(zero_page_offset_, zero), "writing the shared zero page");
    return {};
  }

  Status write_pages(std::span<const PageRecord> pages) override {
    if (pages.empty()) return {};
    if (desc_index_ + pages.size() > h_.max_dumped_pages) {
      return Error(ErrorKind::kBadInput, "more pages to dump than the filter counted (" +
                                             std::to_string(h_.max_dumped_pages) + ")");
    }
    descs_.clear();
    pieces_.clear();
    uint64_t data_start = data_cursor_;
    for (const auto& page : pages) {
      PageDescriptor d{};
      if (page.zero) {
        d.offset = static_cast<int64_t>(zero_page_offset_);
        d.size = block_;
      } else {
        d.offset = static_cast<int64_t>(data_cursor_);
        d.size = static_cast<uint32_t>(page.data.size());
        d.flags = kdump_codec_flag(page.codec);
        pieces_.push_back(page.data);
        data_cursor_ += page.data.size();
      }
      descs_.push_back(d);
    }
    // Data before descriptors: a descriptor never points at bytes not yet written.
    VMC_TRY_CTX(out_.write_gather(data_start, pieces_),
                "writing page data for pfn " + hex(pages.front().pfn) + "-" + hex(pages.back().pfn));
    VMC_TRY_CTX(out_.write_at(desc_offset_ + desc_index_ * sizeof(PageDescriptor),
                              std::as_bytes(std::span(descs_))),
                "writing page descriptors for pfn " + hex(pages.front().pfn));
    desc_index_ += pages.size();
    data_bytes_ += data_cursor_ - data_start;
    return {};
  }

  Status end_cycle(uint64_t start, uint64_t end, std::span<const uint64_t> ram,
                   std::span<const uint64_t> dumped) override {
    VMC_TRY_CTX(write_bitmap(bitmap1_offset_, start, end, ram), "writing the 1st bitmap");
    VMC_TRY_CTX(write_bitmap(bitmap1_offset_ + bitmap_bytes_, start, end, dumped),
                "writing the 2nd bitmap");
    return {};
  }

  Status finish(bool incomplete) override {
    if (!h_.eraseinfo.empty()) {
      eraseinfo_offset_ = data_cursor_;
      VMC_TRY_CTX(out_.write_at(data_cursor_, h_.eraseinfo), "writing erase info");
      VMC_TRY(write_sub_header());
    }
    VMC_TRY(write_header(incomplete));
    return out_.finish();
  }

  uint64_t data_bytes() const override { return data_bytes_; }

 private:
  Status write_header(bool incomplete) {
    DiskDumpHeader dh{};
    std::memcpy(dh.signature, kdump::kSignature, sizeof dh.signature);
    dh.header_version = kdump::kHeaderVersion;
    copy_field(dh.utsname.sysname, 65, h_.sysname);
    copy_field(dh.utsname.nodename, 65, h_.nodename);
    copy_field(dh.utsname.release, 65, h_.release);
    copy_field(dh.utsname.version, 65, h_.version);
    copy_field(dh.utsname.machine, 65, h_.machine);
    copy_field(dh.utsname.domainname, 65, h_.domainname);
    dh.timestamp_sec = h_.timestamp_sec;
    dh.status = kdump_codec_flag(h_.codec) | (incomplete ? kdump::kIncomplete : 0);
    dh.block_size = static_cast<int32_t>(block_);
    dh.sub_hdr_size = static_cast<int32_t>(sub_hdr_blocks_);
    dh.bitmap_blocks = static_cast<uint32_t>(2 * bitmap_bytes_ / block_);
    dh.max_mapnr = static_cast<uint32_t>(std::min<uint64_t>(h_.max_pfn, UINT32_MAX));
    dh.nr_cpus = h_.nr_cpus;
    std::vector<std::byte> block(block_);
    std::memcpy(block.data(), &dh, sizeof dh);
    VMC_TRY_CTX(out_.write_at(0, block), "writing the dump header");
    return {};
  }

  Status write_sub_header() {
    KdumpSubHeader kh{};
    kh.phys_base = h_.phys_base;
    kh.dump_level = h_.dump_level;
    kh.max_mapnr_64 = h_.max_pfn;
    if (h_.split) {
      kh.split = 1;
      kh.start_pfn = std::min<uint64_t>(h_.split_start, UINT32_MAX);
      kh.end_pfn = std::min<uint64_t>(h_.split_end, UINT32_MAX);
      kh.start_pfn_64 = h_.split_start;
      kh.end_pfn_64 = h_.split_end;
    }
    uint64_t notes_offset = block_ + sizeof(KdumpSubHeader);
    if (!h_.notes.empty()) {
      kh.offset_note = static_cast<int64_t>(notes_offset);
      kh.size_note = h_.notes.size();
      if (auto vi = find_vmcoreinfo_note(h_.notes)) {
        kh.offset_vmcoreinfo = static_cast<int64_t>(notes_offset + vi->desc_pos);
        kh.size_vmcoreinfo = vi->desc.size();
      }
    }
    if (eraseinfo_offset_ != 0) {
      kh.offset_eraseinfo = static_cast<int64_t>(eraseinfo_offset_);
      kh.size_eraseinfo = h_.eraseinfo.size();
    }
    VMC_TRY_CTX(out_.write_at(block_, as_bytes_of(kh)), "writing the kdump sub header");
    return {};
  }

  Status write_bitmap(uint64_t base, uint64_t start, uint64_t end, std::span<const uint64_t> bits) {
    uint64_t nbytes = div_up(end - start, 8);
    bytes_.resize(nbytes);
    for (uint64_t i = 0; i < nbytes; ++i) {
      bytes_[i] = static_cast<std::byte>(bits[i / 8] >> ((i % 8) * 8));
    }
    return out_.write_at(base + start / 8, bytes_);
  }

  io::OutputFile& out_;
  DumpHeaderInfo h_;
  uint32_t block_;
  uint64_t sub_hdr_blocks_, bitmap_bytes_, bitmap1_offset_, desc_offset_;
  uint64_t zero_page_offset_, data_cursor_;
  uint64_t desc_index_ = 0, data_bytes_ = 0, eraseinfo_offset_ = 0;
  std::vector<PageDescriptor> descs_;
  std::vector<std::span<const std::byte>> pieces_;
  std::vector<std::byte> bytes_;
};

}  // namespace


std::unique_ptr<DumpWriter> make_kdump_writer(io::OutputFile& out, DumpHeaderInfo header) {
  return std::make_unique<KdumpWriter>(out, std::move(header));
}

}  // namespace vmc
