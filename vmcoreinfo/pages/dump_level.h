// The words the page rules speak: makedumpfile's dump level bits and the
// reasons a page is left out, counted per reason. Shared by the policy
// (page_classify.h), the filter (page_filter.h) and the engine's report.
#pragma once

#include <cstddef>
#include <cstdint>
#include <iterator>

namespace vmc {

// makedumpfile's dump level bits (-d).
inline constexpr int kDumpLevelZero = 1;
inline constexpr int kDumpLevelCache = 2;         // non-private page cache
inline constexpr int kDumpLevelCachePrivate = 4;  // page cache with private data
inline constexpr int kDumpLevelUser = 8;          // user (anonymous) data
inline constexpr int kDumpLevelFree = 16;         // free (buddy) pages
inline constexpr int kDumpLevelMax = 31;

// Why a page was left out; counted per reason for makedumpfile's statistics.
enum class ExcludeReason : uint8_t {
  kZero,
  kCache,
  kCachePrivate,
  kUser,
  kFree,
  kHwpoison,
  kOffline,
  kUnreadable,  // the input could not be read (EIO); reported, not a filter decision
  kCount,
};

struct FilterStats {
  uint64_t excluded[static_cast<size_t>(ExcludeReason::kCount)] = {};
  uint64_t& operator[](ExcludeReason r) { return excluded[static_cast<size_t>(r)]; }
  uint64_t operator[](ExcludeReason r) const { return excluded[static_cast<size_t>(r)]; }
  void merge(const FilterStats& other) {
    for (size_t i = 0; i < std::size(excluded); ++i) excluded[i] += other.excluded[i];
  }
};

}  // namespace vmc
