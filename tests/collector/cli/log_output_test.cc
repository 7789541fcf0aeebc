// --dump-dmesg's output file: created 0600, never replaced unless -f.
#include <gtest/gtest.h>
#include <unistd.h>

#include "collector/cli/log_output.h"
#include "tests/builder/test_files.h"

namespace vmc {
namespace {

TEST(DmesgWrite, WritesAFileAndRefusesToOverwriteUnlessAsked) {
  char dir[] = "/tmp/vmc-dmesg-write-XXXXXX";
  ASSERT_NE(::mkdtemp(dir), nullptr);
  std::string path = std::string(dir) + "/dmesg.txt";
  DmesgResult result{.text = std::string("[    0.000000] a\0b\n", 19), .warnings = {}};
  ASSERT_TRUE(write_dmesg(result, path).ok());
  EXPECT_EQ(testing::read_whole_file(path), result.text);

  DmesgResult other{.text = "[    1.000000] other\n", .warnings = {}};
  Status again = write_dmesg(other, path);
  EXPECT_FALSE(again.ok());
  EXPECT_EQ(testing::read_whole_file(path), result.text);
  ASSERT_TRUE(write_dmesg(other, path, /*overwrite=*/true).ok());
  EXPECT_EQ(testing::read_whole_file(path), other.text);
  ::unlink(path.c_str());
  ::rmdir(dir);
}

}  // namespace
}  // namespace vmc
