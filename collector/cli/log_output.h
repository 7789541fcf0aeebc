// --dump-dmesg's output: the log text to LOGFILE or standard output.
#pragma once

#include <string>

#include "base/error.h"
#include "vmcoreinfo/printk/dmesg_result.h"

namespace vmc {

// Writes result.text to path, or to standard output when path is "" or "-".
// A file is created with mode 0600 and an existing one is refused unless
// overwrite (-f), as makedumpfile --dump-dmesg does. Warnings are the caller's
// to print (to stderr).
Status write_dmesg(const DmesgResult& result, const std::string& path, bool overwrite = false);

}  // namespace vmc
