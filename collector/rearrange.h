#pragma once
#include "collector/messages.h"
#include "collector/options.h"
namespace vmc {
// -R: rebuild DUMPFILE from a flattened stream on standard input.
int run_rearrange(const Options& options, Messenger& m);
}  // namespace vmc
