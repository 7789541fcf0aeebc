#include "vmcoreinfo/kernel/utsname.h"

#include <cstddef>
#include <span>

#include "base/new_utsname.h"

namespace vmc {
namespace {

// Before 5.11 (9a56493f6942), struct uts_namespace began with a struct kref.
constexpr uint64_t kNameOffsetBefore511 = 4;

}  // namespace

Result<KernelUtsname> read_kernel_utsname(const KernelAddressSpace& kernel, const VmcoreInfo& info) {
  auto base = info.require_symbol("init_uts_ns");
  if (!base) return std::move(base).error();
  uint64_t vaddr = *base + info.offset("uts_namespace.name").value_or(kNameOffsetBefore511);
  NewUtsname raw{};
  VMC_TRY_CTX(kernel.read_virtual(vaddr, std::as_writable_bytes(std::span(&raw, 1))),
              "reading init_uts_ns.name at " + hex(vaddr));
  KernelUtsname u{nul_padded_string(raw.sysname), nul_padded_string(raw.nodename), nul_padded_string(raw.release),
                  nul_padded_string(raw.version), nul_padded_string(raw.machine), nul_padded_string(raw.domainname)};
  if (u.sysname != "Linux" || u.release.empty() || u.release != info.osrelease()) {
    return Error(ErrorKind::kBadInput, "init_uts_ns.name at " + hex(vaddr) + " reads as \"" + u.sysname +
                                           "\" release \"" + u.release + "\", not this kernel's uname (release " +
                                           info.osrelease() + ")");
  }
  return u;
}

}  // namespace vmc
