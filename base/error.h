// Errors as values. Every layer adds what it knows (file, offset, pfn) to the
// context chain; only the CLI prints and maps to an exit code. C++20 has no
// std::expected, so Result<T> is a small variant of a value or an Error.
#pragma once

#include <cerrno>
#include <cstdint>
#include <string>
#include <utility>
#include <variant>
#include <vector>

namespace vmc {

// What went wrong, in categories the CLI maps to makedumpfile's exit codes and
// that tests can assert on without parsing text.
enum class ErrorKind : uint8_t {
  kInvalidArgument,  // the command line or an option value
  kBadInput,         // the dump is corrupt, truncated or not what it claims
  kUnsupported,      // valid input we cannot handle (kernel, format variant)
  kIo,               // a read or write failed (errno says why)
  kNoSpace,          // ENOSPC / EDQUOT while writing
  kInterrupted,      // SIGINT / SIGTERM
  kMismatch,         // VMCOREINFO release mismatch (-i): exit code 2
};

class Error {
 public:
  Error(ErrorKind kind, std::string message, int sys_errno = 0)
      : kind_(kind), message_(std::move(message)), errno_(sys_errno) {}

  ErrorKind kind() const { return kind_; }
  int sys_errno() const { return errno_; }
  const std::string& message() const { return message_; }
  // Outermost first, e.g. {"writing /var/crash/vmcore", "page data at offset 0x1000"}.
  const std::vector<std::string>& context() const { return context_; }

  Error& add_context(std::string what) & {
    context_.insert(context_.begin(), std::move(what));
    return *this;
  }
  Error&& add_context(std::string what) && {
    context_.insert(context_.begin(), std::move(what));
    return std::move(*this);
  }

  // "context: context: message[: strerror]" in one line.
  std::string describe() const;

 private:
  ErrorKind kind_;
  std::string message_;
  int errno_;
  std::vector<std::string> context_;
};

// An error from the current errno, classified (ENOSPC becomes kNoSpace).
Error errno_error(std::string message, int sys_errno = errno);

template <typename T>
class [[nodiscard]] Result {
 public:
  Result(T value) : v_(std::move(value)) {}  // NOLINT(google-explicit-constructor)
  Result(Error error) : v_(std::move(error)) {}  // NOLINT(google-explicit-constructor)

  bool ok() const { return v_.index() == 0; }
  explicit operator bool() const { return ok(); }

  T& value() & { return std::get<0>(v_); }
  const T& value() const& { return std::get<0>(v_); }
  T&& value() && { return std::get<0>(std::move(v_)); }
  T& operator*() & { return value(); }
  const T& operator*() const& { return value(); }
  T* operator->() { return &value(); }
  const T* operator->() const { return &value(); }

  Error& error() & { return std::get<1>(v_); }
  const Error& error() const& { return std::get<1>(v_); }
  Error&& error() && { return std::get<1>(std::move(v_)); }

 private:
  std::variant<T, Error> v_;
};

// Result<void>: success or an Error.
class [[nodiscard]] Status {
 public:
  Status() = default;
  Status(Error error) : error_(std::move(error)), failed_(true) {}  // NOLINT

  bool ok() const { return !failed_; }
  explicit operator bool() const { return ok(); }
  const Error& error() const& { return error_; }
  Error& error() & { return error_; }
  Error&& error() && { return std::move(error_); }

 private:
  Error error_{ErrorKind::kIo, {}};
  bool failed_ = false;
};

inline Status ok_status() { return {}; }

std::string hex(uint64_t value);

}  // namespace vmc

// Early return on failure, adding no context.
#define VMC_TRY(expr)                                  \
  do {                                                 \
    auto vmc_try_status_ = (expr);                     \
    if (!vmc_try_status_.ok()) return std::move(vmc_try_status_).error(); \
  } while (0)

// Early return on failure, adding one context line.
#define VMC_TRY_CTX(expr, ctx)                                                \
  do {                                                                        \
    auto vmc_try_status_ = (expr);                                            \
    if (!vmc_try_status_.ok()) return std::move(vmc_try_status_).error().add_context(ctx); \
  } while (0)
