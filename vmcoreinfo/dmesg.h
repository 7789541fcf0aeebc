// The kernel log from a dump, formatted byte for byte as kexec-tools'
// vmcore-dmesg prints it. Three layouts, chosen by which VMCOREINFO entries
// exist: the lockless ring (5.10+, SYMBOL(prb)), the structured log (3.5-5.9,
// SYMBOL(log_first_idx)), and the legacy character buffer (SYMBOL(log_end)).
#pragma once

#include <string>
#include <vector>

#include "formats/error.h"
#include "vmcoreinfo/address_space.h"
#include "vmcoreinfo/vmcoreinfo.h"

namespace vmc {

struct DmesgResult {
  std::string text;                   // what vmcore-dmesg would print
  std::vector<std::string> warnings;  // skipped or damaged records, with where
};

// Fails only when no log can be located at all; damaged records are skipped
// and named in warnings.
Result<DmesgResult> extract_dmesg(const KernelAddressSpace& kernel, const VmcoreInfo& info);

// Writes result.text to path, or to standard output when path is "" or "-".
// A file is created with mode 0600 and an existing one is refused unless
// overwrite (-f), as makedumpfile --dump-dmesg does. Warnings are the caller's
// to print (to stderr).
Status write_dmesg(const DmesgResult& result, const std::string& path, bool overwrite = false);

}  // namespace vmc
