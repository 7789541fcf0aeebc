// Why the layout is chosen by symbols and not by OSRELEASE: distribution
// kernels backport printk changes, and vmcore-dmesg itself decides by which
// VMCOREINFO entries exist (prb, then log_first_idx, then the legacy buffer).
#include "vmcoreinfo/dmesg.h"

#include <span>

#include "formats/io.h"
#include "vmcoreinfo/printk_legacy.h"
#include "vmcoreinfo/printk_ringbuffer.h"
#include "vmcoreinfo/printk_structured.h"

namespace vmc {

Result<DmesgResult> extract_dmesg(const KernelAddressSpace& kernel, const VmcoreInfo& info) {
  if (info.symbol("prb")) return dmesg::read_lockless_log(kernel, info);
  if (info.symbol("log_first_idx")) return dmesg::read_structured_log(kernel, info);
  if (info.symbol("log_end")) return dmesg::read_legacy_log(kernel, info);
  return Error(ErrorKind::kUnsupported,
               "VMCOREINFO locates no kernel log: it has none of SYMBOL(prb), "
               "SYMBOL(log_first_idx) and SYMBOL(log_end)");
}

Status write_dmesg(const DmesgResult& result, const std::string& path, bool overwrite) {
  std::unique_ptr<io::OutputFile> out;
  if (path.empty() || path == "-") {
    out = io::stdout_output();
  } else {
    auto created = io::create_output(path, io::CreateOutputOptions{.overwrite = overwrite});
    if (!created.ok()) return std::move(created).error();
    out = std::move(created).value();
  }
  auto bytes = std::as_bytes(std::span(result.text.data(), result.text.size()));
  VMC_TRY_CTX(out->write_at(0, bytes), "writing the kernel log to " + out->name());
  VMC_TRY_CTX(out->finish(), "writing the kernel log to " + out->name());
  return {};
}

}  // namespace vmc
