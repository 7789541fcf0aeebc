// classify() as a table: one row per kind of page and dump level, with
// makedumpfile's precedence (tail, free, cache, private cache, user, hwpoison,
// offline) and the guards that only ever keep pages.
#include <gtest/gtest.h>

#include "vmcoreinfo/pages/page_classify.h"

namespace vmc {
namespace {

using R = ExcludeReason;

PageInfo make(std::initializer_list<bool PageInfo::*> facts) {
  PageInfo p;
  for (auto f : facts) p.*f = true;
  return p;
}

struct Row {
  const char* what;
  PageInfo page;
  int level;
  std::optional<R> reason;
  uint8_t order = 0;
};

TEST(Classify, Table) {
  PageInfo buddy3 = make({&PageInfo::buddy});
  buddy3.buddy_order = 3;
  PageInfo thp = make({&PageInfo::anon, &PageInfo::lru});
  thp.compound_order = 9;
  PageInfo folio = make({&PageInfo::lru});
  folio.compound_order = 4;
  PageInfo huge = make({&PageInfo::hugetlb});
  huge.compound_order = 9;
  PageInfo unacc = make({&PageInfo::unaccepted});
  unacc.unaccepted_order = 10;
  PageInfo poisoned_huge = make({&PageInfo::hugetlb, &PageInfo::hwpoison});
  poisoned_huge.compound_order = 9;

  const Row rows[] = {
      {"plain kernel page", {}, 31, std::nullopt},
      {"tail page", make({&PageInfo::tail, &PageInfo::anon, &PageInfo::lru}), 31, std::nullopt},
      {"free block", buddy3, 16, R::kFree, 3},
      {"free block, level without 16", buddy3, 15, std::nullopt},
      {"unaccepted block", unacc, 16, R::kFree, 10},
      {"unaccepted, level 8", unacc, 8, std::nullopt},
      {"file cache", make({&PageInfo::lru}), 2, R::kCache},
      {"file cache at 4", make({&PageInfo::lru}), 4, R::kCache},
      {"file cache at 8|16", make({&PageInfo::lru}), 24, std::nullopt},
      {"large folio of cache", folio, 2, R::kCache, 4},
      {"swap cache", make({&PageInfo::swapcache}), 2, R::kCache},
      {"private cache at 2", make({&PageInfo::lru, &PageInfo::private_data}), 2, std::nullopt},
      {"private cache at 4", make({&PageInfo::lru, &PageInfo::private_data}), 4, R::kCachePrivate},
      {"private cache at 6", make({&PageInfo::lru, &PageInfo::private_data}), 6, R::kCachePrivate},
      {"anon on the LRU at 2", make({&PageInfo::lru, &PageInfo::anon}), 6, std::nullopt},
      {"anon on the LRU at 8", make({&PageInfo::lru, &PageInfo::anon}), 8, R::kUser},
      {"anon at 31", make({&PageInfo::lru, &PageInfo::anon}), 31, R::kUser},
      {"anon THP", thp, 8, R::kUser, 9},
      {"anon swap cache at 2", make({&PageInfo::swapcache, &PageInfo::anon}), 2, std::nullopt},
      {"anon swap cache at 8", make({&PageInfo::swapcache, &PageInfo::anon}), 8, R::kUser},
      {"hugetlb", huge, 8, R::kUser, 9},
      {"hugetlb at 23", huge, 23, std::nullopt},
      {"slab with odd mapping", make({&PageInfo::slab, &PageInfo::anon}), 31, std::nullopt},
      {"slab looking free", make({&PageInfo::slab, &PageInfo::buddy}), 31, std::nullopt},
      {"slab looking offline", make({&PageInfo::slab, &PageInfo::offline}), 31, std::nullopt},
      {"slab with PG_lru garbage", make({&PageInfo::slab, &PageInfo::lru}), 31, std::nullopt},
      {"slab, hwpoisoned", make({&PageInfo::slab, &PageInfo::hwpoison}), 31, R::kHwpoison},
      {"page table (other type)", make({&PageInfo::other_type, &PageInfo::anon}), 31, std::nullopt},
      {"other type, hwpoison", make({&PageInfo::other_type, &PageInfo::hwpoison}), 31, std::nullopt},
      {"hwpoison at 0 bits of mem_map levels", make({&PageInfo::hwpoison}), 1, R::kHwpoison},
      {"hwpoison at 31", make({&PageInfo::hwpoison}), 31, R::kHwpoison},
      {"hwpoison hugetlb kept at 23: whole page", poisoned_huge, 23, R::kHwpoison, 9},
      {"hwpoison anon at 8 is user", make({&PageInfo::hwpoison, &PageInfo::anon}), 8, R::kUser},
      {"offline", make({&PageInfo::offline}), 2, R::kOffline},
      {"offline at 31", make({&PageInfo::offline}), 31, R::kOffline},
      {"free wins over cache flags", make({&PageInfo::buddy, &PageInfo::lru}), 18, R::kFree},
      {"cache wins over user at 10", make({&PageInfo::lru}), 10, R::kCache},
  };
  for (const auto& r : rows) {
    Verdict v = classify(r.page, r.level);
    EXPECT_EQ(v.reason, r.reason) << r.what;
    if (r.reason) {
      EXPECT_EQ(v.order, r.order) << r.what;
    }
  }
}

TEST(Classify, ReasonNames) {
  EXPECT_STREQ(exclude_reason_name(R::kFree), "free");
  EXPECT_STREQ(exclude_reason_name(R::kCachePrivate), "cache private");
}

}  // namespace
}  // namespace vmc
