// Why we print the wrap marker: vmcore-dmesg formats a record before looking
// at its len, so every wrapped log it prints carries one "[    0.000000] "
// line for the len == 0 header; byte-identical output means keeping it.
#include "vmcoreinfo/printk/printk_structured.h"

#include <utility>

#include "vmcoreinfo/printk/dmesg_format.h"

namespace vmc::dmesg {
namespace {

class Walker {
 public:
  Walker(const StructuredLayout& layout, const StructuredSnapshot& log, DmesgStyle style, DmesgResult& out)
      : l_(layout), log_(log), style_(style), out_(out), warn_(out.warnings) {}

  void run();

 private:
  // Prints the record at idx and returns where the next one is, or nullopt to stop.
  std::optional<uint64_t> record(uint64_t idx);
  bool resume_after_wrap(uint64_t idx);
  std::string where(uint64_t idx) const {
    return "log_buf record at index " + hex(idx) + " (address " + hex(log_.buf.vaddr() + idx) + ")";
  }

  const StructuredLayout& l_;
  const StructuredSnapshot& log_;
  const DmesgStyle style_;
  DmesgResult& out_;
  WarningList warn_;
  bool wrapped_ = false;
};

void Walker::run() {
  const uint64_t size = log_.buf.size();
  const uint64_t first = log_.first_idx, next = log_.next_idx;
  if (l_.header_size > size || first > size - l_.header_size) {
    warn_.add("log_first_idx " + hex(first) + " lies outside the " + std::to_string(size) +
              "-byte log_buf at " + hex(log_.buf.vaddr()) + "; no records read");
    warn_.finish();
    return;
  }
  // Each step moves forward and at most one wrap is allowed, so the walk ends
  // within two passes; the counter only guards against a bug here.
  uint64_t idx = first;
  for (uint64_t steps = 0; idx != next; ++steps) {
    if (steps > size + 2) {
      warn_.add("printk log walk did not terminate; stopped at " + where(idx));
      break;
    }
    auto following = record(idx);
    // Between first and next when they are in order (or after the wrap), a
    // record that steps over log_next_idx means the len chain is broken.
    if (following && (wrapped_ || first <= next) && idx < next && *following > next) {
      warn_.add(where(idx) + ": its len steps over log_next_idx " + hex(next) +
                "; the records after it cannot be found");
      following.reset();
    }
    if (!following) {
      if (!resume_after_wrap(idx)) break;
      following = 0;
    }
    idx = *following;
  }
  warn_.finish();
}

// In a wrapped log (log_first_idx > log_next_idx) the newer records run from
// offset 0 to log_next_idx, after the wrap marker. A chain of lengths broken
// before the marker loses the records from there to the end of the buffer,
// not those: the walk goes on at offset 0. (vmcore-dmesg stops or misprints.)
bool Walker::resume_after_wrap(uint64_t idx) {
  if (wrapped_ || log_.first_idx <= log_.next_idx || log_.next_idx == 0) return false;
  warn_.add("log_buf: the chain of records breaks at index " + hex(idx) + "; what follows it up to the end (" +
            std::to_string(log_.buf.size() - idx) + " bytes from " + hex(log_.buf.vaddr() + idx) +
            ") is skipped, going on with the records after the wrap, from index 0 to log_next_idx " +
            hex(log_.next_idx));
  wrapped_ = true;
  return true;
}

std::optional<uint64_t> Walker::record(uint64_t idx) {
  const uint64_t size = log_.buf.size(), hdr = l_.header_size;
  if (!log_.buf.readable(idx, hdr)) {
    warn_.add(where(idx) + ": header not in the dump; the records after it cannot be found");
    return std::nullopt;
  }
  const uint64_t len = log_.buf.u16(idx + l_.len);
  uint64_t text_len = log_.buf.u16(idx + l_.text_len);
  if (text_len > size - idx - hdr) {
    warn_.add(where(idx) + ": text_len " + std::to_string(text_len) +
              " runs past the end of log_buf; truncated");
    text_len = size - idx - hdr;
  }
  const uint64_t dict_len = l_.dict_len ? log_.buf.u16(idx + *l_.dict_len) : 0;
  if (len != 0 && len < hdr + text_len + dict_len) {
    warn_.add(where(idx) + ": len " + std::to_string(len) + " is shorter than its header, text and dict");
  }
  const bool marker_printed = style_ == DmesgStyle::kVmcoreDmesg;
  std::optional<uint32_t> caller;
  if (l_.caller_id) caller = log_.buf.u32(idx + *l_.caller_id);
  if (len == 0 && !marker_printed) {
    // makedumpfile wraps at the marker without printing it.
  } else if (log_.buf.readable(idx + hdr, text_len)) {
    append_record(out_.text, style_, log_.buf.u64(idx + l_.ts_nsec), caller, log_.buf.span(idx + hdr, text_len));
  } else {
    warn_.add(where(idx) + ": text not in the dump; record skipped");
  }
  if (len == 0) {  // the end-of-buffer marker
    if (wrapped_) {
      warn_.add(where(idx) + ": second wrap marker, the log_buf is corrupt (a cycle); stopped");
      return std::nullopt;
    }
    if (log_.first_idx <= log_.next_idx) {  // an unwrapped log has no marker before next
      warn_.add(where(idx) + ": wrap marker before log_next_idx " + hex(log_.next_idx) + "; stopped");
      return std::nullopt;
    }
    wrapped_ = true;
    return 0;
  }
  const uint64_t following = idx + len;
  if (following > size - hdr) {
    warn_.add(where(idx) + ": len " + std::to_string(len) + " points outside log_buf; stopped");
    return std::nullopt;
  }
  return following;
}

}  // namespace

Result<StructuredLayout> StructuredLayout::from(const VmcoreInfo& info) {
  StructuredLayout l;
  // Linux 3.11 renamed struct log to struct printk_log; vmcore-dmesg accepts both.
  l.struct_name = info.size("printk_log") ? "printk_log" : "log";
  auto need = [&](std::optional<uint64_t> v, const std::string& what, uint64_t& field) -> Status {
    if (!v) return Error(ErrorKind::kUnsupported, "VMCOREINFO has no " + what);
    field = *v;
    return {};
  };
  const std::string& s = l.struct_name;
  VMC_TRY(need(info.size(s), "SIZE(printk_log) or SIZE(log)", l.header_size));
  VMC_TRY(need(info.offset(s + ".ts_nsec"), "OFFSET(" + s + ".ts_nsec)", l.ts_nsec));
  VMC_TRY(need(info.offset(s + ".len"), "OFFSET(" + s + ".len)", l.len));
  VMC_TRY(need(info.offset(s + ".text_len"), "OFFSET(" + s + ".text_len)", l.text_len));
  l.dict_len = info.offset(s + ".dict_len");
  l.caller_id = info.offset(s + ".caller_id");
  l.clear_idx = info.symbol("clear_idx");
  VMC_TRY(need(info.symbol("log_buf"), "SYMBOL(log_buf)", l.log_buf));
  VMC_TRY(need(info.symbol("log_buf_len"), "SYMBOL(log_buf_len)", l.log_buf_len));
  VMC_TRY(need(info.symbol("log_first_idx"), "SYMBOL(log_first_idx)", l.log_first_idx));
  VMC_TRY(need(info.symbol("log_next_idx"), "SYMBOL(log_next_idx)", l.log_next_idx));
  if (l.ts_nsec + 8 > l.header_size || l.len + 2 > l.header_size || l.text_len + 2 > l.header_size ||
      (l.dict_len && *l.dict_len + 2 > l.header_size) || (l.caller_id && *l.caller_id + 4 > l.header_size)) {
    return Error(ErrorKind::kBadInput, "VMCOREINFO " + s + " offsets lie outside SIZE(" + s + ")");
  }
  return l;
}

Result<StructuredSnapshot> read_structured(const KernelAddressSpace& kernel, const StructuredLayout& l,
                                           const DmesgOptions& options) {
  StructuredSnapshot log;
  auto buf = read_uint(kernel, l.log_buf, 8, "log_buf");
  if (!buf.ok()) return std::move(buf).error();
  auto len = read_uint(kernel, l.log_buf_len, 4, "log_buf_len");
  if (!len.ok()) return std::move(len).error();
  const bool from_clear = options.partial && l.clear_idx;
  auto first = read_uint(kernel, from_clear ? *l.clear_idx : l.log_first_idx, 4,
                         from_clear ? "clear_idx" : "log_first_idx");
  if (!first.ok()) return std::move(first).error();
  auto next = read_uint(kernel, l.log_next_idx, 4, "log_next_idx");
  if (!next.ok()) return std::move(next).error();
  // log_buf_len is a u32 from 3.17 and an int before; vmcore-dmesg reads an int.
  if (*len == 0 || *len > 0x7fffffff) {
    return Error(ErrorKind::kBadInput,
                 "log_buf_len " + std::to_string(static_cast<int32_t>(*len)) + " is not a size");
  }
  auto image = read_image(kernel, *buf, *len, "log_buf");
  if (!image.ok()) return std::move(image).error();
  log.first_idx = static_cast<uint32_t>(*first);
  log.next_idx = static_cast<uint32_t>(*next);
  log.buf = std::move(image).value();
  return log;
}

DmesgResult decode_structured(const StructuredLayout& layout, const StructuredSnapshot& log, DmesgStyle style) {
  DmesgResult out;
  Walker(layout, log, style, out).run();
  return out;
}

Result<DmesgResult> read_structured_log(const KernelAddressSpace& kernel, const VmcoreInfo& info,
                                        const DmesgOptions& options) {
  auto layout = StructuredLayout::from(info);
  if (!layout.ok()) return std::move(layout).error();
  auto log = read_structured(kernel, *layout, options);
  if (!log.ok()) return std::move(log).error().add_context("printk log_buf");
  return decode_structured(*layout, *log, options.style);
}

}  // namespace vmc::dmesg
