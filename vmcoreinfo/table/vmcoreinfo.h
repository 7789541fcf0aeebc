// VMCOREINFO, the text note the kernel leaves for dump tools, parsed once into a
// typed table. Each entry kind has its own number base, as the kernel prints it:
// SYMBOL(x)=%lx and KERNELOFFSET=%lx are hex; SIZE, OFFSET, LENGTH, NUMBER
// (signed: %ld), PAGESIZE and CRASHTIME are decimal. A malformed value is an
// error naming the line, never a silent fallback to another base.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>

#include "base/error.h"

namespace vmc {

class VmcoreInfo {
 public:
  // Parses the note text. Unknown keys are kept as plain values; a line that
  // does not fit "KEY=VALUE" or a number that does not parse is an error.
  static Result<VmcoreInfo> parse(std::string_view text);

  std::optional<uint64_t> symbol(std::string_view name) const;  // SYMBOL(name)
  std::optional<uint64_t> size(std::string_view name) const;    // SIZE(name)
  std::optional<uint64_t> offset(std::string_view name) const;  // OFFSET(struct.member)
  std::optional<uint64_t> length(std::string_view name) const;  // LENGTH(name)
  std::optional<int64_t> number(std::string_view name) const;   // NUMBER(name)
  std::optional<std::string> value(std::string_view key) const; // plain KEY=VALUE

  // The same lookups, failing with an Error that names the missing entry.
  Result<uint64_t> require_symbol(std::string_view name) const;
  Result<uint64_t> require_size(std::string_view name) const;
  Result<uint64_t> require_offset(std::string_view name) const;
  Result<int64_t> require_number(std::string_view name) const;

  std::string osrelease() const { return value("OSRELEASE").value_or(""); }
  std::optional<uint64_t> page_size() const { return page_size_; }
  std::optional<uint64_t> kernel_offset() const { return kernel_offset_; }  // KASLR slide
  std::optional<int64_t> crash_time() const { return crash_time_; }         // seconds since epoch
  // Kernel version from OSRELEASE as major*65536 + minor*256 + patch (KERNEL_VERSION()).
  std::optional<uint32_t> kernel_version() const;

  const std::string& text() const { return text_; }

 private:
  std::string text_;
  std::map<std::string, uint64_t, std::less<>> symbols_, sizes_, offsets_, lengths_;
  std::map<std::string, int64_t, std::less<>> numbers_;
  std::map<std::string, std::string, std::less<>> values_;
  std::optional<uint64_t> page_size_, kernel_offset_;
  std::optional<int64_t> crash_time_;
};

// KERNEL_VERSION(a, b, c) as the kernel encodes it.
constexpr uint32_t kernel_version_code(uint32_t major, uint32_t minor, uint32_t patch) {
  return (major << 16) | (minor << 8) | (patch > 255 ? 255 : patch);
}

}  // namespace vmc
