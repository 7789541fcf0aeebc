// Helpers shared by the compress tests.
#pragma once

#include <cstddef>
#include <span>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "bench/datagen.h"
#include "compress/codec.h"

namespace vmc::compress::testing {

inline constexpr size_t kPage = 4096;
inline constexpr CodecKind kCodecs[] = {CodecKind::kZlib, CodecKind::kLzo, CodecKind::kSnappy, CodecKind::kZstd};

inline std::vector<std::byte> page_of(bench::PageKind kind, uint64_t seed, uint64_t index, size_t size = kPage) {
  std::vector<std::byte> page(size);
  bench::fill_page(page, kind, seed, index);
  return page;
}

// Compresses with a dst of max_compressed_size(); returns the compressed bytes
// (empty when compress() said "store raw").
inline std::vector<std::byte> compress_page(Codec& codec, std::span<const std::byte> page) {
  std::vector<std::byte> out(codec.max_compressed_size(page.size()));
  size_t n = codec.compress(page, out);
  out.resize(n);
  return out;
}

inline std::string codec_param_name(const ::testing::TestParamInfo<CodecKind>& info) {
  return std::string(codec_name(info.param));
}

// Parameterised over the four codecs; a codec this build leaves out is skipped.
class CodecTest : public ::testing::TestWithParam<CodecKind> {
 protected:
  void SetUp() override {
    if (!codec_available(GetParam())) GTEST_SKIP() << codec_name(GetParam()) << " not built in";
    codec_ = make_codec(GetParam());
    ASSERT_NE(codec_, nullptr);
  }
  std::unique_ptr<Codec> codec_;
};

}  // namespace vmc::compress::testing
