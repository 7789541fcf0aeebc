#include "collector/cli/vmcore_dmesg.h"

#include <fcntl.h>
#include <unistd.h>

#include <array>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <span>

#include "formats/open_dump.h"

namespace vmc {
namespace {

constexpr size_t kIdentBytes = 16;  // EI_NIDENT
// What the tool adds to every failure past opening the file.
constexpr const char* kUnreadable = "Unable to read ELF information from vmcore\n";

int say(int status, const std::string& text) {
  std::fputs(text.c_str(), stderr);
  return status;
}

}  // namespace

std::optional<int> vmcore_dmesg_precheck(const std::string& argv0, const std::vector<std::string>& args) {
  if (args.size() != 1) return say(1, "usage: " + argv0 + " <kernel core file>\n");
  const std::string& path = args.front();
  int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) return say(2, "Cannot open " + path + ": " + std::strerror(errno) + "\n");
  std::array<std::byte, kIdentBytes> head{};
  ssize_t n = ::pread(fd, head.data(), head.size(), 0);
  int read_errno = errno;
  ::close(fd);
  if (n != static_cast<ssize_t>(head.size())) {
    return say(3, "Read of e_ident from " + path + " failed: " + std::strerror(n < 0 ? read_errno : 0) + "\n" +
                      kUnreadable);
  }
  if (!looks_like_dump(head)) return say(4, std::string("Missing elf signature\n") + kUnreadable);
  return std::nullopt;
}

}  // namespace vmc
