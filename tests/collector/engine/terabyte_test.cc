// The synthetic terabyte dump, small (8 GiB of RAM, a few MiB of data): the
// file stays sparse, and filter and engine find exactly the free, user and
// cache pages it describes and store exactly its non-zero kept pages. The
// same generator makes the 1 TiB dump of bench/tib.sh.
#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>

#include "collector/engine/engine.h"
#include "formats/dump_writer.h"
#include "formats/elf_core_reader.h"
#include "tests/builder/tib_dump.h"
#include "vmcoreinfo/pages/page_filter.h"
#include "vmcoreinfo/table/vmcoreinfo.h"

namespace vmc::testing {
namespace {

constexpr uint64_t kMiB = uint64_t{1} << 20;

// One dump for the suite: generating it is most of the test's time.
class TibDump : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    path_ = ::testing::TempDir() + "/tib-test-" + std::to_string(::getpid()) + ".vmcore";
    TibSpec spec;
    spec.ram_bytes = uint64_t{8} << 30;
    spec.kernel_data_bytes = 8 * kMiB;
    spec.user_bytes = 4 * kMiB;
    spec.cache_bytes = 4 * kMiB;
    auto c = write_tib_dump(spec, path_);
    if (!c.ok()) {
      error_ = c.error().describe();
      return;
    }
    counts_ = *c;
  }
  static void TearDownTestSuite() { ::unlink(path_.c_str()); }

  void SetUp() override {
    ASSERT_TRUE(error_.empty()) << error_;
    auto in = io::open_input(path_);
    ASSERT_TRUE(in.ok());
    auto m = open_elf_core(std::move(*in));
    ASSERT_TRUE(m.ok()) << m.error().describe();
    memory_ = std::move(*m);
    auto info = VmcoreInfo::parse(memory_->metadata().vmcoreinfo);
    ASSERT_TRUE(info.ok()) << info.error().describe();
    auto f = make_page_filter(*memory_, *info, 31);
    ASSERT_TRUE(f.ok()) << f.error().describe();
    filter_ = std::move(*f);
  }

  static inline std::string path_;
  static inline std::string error_;
  static inline TibCounts counts_;
  std::unique_ptr<PhysicalMemory> memory_;
  std::unique_ptr<PageFilter> filter_;
};

TEST_F(TibDump, FileIsSparse) {
  struct stat st {};
  ASSERT_EQ(::stat(path_.c_str(), &st), 0);
  EXPECT_GT(static_cast<uint64_t>(st.st_size), uint64_t{8} << 30);
  // Data: 4 KiB per stored page, plus file system slack.
  EXPECT_LT(static_cast<uint64_t>(st.st_blocks) * 512, counts_.stored_pages * 4096 + 16 * kMiB);
  EXPECT_GT(counts_.free_pages, counts_.ram_pages * 3 / 4);  // 98 % at 1 TiB, less when small
}

TEST_F(TibDump, FilterFindsWhatWasDescribed) {
  FilterStats stats;
  const uint64_t slice = uint64_t{1} << 15;
  for (uint64_t s = 0; s < memory_->max_pfn(); s += slice) {
    uint64_t e = std::min(memory_->max_pfn(), s + slice);
    std::vector<uint64_t> bits((e - s + 63) / 64, 0);
    memory_->available(s, e, bits);
    filter_->filter(s, e, bits, stats);
  }
  EXPECT_EQ(stats[ExcludeReason::kFree], counts_.free_pages);
  EXPECT_EQ(stats[ExcludeReason::kUser], counts_.user_pages);
  EXPECT_EQ(stats[ExcludeReason::kCache] + stats[ExcludeReason::kCachePrivate], counts_.cache_pages);
}

TEST_F(TibDump, EngineStoresTheNonZeroKeptPages) {
  auto out = io::memory_output();
  DumpHeaderInfo h;
  h.max_pfn = memory_->max_pfn();
  h.codec = compress::CodecKind::kZstd;
  h.dump_level = 31;
  WriterFactory factory = [&](const DumpPlan& plan) -> Result<std::unique_ptr<DumpWriter>> {
    h.max_dumped_pages = plan.pages;
    return make_kdump_writer(*out, h);
  };
  CollectOptions o;
  o.codec = compress::CodecKind::kZstd;
  o.dump_level = 31;
  o.threads = 2;
  auto r = collect(*memory_, filter_.get(), factory, o);
  ASSERT_TRUE(r.ok()) << r.error().describe();
  EXPECT_FALSE(r->incomplete);
  EXPECT_EQ(r->excluded[ExcludeReason::kFree], counts_.free_pages);
  // Zero pages stay in the bitmap, sharing one stored zero page (as makedumpfile).
  EXPECT_EQ(r->dumped_pages - r->excluded[ExcludeReason::kZero], counts_.kept_data_pages);
  EXPECT_EQ(r->dumped_pages + r->excluded[ExcludeReason::kFree] +
                r->excluded[ExcludeReason::kUser] + r->excluded[ExcludeReason::kCache] +
                r->excluded[ExcludeReason::kCachePrivate],
            counts_.ram_pages);
}

}  // namespace
}  // namespace vmc::testing
