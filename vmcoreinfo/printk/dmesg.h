// The kernel log from a dump, formatted byte for byte as kexec-tools'
// vmcore-dmesg prints it. Three layouts, chosen by which VMCOREINFO entries
// exist: the lockless ring (5.10+, SYMBOL(prb)), the structured log (3.5-5.9,
// SYMBOL(log_first_idx)), and the legacy character buffer (SYMBOL(log_end)).
#pragma once

#include "base/error.h"
#include "vmcoreinfo/arch/address_space.h"
#include "vmcoreinfo/printk/dmesg_result.h"
#include "vmcoreinfo/table/vmcoreinfo.h"

namespace vmc {

// Fails only when no log can be located at all; damaged records are skipped
// and named in warnings.
Result<DmesgResult> extract_dmesg(const KernelAddressSpace& kernel, const VmcoreInfo& info,
                                  const DmesgOptions& options = {});

}  // namespace vmc
