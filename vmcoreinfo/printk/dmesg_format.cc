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

void append_record(std::string& out, uint64_t ts_nsec, std::span<const std::byte> text) {
  append_timestamp(out, ts_nsec);
  append_escaped(out, text);
  out.push_back('\n');
}

}  // namespace vmc::dmesg
