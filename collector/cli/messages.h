// makedumpfile's message levels and streams, which kdump scripts parse:
// common and report text on stdout (stderr when stdout carries a flattened
// dump), errors and progress on stderr. Progress is redrawn in place on a
// terminal and printed a line at a time when TERM=dumb or stderr is a file.
#pragma once

#include <chrono>
#include <cstdint>
#include <cstdio>
#include <optional>
#include <string>

namespace vmc {

inline constexpr int kMlProgress = 1;
inline constexpr int kMlCommon = 2;
inline constexpr int kMlError = 4;
inline constexpr int kMlDebug = 8;
inline constexpr int kMlReport = 16;

// The kernel versions whose layouts vmcollect knows (tests/builder specs from
// RHEL 7's 3.10 to 7.1). Outside them it still runs, as makedumpfile does, and
// says so; the exit status does not change.
inline constexpr uint32_t kOldestKnownKernel = (3 << 16) | (10 << 8);
inline constexpr uint32_t kNewestKnownKernel = (7 << 16) | (1 << 8) | 255;

// makedumpfile's two lines for a kernel outside what it knows ("" inside):
// "The kernel version is not supported.\nThe PROGRAM operation may be incomplete.\n".
std::string kernel_support_notice(std::optional<uint32_t> kernel_version, const std::string& program);

// VMCOREINFO as makedumpfile's debug level shows it: "VMCOREINFO   :" then
// each line indented by two spaces ("  OSRELEASE=...", "  CRASHTIME=...").
std::string vmcoreinfo_debug_text(const std::string& vmcoreinfo);

// text with every control byte but newline and tab written as \xNN: messages
// quote strings from the dump and the -i file (a release, a path), which must
// not move the cursor or retitle the terminal that shows them.
std::string escape_control_bytes(const std::string& text);

class Messenger {
 public:
  Messenger(int level, bool text_to_stderr);
  void common(const std::string& text) const;  // MSG
  void error(const std::string& text) const;   // ERRMSG
  void debug(const std::string& text) const;   // DEBUG_MSG
  void report(const std::string& text) const;  // REPORT_MSG
  // At most once a second unless done == total.
  void progress(const char* what, uint64_t done, uint64_t total);
  void end_progress();

 private:
  void print(std::FILE* stream, int needed, const std::string& text) const;
  int level_;
  std::FILE* text_stream_;
  bool line_mode_;  // no '\r' redraws
  bool progress_open_ = false;
  unsigned lapse_ = 0;
  std::chrono::steady_clock::time_point start_, last_;
};

}  // namespace vmc
