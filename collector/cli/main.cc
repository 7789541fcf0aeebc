// The vmcollect binary: a thin layer over the library. Invoked as
// "makedumpfile" it speaks makedumpfile's interface (names in messages), as
// "vmcore-dmesg" it prints the kernel log of one dump to standard output.
#include <algorithm>
#include <atomic>
#include <csignal>
#include <cstdio>
#include <cstring>
#include <string>
#include <vector>

#include "collector/cli/options.h"
#include "collector/cli/run.h"
#include "collector/cli/vmcore_dmesg.h"

namespace {

// The only mutable global: a signal handler can reach nothing else.
std::atomic<int> g_signal{0};

void on_signal(int sig) { g_signal.store(sig); }

std::string basename_of(const char* path) {
  const char* slash = std::strrchr(path, '/');
  return slash ? slash + 1 : path;
}

}  // namespace

int main(int argc, char** argv) {
  std::string program = basename_of(argv[0]);
  std::vector<std::string> args(argv + 1, argv + argc);
  if (program == "vmcore-dmesg") {
    // kexec-tools' form: vmcore-dmesg VMCORE, log on stdout.
    if (auto status = vmc::vmcore_dmesg_precheck(argv[0], args)) return *status;
    args.insert(args.begin(), {"--dump-dmesg", "-F", "--message-level", "4"});
  } else if (program != "makedumpfile") {
    program = "vmcollect";
  }
  auto options = vmc::parse_options(program, args);
  if (!options) {
    std::fprintf(stderr, "%s: %s\n", program.c_str(), options.error().describe().c_str());
    std::fprintf(stderr, "Commandline parameter is invalid.\nTry `%s --help' for more information.\n",
                 program.c_str());
    // makedumpfile --check-params answers with its exit status and no closing line.
    bool check_only = std::find(args.begin(), args.end(), "--check-params") != args.end();
    if (!check_only) {
      std::fprintf(vmc::asks_for_flattened_stdout(args) ? stderr : stdout, "\n%s Failed.\n", program.c_str());
    }
    return vmc::kExitFailed;
  }
  // --check-params checks the command line only: mkdumprd runs it while
  // building the capture initramfs, where VMCORE (/proc/vmcore) does not exist.
  if (options->check_params) return vmc::kExitCompleted;
  struct sigaction sa {};
  sa.sa_handler = on_signal;
  sigaction(SIGINT, &sa, nullptr);
  sigaction(SIGTERM, &sa, nullptr);
  std::signal(SIGPIPE, SIG_IGN);  // a closed pipe is an EPIPE write error, reported
  return vmc::run(*options, &g_signal);
}
