// Why the layout is chosen by symbols and not by OSRELEASE: distribution
// kernels backport printk changes, and vmcore-dmesg itself decides by which
// VMCOREINFO entries exist (prb, then log_first_idx, then the legacy buffer).
#include "vmcoreinfo/printk/dmesg.h"

#include "vmcoreinfo/printk/printk_legacy.h"
#include "vmcoreinfo/printk/printk_ringbuffer.h"
#include "vmcoreinfo/printk/printk_structured.h"

namespace vmc {

Result<DmesgResult> extract_dmesg(const KernelAddressSpace& kernel, const VmcoreInfo& info,
                                  const DmesgOptions& options) {
  if (info.symbol("prb")) return dmesg::read_lockless_log(kernel, info, options);
  if (info.symbol("log_first_idx")) return dmesg::read_structured_log(kernel, info, options);
  if (info.symbol("log_end")) return dmesg::read_legacy_log(kernel, info, options);
  return Error(ErrorKind::kUnsupported,
               "VMCOREINFO locates no kernel log: it has none of SYMBOL(prb), "
               "SYMBOL(log_first_idx) and SYMBOL(log_end)");
}

}  // namespace vmc
