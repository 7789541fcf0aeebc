// Why no escaping here: before 3.5 the buffer holds the console text itself
// ("<6>message\n" lines), and vmcore-dmesg writes those bytes untouched.
// Unlike vmcore-dmesg we do not insist on SYMBOL(logged_chars): it reads the
// symbol but never uses its value.
#include "vmcoreinfo/printk/printk_legacy.h"

#include <algorithm>
#include <utility>

namespace vmc::dmesg {

Result<LegacySnapshot> read_legacy(const KernelAddressSpace& kernel, const VmcoreInfo& info) {
  auto buf_sym = info.require_symbol("log_buf");
  if (!buf_sym.ok()) return std::move(buf_sym).error();
  auto end_sym = info.require_symbol("log_end");
  if (!end_sym.ok()) return std::move(end_sym).error();
  auto len_sym = info.require_symbol("log_buf_len");
  if (!len_sym.ok()) return std::move(len_sym).error();

  auto buf = read_uint(kernel, *buf_sym, 8, "log_buf");
  if (!buf.ok()) return std::move(buf).error();
  auto end = read_uint(kernel, *end_sym, 4, "log_end");
  if (!end.ok()) return std::move(end).error();
  auto len = read_uint(kernel, *len_sym, 4, "log_buf_len");
  if (!len.ok()) return std::move(len).error();
  if (*len == 0 || *len > 0x7fffffff) {
    return Error(ErrorKind::kBadInput,
                 "log_buf_len " + std::to_string(static_cast<int32_t>(*len)) + " is not a size");
  }
  if (auto s = check_region_size(kernel, *buf, *len, "log_buf"); !s.ok()) return std::move(s).error();
  LegacySnapshot log;
  const uint32_t log_end = static_cast<uint32_t>(*end);  // the low 32 bits, as vmcore-dmesg reads it
  uint64_t logged = std::min<uint64_t>(log_end, *len);
  if (logged > kMaxLegacyLogBytes) {
    log.warnings.push_back("log_buf_len " + std::to_string(*len) + " holds " + std::to_string(logged) +
                           " logged bytes: only the newest " + std::to_string(kMaxLegacyLogBytes) +
                           " are read");
    logged = kMaxLegacyLogBytes;
  }
  // The oldest character still held, then the text up to the ring's end and
  // the rest from its start.
  const uint64_t start = (log_end - logged) % *len;
  const uint64_t first = std::min(logged, *len - start);
  for (auto [offset, size] : {std::pair{start, first}, std::pair{uint64_t{0}, logged - first}}) {
    if (size == 0) continue;
    auto image = read_image(kernel, *buf + offset, size, "log_buf");
    if (!image.ok()) return std::move(image).error();
    log.pieces.push_back(std::move(image).value());
  }
  return log;
}

DmesgResult decode_legacy(const LegacySnapshot& log) {
  DmesgResult out;
  out.warnings = log.warnings;
  uint64_t skipped = 0;
  for (const MemoryImage& piece : log.pieces) {
    uint64_t off = 0;
    for (auto [hole_begin, hole_end] : piece.holes()) {
      auto text = piece.span(off, hole_begin - off);
      out.text.append(reinterpret_cast<const char*>(text.data()), text.size());
      skipped += hole_end - hole_begin;
      off = hole_end;
    }
    auto text = piece.span(off, piece.size() - off);
    out.text.append(reinterpret_cast<const char*>(text.data()), text.size());
  }
  if (skipped != 0) {
    out.warnings.push_back(std::to_string(skipped) + " bytes of log_buf are not in the dump; left out");
  }
  return out;
}

Result<DmesgResult> read_legacy_log(const KernelAddressSpace& kernel, const VmcoreInfo& info,
                                    const DmesgOptions&) {
  auto log = read_legacy(kernel, info);
  if (!log.ok()) return std::move(log).error().add_context("printk log_buf (legacy)");
  return decode_legacy(*log);
}

}  // namespace vmc::dmesg
