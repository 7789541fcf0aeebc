// Sorted, disjoint pfn ranges: what the readers keep for RAM, missing and
// available pages, and the few operations on them they need. Lookups are
// binary searches, so a reader answers "is this chunk readable" in O(log n).
#pragma once

#include <algorithm>
#include <cstdint>
#include <optional>
#include <span>
#include <vector>

#include "base/bitmap.h"
#include "base/physical_memory.h"

namespace vmc {

// Appends r to ranges whose starts are non-decreasing, merging overlapping or
// touching ranges.
inline void append_range(std::vector<PfnRange>& ranges, PfnRange r) {
  if (r.end <= r.start) return;
  if (!ranges.empty() && r.start <= ranges.back().end) {
    ranges.back().end = std::max(ranges.back().end, r.end);
    return;
  }
  ranges.push_back(r);
}

inline std::vector<PfnRange> normalize_ranges(std::vector<PfnRange> ranges) {
  std::sort(ranges.begin(), ranges.end(),
            [](const PfnRange& a, const PfnRange& b) { return a.start < b.start; });
  std::vector<PfnRange> out;
  for (const auto& r : ranges) append_range(out, r);
  return out;
}

// a minus b (both sorted and disjoint).
inline std::vector<PfnRange> subtract_ranges(const std::vector<PfnRange>& a,
                                             const std::vector<PfnRange>& b) {
  std::vector<PfnRange> out;
  size_t j = 0;
  for (PfnRange r : a) {
    while (j < b.size() && b[j].end <= r.start) ++j;
    size_t k = j;
    while (r.start < r.end && k < b.size() && b[k].start < r.end) {
      if (b[k].start > r.start) out.push_back({r.start, b[k].start});
      r.start = std::max(r.start, b[k].end);
      ++k;
    }
    if (r.start < r.end) out.push_back(r);
  }
  return out;
}

// The range containing pfn, or the first one after it.
inline std::vector<PfnRange>::const_iterator range_at_or_after(const std::vector<PfnRange>& ranges,
                                                               uint64_t pfn) {
  return std::upper_bound(ranges.begin(), ranges.end(), pfn,
                          [](uint64_t p, const PfnRange& r) { return p < r.end; });
}

// The first pfn of [start, end) that no range covers.
inline std::optional<uint64_t> first_uncovered(const std::vector<PfnRange>& ranges, uint64_t start,
                                               uint64_t end) {
  if (start >= end) return std::nullopt;
  auto it = range_at_or_after(ranges, start);
  if (it == ranges.end() || it->start > start) return start;
  return it->end >= end ? std::nullopt : std::optional<uint64_t>(it->end);
}

// The first pfn of [start, end) that a range covers.
inline std::optional<uint64_t> first_covered(const std::vector<PfnRange>& ranges, uint64_t start,
                                             uint64_t end) {
  auto it = range_at_or_after(ranges, start);
  if (it == ranges.end() || it->start >= end) return std::nullopt;
  return std::max(start, it->start);
}

// Sets bit (pfn - start) for each pfn of [start, end) inside ranges.
inline void set_range_bits(const std::vector<PfnRange>& ranges, uint64_t start, uint64_t end,
                           std::span<uint64_t> bits) {
  for (auto it = range_at_or_after(ranges, start); it != ranges.end() && it->start < end; ++it) {
    set_bit_range(bits, std::max(start, it->start) - start, std::min(end, it->end) - start);
  }
}

}  // namespace vmc
