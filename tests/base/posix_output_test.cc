// io::create_output on a real file: writes at any offset, gathered or not,
// land where they were asked to, past several of the writeback hints the
// output gives every few MiB, and the file is 0600 and complete after finish().
#include "base/io.h"

#include <fcntl.h>
#include <gtest/gtest.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <unistd.h>

#include <filesystem>

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
  void TearDown() override { std::filesystem::remove_all(dir_); }
  void write_text(const std::string& path, const std::string& text, mode_t mode) {
    std::ofstream(path) << text;
    ASSERT_EQ(::chmod(path.c_str(), mode), 0);
  }
  static struct stat lstat_of(const std::string& path) {
    struct stat st {};
    EXPECT_EQ(::lstat(path.c_str(), &st), 0) << path;
    return st;
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

// Issue 18 item 4: -f opened a device and fchmod'ed it to 0600.
TEST_F(PosixOutputTest, RefusesACharacterDeviceAndLeavesItsModeAlone) {
  ASSERT_EQ(::mknod(path_.c_str(), S_IFCHR | 0644, ::makedev(1, 3)), 0);  // /dev/null's numbers
  auto out = create_output(path_, {.overwrite = true});
  ASSERT_FALSE(out);
  EXPECT_NE(out.error().message().find("is a character device"), std::string::npos) << out.error().message();
  EXPECT_EQ(lstat_of(path_).st_mode, S_IFCHR | 0644);
}

// Issue 18 items 4 and 12: a directory was "already exists (use -f)".
TEST_F(PosixOutputTest, NamesADirectoryAsSuch) {
  ASSERT_EQ(::mkdir(path_.c_str(), 0755), 0);
  for (bool overwrite : {false, true}) {
    auto out = create_output(path_, {.overwrite = overwrite});
    ASSERT_FALSE(out);
    EXPECT_NE(out.error().message().find("is a directory"), std::string::npos) << out.error().message();
    EXPECT_EQ(out.error().message().find("already exists"), std::string::npos) << out.error().message();
  }
}

// Issue 18 item 4: with a symlink as DUMPFILE, -f truncated (and chmod'ed) the target.
TEST_F(PosixOutputTest, OverwriteReplacesASymlinkNotItsTarget) {
  const std::string target = dir_ + "/target";
  write_text(target, "keep", 0644);
  ASSERT_EQ(::symlink(target.c_str(), path_.c_str()), 0);
  EXPECT_FALSE(create_output(path_));  // still "already exists" without -f
  auto out = create_output(path_, {.overwrite = true});
  ASSERT_TRUE(out) << out.error().describe();
  ASSERT_TRUE((*out)->write_at(0, pattern(10, 3)));
  ASSERT_TRUE((*out)->finish());
  EXPECT_EQ(read_file(target).size(), 4u);
  EXPECT_EQ(lstat_of(target).st_mode & 07777, 0644u);
  EXPECT_TRUE(S_ISREG(lstat_of(path_).st_mode));
  EXPECT_EQ(lstat_of(path_).st_mode & 07777, 0600u);
  EXPECT_EQ(read_file(path_), pattern(10, 3));
}

// -f makes a new 0600 file rather than truncating and chmod'ing the old one,
// whose other hard links keep their data and mode.
TEST_F(PosixOutputTest, OverwriteCreatesANewFileAndLeavesOtherHardLinksAlone) {
  const std::string other_link = dir_ + "/other";
  write_text(path_, "old dump", 0644);
  ASSERT_EQ(::link(path_.c_str(), other_link.c_str()), 0);
  auto out = create_output(path_, {.overwrite = true});
  ASSERT_TRUE(out) << out.error().describe();
  ASSERT_TRUE((*out)->finish());
  EXPECT_NE(lstat_of(path_).st_ino, lstat_of(other_link).st_ino);
  EXPECT_EQ(lstat_of(path_).st_mode & 07777, 0600u);
  EXPECT_EQ(lstat_of(other_link).st_mode & 07777, 0644u);
  EXPECT_EQ(read_file(other_link).size(), 8u);
}

// A FIFO is written as it is: not truncated, not chmod'ed, never removed.
TEST_F(PosixOutputTest, WritesAFifoAsItIsAndAbandonLeavesIt) {
  ASSERT_EQ(::mkfifo(path_.c_str(), 0640), 0);
  int reader = ::open(path_.c_str(), O_RDONLY | O_NONBLOCK);
  ASSERT_GE(reader, 0);
  auto out = create_output(path_);
  ASSERT_TRUE(out) << out.error().describe();
  EXPECT_FALSE((*out)->seekable());
  auto sought = (*out)->write_at(5, pattern(1, 1));
  ASSERT_FALSE(sought);
  EXPECT_NE(sought.error().message().find("(a pipe)"), std::string::npos) << sought.error().message();
  (*out)->abandon();
  ::close(reader);
  EXPECT_TRUE(S_ISFIFO(lstat_of(path_).st_mode));
  EXPECT_EQ(lstat_of(path_).st_mode & 07777, 0640u);
}

// A link to a pipe (/dev/stdout) is the pipe: -f writes into it rather
// than unlinking a /dev entry.
TEST_F(PosixOutputTest, OverwriteWritesThroughASymlinkToAFifo) {
  const std::string fifo = dir_ + "/fifo";
  ASSERT_EQ(::mkfifo(fifo.c_str(), 0640), 0);
  ASSERT_EQ(::symlink(fifo.c_str(), path_.c_str()), 0);
  int reader = ::open(fifo.c_str(), O_RDONLY | O_NONBLOCK);
  ASSERT_GE(reader, 0);
  auto out = create_output(path_, {.overwrite = true});
  ASSERT_TRUE(out) << out.error().describe();
  ASSERT_TRUE((*out)->write_at(0, pattern(3, 1)));
  (*out)->abandon();
  char got[3];
  EXPECT_EQ(::read(reader, got, sizeof got), 3);
  ::close(reader);
  EXPECT_TRUE(S_ISLNK(lstat_of(path_).st_mode));
}

// Issue 18 item 12: a failed run left a 0-byte DUMPFILE behind.
TEST_F(PosixOutputTest, AbandonRemovesTheFileItCreatedAndNothingElse) {
  auto out = create_output(path_);
  ASSERT_TRUE(out);
  (*out)->abandon();
  EXPECT_FALSE(std::filesystem::exists(path_));

  // Replaced since it was created (by another run, say): not ours to remove.
  auto again = create_output(path_);
  ASSERT_TRUE(again);
  ASSERT_EQ(::unlink(path_.c_str()), 0);
  write_text(path_, "someone else's", 0644);
  (*again)->abandon();
  EXPECT_EQ(read_file(path_).size(), 14u);
}

// Issue 18 item 6: an output that is an input, or another output, destroyed it.
TEST_F(PosixOutputTest, RefusesAnOutputThatIsAnInputOrAnotherOutput) {
  const std::string input = dir_ + "/vmcore", hard_link = dir_ + "/same";
  write_text(input, "dump", 0600);
  ASSERT_EQ(::link(input.c_str(), hard_link.c_str()), 0);
  EXPECT_TRUE(refuse_shared_files({input}, {path_}));
  auto as_input = refuse_shared_files({input}, {dir_ + "/./vmcore"});
  ASSERT_FALSE(as_input);
  EXPECT_NE(as_input.error().message().find("is the same file as the input " + input), std::string::npos)
      << as_input.error().message();
  EXPECT_FALSE(refuse_shared_files({input}, {hard_link}));
  // Two names of one file that does not exist yet.
  auto twice = refuse_shared_files({input}, {path_, dir_ + "/../" +
                                                         std::filesystem::path(dir_).filename().string() + "/dump"});
  ASSERT_FALSE(twice);
  EXPECT_NE(twice.error().message().find("are the same file"), std::string::npos) << twice.error().message();
}

// Issue 18 item 12: a FIFO as VMCORE was "empty" (and open() waited for a writer).
TEST_F(PosixOutputTest, RefusesAFifoAsInputWithoutWaitingForAWriter) {
  ASSERT_EQ(::mkfifo(path_.c_str(), 0600), 0);
  auto in = open_input(path_);
  ASSERT_FALSE(in);
  EXPECT_NE(in.error().message().find("is a pipe"), std::string::npos) << in.error().message();
}

}  // namespace
}  // namespace vmc::io
