// io::open_input on a real file that changes under it: a view of a range the
// file no longer holds is an error, never a mapping that kills the process
// with SIGBUS when touched.
#include "base/io.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <cstdlib>
#include <string>
#include <vector>

namespace vmc::io {
namespace {

TEST(PosixInput, ViewPastTheEndOfAFileThatShrankIsAnErrorNotSigbus) {
  char path[] = "/tmp/vmc-input-XXXXXX";
  int fd = ::mkstemp(path);
  ASSERT_GE(fd, 0);
  std::vector<std::byte> bytes(64 * 4096, std::byte{0x5a});
  ASSERT_EQ(::write(fd, bytes.data(), bytes.size()), static_cast<ssize_t>(bytes.size()));
  auto in = open_input(path);
  ASSERT_TRUE(in.ok()) << in.error().describe();
  ASSERT_EQ(::ftruncate(fd, 8 * 4096), 0);
  ::close(fd);
  auto gone = (*in)->view(32 * 4096, 4 * 4096);
  ASSERT_FALSE(gone.ok());  // before: a mapping whose first byte raised SIGBUS
  EXPECT_NE(gone.error().describe().find(path), std::string::npos) << gone.error().describe();
  auto kept = (*in)->view(4096, 4096);
  ASSERT_TRUE(kept.ok()) << kept.error().describe();
  EXPECT_EQ(kept->bytes()[0], std::byte{0x5a});
  ::unlink(path);
}

}  // namespace
}  // namespace vmc::io
