// One place that turns a parsed command line into work and an exit status, and
// that prints every error (with its context chain) as makedumpfile would.
#pragma once

#include <atomic>

#include "collector/cli/messages.h"
#include "collector/cli/options.h"

namespace vmc {

// makedumpfile's exit statuses, which kdump scripts test.
inline constexpr int kExitCompleted = 0;
inline constexpr int kExitFailed = 1;
inline constexpr int kExitMismatch = 2;  // -i VMCOREINFO from another kernel release

// cancel: set to a signal number by the CLI's handler; the dump stops cleanly.
int run(const Options& options, const std::atomic<int>* cancel);

}  // namespace vmc
