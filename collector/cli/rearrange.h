#pragma once
#include "collector/cli/messages.h"
#include "collector/cli/options.h"
namespace vmc {
// -R: rebuild DUMPFILE from a flattened stream on standard input.
int run_rearrange(const Options& options, Messenger& m);
}  // namespace vmc
