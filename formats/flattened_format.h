// makedumpfile's flattened format: a kdump-compressed (or ELF) file sent down a
// pipe as records "write these bytes at this offset". `-R` replays the records
// into a seekable file. All integers are big-endian.
//
//   FlatHeader, zero-padded to kFlatHeaderSize bytes
//   { FlatRecordHeader, buf_size bytes of data } ...
//   FlatRecordHeader with offset = buf_size = -1 (end marker)
#pragma once

#include <cstddef>
#include <cstdint>

#include "base/endian.h"

namespace vmc::flat {

inline constexpr char kSignature[] = "makedumpfile";  // 12 chars, padded to 16
inline constexpr int64_t kTypeFlat = 1;
inline constexpr int64_t kVersionFlat = 1;
inline constexpr size_t kFlatHeaderSize = 4096;
inline constexpr int64_t kEndFlag = -1;

struct FlatHeader {
  char signature[16];
  BeI64 type;
  BeI64 version;
};
static_assert(sizeof(FlatHeader) == 32);

struct FlatRecordHeader {
  BeI64 offset;
  BeI64 buf_size;
};
static_assert(sizeof(FlatRecordHeader) == 16);

}  // namespace vmc::flat
