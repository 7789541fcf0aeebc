// Bounds-checked parsing of untrusted dump bytes. Every offset, count and size
// in a dump is a claim, not a fact: the readers parse headers through these
// helpers, so that a bad value becomes an Error naming the file, what was being
// read and the file offset, never an out-of-bounds read or a huge allocation.
#pragma once

#include <cstddef>
#include <cstdint>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "base/checked_math.h"
#include "base/endian.h"
#include "base/error.h"
#include "base/io.h"

namespace vmc {

inline Error bad_input_at(const std::string& file, uint64_t offset, std::string message) {
  return Error(ErrorKind::kBadInput,
               file + " at offset " + hex(offset) + ": " + std::move(message));
}

// Bytes that came from `file` at file offset `base` (a header block, the
// notes). Positions are relative to the start of the bytes; errors report the
// file offset.
class CheckedBytes {
 public:
  CheckedBytes(std::string file, uint64_t base, std::span<const std::byte> bytes)
      : file_(std::move(file)), base_(base), bytes_(bytes) {}

  uint64_t size() const { return bytes_.size(); }
  uint64_t file_offset(uint64_t pos) const { return base_ + pos; }
  const std::string& file() const { return file_; }
  std::span<const std::byte> all() const { return bytes_; }

  Error error(uint64_t pos, std::string message) const {
    return bad_input_at(file_, file_offset(pos), std::move(message));
  }

  Result<std::span<const std::byte>> span(uint64_t pos, uint64_t length,
                                          std::string_view what) const {
    if (!fits_within(pos, length, bytes_.size())) {
      return error(pos, std::string(what) + " (" + std::to_string(length) +
                            " bytes) extends past the end of its region, which ends at offset " +
                            hex(file_offset(bytes_.size())));
    }
    return bytes_.subspan(static_cast<size_t>(pos), static_cast<size_t>(length));
  }

  template <typename T>
  Result<T> get(uint64_t pos, std::string_view what) const {
    auto s = span(pos, sizeof(T), what);
    if (!s) return std::move(s).error();
    return load<T>(s->data());
  }

 private:
  std::string file_;
  uint64_t base_;
  std::span<const std::byte> bytes_;
};

// Reads [offset, offset + length) of input as `what`, refusing before it
// allocates when the range is not inside the file or longer than max_length.
inline Result<std::vector<std::byte>> read_checked(io::InputFile& input, uint64_t offset,
                                                   uint64_t length, uint64_t max_length,
                                                   std::string_view what) {
  if (length > max_length) {
    return bad_input_at(input.name(), offset,
                        std::string(what) + " claims " + std::to_string(length) +
                            " bytes, more than the " + std::to_string(max_length) +
                            " this reader accepts (corrupt header?)");
  }
  if (!fits_within(offset, length, input.size())) {
    return bad_input_at(input.name(), offset,
                        std::string(what) + " (" + std::to_string(length) +
                            " bytes) lies beyond the end of the file (" +
                            std::to_string(input.size()) + " bytes; truncated?)");
  }
  std::vector<std::byte> out(static_cast<size_t>(length));
  if (length == 0) return out;
  if (auto s = input.read_at(offset, out); !s) {
    return std::move(s).error().add_context("reading " + std::string(what));
  }
  return out;
}

}  // namespace vmc
