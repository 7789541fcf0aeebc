#include "collector/cli/messages.h"

#include <unistd.h>

#include <cstdlib>
#include <cstring>

namespace vmc {
namespace {

std::string eta_text(uint64_t secs) {
  uint64_t minutes = secs / 60, hours = minutes / 60, days = hours / 24;
  char buf[32];
  if (secs < 100) std::snprintf(buf, sizeof buf, "eta: %llus", (unsigned long long)secs);
  else if (minutes < 100) std::snprintf(buf, sizeof buf, "eta: %llum%llus", (unsigned long long)minutes, (unsigned long long)(secs % 60));
  else if (hours < 48) std::snprintf(buf, sizeof buf, "eta: %lluh%llum", (unsigned long long)hours, (unsigned long long)(minutes % 60));
  else if (days < 100) std::snprintf(buf, sizeof buf, "eta: %llud%lluh", (unsigned long long)days, (unsigned long long)(hours % 24));
  else std::snprintf(buf, sizeof buf, "eta: >100day");
  return buf;
}

}  // namespace

std::string kernel_support_notice(std::optional<uint32_t> kernel_version, const std::string& program) {
  if (!kernel_version) return "";
  if (*kernel_version >= kOldestKnownKernel && *kernel_version <= kNewestKnownKernel) return "";
  return "The kernel version is not supported.\nThe " + program + " operation may be incomplete.\n";
}

std::string vmcoreinfo_debug_text(const std::string& vmcoreinfo) {
  std::string out = "VMCOREINFO   :\n";
  size_t pos = 0;
  while (pos < vmcoreinfo.size()) {
    size_t nl = vmcoreinfo.find('\n', pos);
    if (nl == std::string::npos) nl = vmcoreinfo.size();
    if (nl > pos) out += "  " + vmcoreinfo.substr(pos, nl - pos) + "\n";
    pos = nl + 1;
  }
  return out + "\n";
}

Messenger::Messenger(int level, bool text_to_stderr)
    : level_(level), text_stream_(text_to_stderr ? stderr : stdout) {
  const char* term = std::getenv("TERM");
  line_mode_ = !::isatty(STDERR_FILENO) || (term != nullptr && std::strcmp(term, "dumb") == 0);
  start_ = last_ = std::chrono::steady_clock::now();
}

std::string escape_control_bytes(const std::string& text) {
  std::string out;
  out.reserve(text.size());
  for (char ch : text) {
    auto c = static_cast<unsigned char>(ch);
    if ((c >= 0x20 && c != 0x7f) || c == '\n' || c == '\t') {
      out += ch;
      continue;
    }
    char escaped[5];
    std::snprintf(escaped, sizeof escaped, "\\x%02x", c);
    out += escaped;
  }
  return out;
}

void Messenger::print(std::FILE* stream, int needed, const std::string& text) const {
  if ((level_ & needed) == 0) return;
  std::fputs(escape_control_bytes(text).c_str(), stream);
  std::fflush(stream);
}

void Messenger::common(const std::string& text) const { print(text_stream_, kMlCommon, text); }
void Messenger::error(const std::string& text) const { print(stderr, kMlError, text); }
void Messenger::debug(const std::string& text) const { print(text_stream_, kMlDebug, text); }
void Messenger::report(const std::string& text) const { print(text_stream_, kMlReport, text); }

void Messenger::progress(const char* what, uint64_t done, uint64_t total) {
  if ((level_ & kMlProgress) == 0) return;
  auto now = std::chrono::steady_clock::now();
  if (!progress_open_) start_ = now;
  if (done < total && progress_open_ && now - last_ < std::chrono::seconds(1)) return;
  last_ = now;
  progress_open_ = true;
  unsigned permille = total == 0 ? 1000 : static_cast<unsigned>(done * 1000 / total);
  std::string eta = " ";
  double elapsed = std::chrono::duration<double>(now - start_).count();
  if (permille != 0) {
    eta = eta_text(static_cast<uint64_t>(elapsed * 1000 / permille - elapsed));
  }
  static const char kSpinner[] = "/|\\-";
  std::fprintf(stderr, "%s%-50s: [%3u.%u %%] %c  %16s%s", line_mode_ ? "" : "\r", what,
               permille / 10, permille % 10, kSpinner[lapse_++ % 4], eta.c_str(),
               line_mode_ ? "\n" : "");
  std::fflush(stderr);
}

void Messenger::end_progress() {
  if (progress_open_ && !line_mode_ && (level_ & kMlProgress)) std::fputs("\n", stderr);
  progress_open_ = false;
}

}  // namespace vmc
