// Issue 18, the output side through run(): what the CLI refuses before it
// creates or truncates anything, and what it leaves behind when it fails.
#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>

#include "collector/cli/messages.h"
#include "collector/cli/options.h"
#include "collector/cli/run.h"
#include "tests/builder/dump_builder.h"
#include "tests/builder/test_files.h"

namespace vmc::testing {
namespace {

namespace fs = std::filesystem;

class HostileOutput : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = fs::temp_directory_path() / ("vmc-hostile-output-" + std::to_string(::getpid()));
    fs::remove_all(dir_);
    fs::create_directories(dir_);
  }
  void TearDown() override { fs::remove_all(dir_); }

  std::string path(const std::string& name) const { return (dir_ / name).string(); }

  // An ELF vmcore of a small machine, plus one page at high_paddr when non-zero.
  std::string write_vmcore(const std::string& name, uint64_t high_paddr = 0) const {
    DumpBuilder b;
    b.add_ram(0, 64 << 10, 0xffff888000000000ull);
    if (high_paddr != 0) b.add_ram(high_paddr, 4096);
    b.set_vmcoreinfo("OSRELEASE=6.1.0-hostile\nPAGESIZE=4096\n");
    for (uint64_t pfn = 0; pfn < 16; ++pfn) b.fill_page(pfn, PageFill::kText, pfn);
    auto bytes = b.build_elf();
    std::ofstream(path(name), std::ios::binary)
        .write(reinterpret_cast<const char*>(bytes.data()), static_cast<std::streamsize>(bytes.size()));
    return path(name);
  }

  static int run_args(std::vector<std::string> args) {
    args.insert(args.begin(), {"--message-level", "0"});
    auto options = parse_options("vmcollect", args);
    EXPECT_TRUE(options.ok()) << options.error().describe();
    return options.ok() ? run(*options, nullptr) : -1;
  }

  fs::path dir_;
};

// Item 5: a PT_LOAD at 2^41 asked for 128 MiB of bitmaps (2^46: 4 GiB,
// fallocated) for 17 pages, and the run exited 0.
TEST_F(HostileOutput, BitmapsFarBeyondTheMemoryAreRefusedBeforeTheFileIsCreated) {
  auto vmcore = write_vmcore("vmcore", uint64_t{1} << 41);
  EXPECT_EQ(run_args({"-l", "-d", "0", vmcore, path("out")}), kExitFailed);
  EXPECT_FALSE(fs::exists(path("out")));
  EXPECT_EQ(run_args({"--split", "-l", "-d", "0", vmcore, path("s1"), path("s2")}), kExitFailed);
  EXPECT_FALSE(fs::exists(path("s1")));
  // A machine of the same size without the far page is written as before.
  EXPECT_EQ(run_args({"-l", "-d", "0", write_vmcore("small"), path("out")}), kExitCompleted);
}

// Item 6: an output that is an input was truncated before it was read.
TEST_F(HostileOutput, AnOutputThatIsAnInputIsRefusedInEveryModeAndLeftIntact) {
  auto vmcore = write_vmcore("vmcore");
  const std::string original = read_whole_file(vmcore);
  ASSERT_EQ(run_args({"-l", "-d", "1", vmcore, path("a.kdump")}), kExitCompleted);
  const std::string kdump = read_whole_file(path("a.kdump"));
  EXPECT_EQ(run_args({"-f", "-l", "-d", "1", vmcore, vmcore}), kExitFailed);
  EXPECT_EQ(run_args({"-f", "-E", "-d", "1", vmcore, path("./vmcore")}), kExitFailed);
  EXPECT_EQ(run_args({"-f", "-l", "-d", "1", path("a.kdump"), path("a.kdump")}), kExitFailed);
  EXPECT_EQ(run_args({"-f", "--split", "-d", "1", vmcore, path("s1"), vmcore}), kExitFailed);
  EXPECT_EQ(run_args({"-f", "--reassemble", path("a.kdump"), path("a.kdump"), path("a.kdump")}), kExitFailed);
  EXPECT_EQ(run_args({"-f", "-i", vmcore, "-l", "-d", "1", path("a.kdump"), vmcore}), kExitFailed);
  EXPECT_EQ(read_whole_file(vmcore), original);
  EXPECT_EQ(read_whole_file(path("a.kdump")), kdump);
  EXPECT_FALSE(fs::exists(path("s1")));
  // --split s1 s1 wrote both parts into one file.
  EXPECT_EQ(run_args({"--split", "-d", "1", vmcore, path("s1"), path("./s1")}), kExitFailed);
  EXPECT_FALSE(fs::exists(path("s1")));
}

// Item 12: a --split whose later part cannot be created left the earlier
// parts behind, empty.
TEST_F(HostileOutput, AFailedSplitLeavesNoEmptyParts) {
  auto vmcore = write_vmcore("vmcore");
  EXPECT_EQ(run_args({"--split", "-d", "1", vmcore, path("s1"), path("no-such-dir/s2")}), kExitFailed);
  EXPECT_FALSE(fs::exists(path("s1")));
}

// Item 12: control bytes from the dump or the -i file reached the terminal.
TEST(Messages, ControlBytesAreEscaped) {
  EXPECT_EQ(escape_control_bytes("release 6.1\x1b]0;owned\x07\r\x7f\n\tok"),
            "release 6.1\\x1b]0;owned\\x07\\x0d\\x7f\n\tok");
  EXPECT_EQ(escape_control_bytes("caf\xc3\xa9"), "caf\xc3\xa9");  // UTF-8 is text
}

}  // namespace
}  // namespace vmc::testing
