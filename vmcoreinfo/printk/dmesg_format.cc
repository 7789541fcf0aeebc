// Why hand-rolled: isprint()/isspace() depend on the process locale, and
// vmcore-dmesg runs in the C locale; a fixed table keeps our output identical
// whatever locale the CLI runs in.
#include "vmcoreinfo/printk/dmesg_format.h"

#include <cstdio>

namespace vmc::dmesg {

void append_timestamp(std::string& out, uint64_t ts_nsec) {
  char buf[48];
  int n =
      std::snprintf(buf, sizeof buf, "[%5llu.%06llu] ", static_cast<unsigned long long>(ts_nsec / 1000000000),
                    static_cast<unsigned long long>(ts_nsec % 1000000000 / 1000));
  out.append(buf, static_cast<size_t>(n));
}

void append_escaped(std::string& out, std::span<const std::byte> text) {
  static constexpr char kHex[] = "0123456789abcdef";
  out.reserve(out.size() + text.size());
  for (std::byte b : text) {
    auto c = static_cast<unsigned char>(b);
    if (printed_raw(c)) {
      out.push_back(static_cast<char>(c));
    } else {
      const char esc[4] = {'\\', 'x', kHex[c >> 4], kHex[c & 0xf]};
      out.append(esc, sizeof esc);
    }
  }
}

namespace {

constexpr uint32_t kCallerIsCpu = 0x80000000;

void append_caller(std::string& out, uint32_t caller_id) {
  char id[16], column[32];
  std::snprintf(id, sizeof id, "%c%u", (caller_id & kCallerIsCpu) ? 'C' : 'T', caller_id & ~kCallerIsCpu);
  int n = std::snprintf(column, sizeof column, "[%8s] ", id);
  out.append(column, static_cast<size_t>(n));
}

// makedumpfile's text rules; indent is the width of the record's prefix.
void append_indented(std::string& out, std::span<const std::byte> text, size_t indent) {
  static constexpr char kHex[] = "0123456789abcdef";
  for (std::byte b : text) {
    auto c = static_cast<unsigned char>(b);
    if (c == '\n') {
      out.push_back('\n');
      out.append(indent, ' ');
    } else if (printed_raw(c)) {
      out.push_back(static_cast<char>(c));
    } else {
      out.append(c >= 0x80 ? "\\xffffff" : "\\x");  // a negative char, printed with %x
      out.push_back(kHex[c >> 4]);
      out.push_back(kHex[c & 0xf]);
    }
  }
}

}  // namespace

void append_record(std::string& out, DmesgStyle style, uint64_t ts_nsec, std::optional<uint32_t> caller_id,
                   std::span<const std::byte> text) {
  size_t start = out.size();
  append_timestamp(out, ts_nsec);
  if (style == DmesgStyle::kVmcoreDmesg) {
    append_escaped(out, text);
  } else {
    if (caller_id) append_caller(out, *caller_id);
    append_indented(out, text, out.size() - start);
  }
  out.push_back('\n');
}

}  // namespace vmc::dmesg
