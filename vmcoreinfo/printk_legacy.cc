// Why no escaping here: before 3.5 the buffer holds the console text itself
// ("<6>message\n" lines), and vmcore-dmesg writes those bytes untouched.
// Unlike vmcore-dmesg we do not insist on SYMBOL(logged_chars): it reads the
// symbol but never uses its value.
#include "vmcoreinfo/printk_legacy.h"

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
  auto image = read_image(kernel, *buf, *len, "log_buf");
  if (!image.ok()) return std::move(image).error();
  LegacySnapshot log;
  log.log_end = static_cast<uint32_t>(*end);
  log.buf = std::move(image).value();
  return log;
}

DmesgResult decode_legacy(const LegacySnapshot& log) {
  DmesgResult out;
  const uint64_t size = log.buf.size();
  if (size == 0) return out;
  const uint64_t logged = std::min<uint64_t>(log.log_end, size);
  const uint64_t start = (log.log_end - logged) % size;  // the oldest character still held
  out.text.reserve(logged);
  uint64_t skipped = 0;
  for (uint64_t i = 0; i < logged; ++i) {
    uint64_t off = (start + i) % size;
    if (!log.buf.readable(off, 1)) {
      ++skipped;
      continue;
    }
    out.text.push_back(static_cast<char>(log.buf.span(off, 1)[0]));
  }
  if (skipped != 0) {
    out.warnings.push_back(std::to_string(skipped) + " bytes of log_buf at " + hex(log.buf.vaddr()) +
                           " are not in the dump; left out");
  }
  return out;
}

Result<DmesgResult> read_legacy_log(const KernelAddressSpace& kernel, const VmcoreInfo& info) {
  auto log = read_legacy(kernel, info);
  if (!log.ok()) return std::move(log).error().add_context("printk log_buf (legacy)");
  return decode_legacy(*log);
}

}  // namespace vmc::dmesg
