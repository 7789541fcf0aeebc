#include "vmcoreinfo/utsname.h"

#include <array>
#include <cstddef>
#include <cstring>

namespace vmc {
namespace {

constexpr size_t kUtsField = 65;  // __NEW_UTS_LEN + 1
constexpr size_t kUtsFields = 6;  // struct new_utsname
// Before 5.11 (9a56493f6942), struct uts_namespace began with a struct kref.
constexpr uint64_t kNameOffsetBefore511 = 4;

using RawUtsname = std::array<std::byte, kUtsField * kUtsFields>;

std::string field(const RawUtsname& raw, size_t index) {
  const char* p = reinterpret_cast<const char*>(raw.data()) + index * kUtsField;
  return std::string(p, strnlen(p, kUtsField - 1));
}

}  // namespace

Result<KernelUtsname> read_kernel_utsname(const KernelAddressSpace& kernel, const VmcoreInfo& info) {
  auto base = info.require_symbol("init_uts_ns");
  if (!base) return std::move(base).error();
  uint64_t vaddr = *base + info.offset("uts_namespace.name").value_or(kNameOffsetBefore511);
  RawUtsname raw{};
  VMC_TRY_CTX(kernel.read_virtual(vaddr, raw), "reading init_uts_ns.name at " + hex(vaddr));
  KernelUtsname u{field(raw, 0), field(raw, 1), field(raw, 2), field(raw, 3), field(raw, 4), field(raw, 5)};
  if (u.sysname != "Linux" || u.release.empty() || u.release != info.osrelease()) {
    return Error(ErrorKind::kBadInput, "init_uts_ns.name at " + hex(vaddr) + " reads as \"" + u.sysname +
                                           "\" release \"" + u.release + "\", not this kernel's uname (release " +
                                           info.osrelease() + ")");
  }
  return u;
}

}  // namespace vmc
