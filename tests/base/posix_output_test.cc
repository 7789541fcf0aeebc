// io::create_output on a real file: writes at any offset, gathered or not,
// land where they were asked to, past several of the writeback hints the
// output gives every few MiB, and the file is 0600 and complete after finish().
#include "base/io.h"

#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cstdint>
#include <cstdlib>
#include <fstream>
#include <iterator>
#include <string>
#include <vector>

namespace vmc::io {
namespace {

std::vector<std::byte> pattern(size_t size, uint8_t seed) {
  std::vector<std::byte> bytes(size);
  for (size_t i = 0; i < size; ++i) bytes[i] = std::byte(static_cast<uint8_t>(i * 131 + seed));
  return bytes;
}

std::vector<std::byte> read_file(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::vector<char> chars{std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
  std::vector<std::byte> bytes(chars.size());
  for (size_t i = 0; i < chars.size(); ++i) bytes[i] = std::byte(static_cast<uint8_t>(chars[i]));
  return bytes;
}

class PosixOutputTest : public ::testing::Test {
 protected:
  void SetUp() override {
    char dir[] = "/tmp/vmc-output-XXXXXX";
    ASSERT_NE(::mkdtemp(dir), nullptr);
    dir_ = dir;
    path_ = dir_ + "/dump";
  }
  void TearDown() override {
    ::unlink(path_.c_str());
    ::rmdir(dir_.c_str());
  }
  std::string dir_, path_;
};

TEST_F(PosixOutputTest, OutOfOrderAndGatheredWritesPastSeveralWritebackStepsLandInPlace) {
  constexpr size_t kHeader = 4096, kBody = 20 << 20;  // body: several 8 MiB steps
  auto header = pattern(kHeader, 1);
  auto body = pattern(kBody, 2);
  auto out = create_output(path_);
  ASSERT_TRUE(out) << out.error().message();
  auto& file = **out;
  ASSERT_TRUE(file.seekable());
  ASSERT_TRUE(file.write_at(0, std::vector<std::byte>(kHeader)));  // placeholder, as writers do
  // The body in 1 MiB gathers of three pieces each.
  for (size_t at = 0; at < kBody; at += 1 << 20) {
    std::span<const std::byte> mib(body.data() + at, 1 << 20);
    std::span<const std::byte> pieces[] = {mib.first(100), mib.subspan(100, 5000), mib.subspan(5100)};
    ASSERT_TRUE(file.write_gather(kHeader + at, pieces));
  }
  ASSERT_TRUE(file.write_at(0, header));  // the header rewritten last
  EXPECT_EQ(file.bytes_written(), kHeader + kBody);
  ASSERT_TRUE(file.finish());

  auto on_disk = read_file(path_);
  ASSERT_EQ(on_disk.size(), kHeader + kBody);
  EXPECT_TRUE(std::equal(header.begin(), header.end(), on_disk.begin()));
  EXPECT_TRUE(std::equal(body.begin(), body.end(), on_disk.begin() + kHeader));
  struct stat st {};
  ASSERT_EQ(::stat(path_.c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0600u);
}

TEST_F(PosixOutputTest, RefusesAnExistingFileUnlessOverwriting) {
  ASSERT_TRUE(create_output(path_).value()->finish());
  EXPECT_FALSE(create_output(path_));
  auto again = create_output(path_, {.overwrite = true});
  ASSERT_TRUE(again);
  EXPECT_TRUE((*again)->finish());
}

}  // namespace
}  // namespace vmc::io
