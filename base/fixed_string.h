// Fixed-size character fields as C structs lay them out (struct new_utsname,
// the kdump header's signature): NUL-padded, with no NUL when the text fills
// the field. Shared by the kernel model and the formats, which each read such
// fields from their own layouts.
#pragma once

#include <cstddef>
#include <cstring>
#include <string>

namespace vmc {

// The text of a NUL-padded field (all N bytes when it holds no NUL).
template <size_t N>
std::string nul_padded_string(const char (&field)[N]) {
  return std::string(field, ::strnlen(field, N));
}

}  // namespace vmc
