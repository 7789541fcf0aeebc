#include "base/error.h"

#include <cstdio>
#include <cstring>

namespace vmc {

std::string Error::describe() const {
  std::string out;
  for (const auto& c : context_) {
    out += c;
    out += ": ";
  }
  out += message_;
  if (errno_ != 0) {
    out += ": ";
    out += std::strerror(errno_);
  }
  return out;
}

Error errno_error(std::string message, int sys_errno) {
  ErrorKind kind = ErrorKind::kIo;
  if (sys_errno == ENOSPC || sys_errno == EDQUOT) kind = ErrorKind::kNoSpace;
  if (sys_errno == EINTR) kind = ErrorKind::kInterrupted;
  return Error(kind, std::move(message), sys_errno);
}

std::string hex(uint64_t value) {
  char buf[24];
  std::snprintf(buf, sizeof buf, "0x%llx", static_cast<unsigned long long>(value));
  return buf;
}

}  // namespace vmc
