// Fixed-width integers with explicit byte order for on-disk layouts. A field
// declared Le64 is 8 little-endian bytes with alignment 1, whatever the host, so
// a layout struct is exactly its file format and can be static_asserted.
#pragma once

#include <bit>
#include <cstdint>
#include <cstring>
#include <type_traits>

namespace vmc {

template <typename T, std::endian E>
class EndianInt {
  static_assert(std::is_integral_v<T>);

 public:
  constexpr EndianInt() = default;
  constexpr EndianInt(T value) { set(value); }  // NOLINT(google-explicit-constructor)
  constexpr operator T() const { return get(); }  // NOLINT(google-explicit-constructor)
  EndianInt& operator=(T value) {
    set(value);
    return *this;
  }

  constexpr T get() const {
    using U = std::make_unsigned_t<T>;
    U v = 0;
    for (size_t i = 0; i < sizeof(T); ++i) {
      size_t shift = (E == std::endian::little ? i : sizeof(T) - 1 - i) * 8;
      v |= static_cast<U>(static_cast<U>(bytes_[i]) << shift);
    }
    return static_cast<T>(v);
  }
  constexpr void set(T value) {
    using U = std::make_unsigned_t<T>;
    U v = static_cast<U>(value);
    for (size_t i = 0; i < sizeof(T); ++i) {
      size_t shift = (E == std::endian::little ? i : sizeof(T) - 1 - i) * 8;
      bytes_[i] = static_cast<uint8_t>(v >> shift);
    }
  }

 private:
  uint8_t bytes_[sizeof(T)] = {};
};

using Le16 = EndianInt<uint16_t, std::endian::little>;
using Le32 = EndianInt<uint32_t, std::endian::little>;
using Le64 = EndianInt<uint64_t, std::endian::little>;
using LeI32 = EndianInt<int32_t, std::endian::little>;
using LeI64 = EndianInt<int64_t, std::endian::little>;
using Be64 = EndianInt<uint64_t, std::endian::big>;
using BeI64 = EndianInt<int64_t, std::endian::big>;

static_assert(sizeof(Le64) == 8 && alignof(Le64) == 1);
static_assert(sizeof(Be64) == 8 && alignof(Be64) == 1);

// Reads a layout struct from bytes (no alignment requirement).
template <typename T>
T load(const void* src) {
  static_assert(std::is_trivially_copyable_v<T>);
  T out;
  std::memcpy(&out, src, sizeof(T));
  return out;
}

}  // namespace vmc
