#pragma once
#include <atomic>

#include "collector/cli/messages.h"
#include "collector/cli/options.h"
namespace vmc {
// -R: rebuild DUMPFILE from a flattened stream on standard input. DUMPFILE
// may be a block device (with -f): a raw disk that stores the stream. cancel:
// a signal number once SIGINT or SIGTERM came, which stops a wait on the pipe.
int run_rearrange(const Options& options, const std::atomic<int>* cancel, Messenger& m);
}  // namespace vmc
