// Stubs for library pieces not in the tree yet (see CMakeLists.txt): each one
// fails with a message saying what is missing, never pretends to work.
#include "formats/physical_memory.h"
#include "vmcoreinfo/address_space.h"
#include "vmcoreinfo/dmesg.h"
#include "vmcoreinfo/page_filter.h"

namespace vmc {
namespace {
[[maybe_unused]] Error not_built(const char* what) {
  return Error(ErrorKind::kUnsupported, std::string(what) + " is not built into this vmcollect");
}
}  // namespace

#ifndef VMC_HAVE_FORMATS_OPEN_DUMP
Result<std::unique_ptr<PhysicalMemory>> open_dump(const std::string&, const OpenDumpOptions&) {
  return not_built("reading dumps");
}
#endif
#ifndef VMC_HAVE_VMCOREINFO_PAGE_FILTER
Result<std::unique_ptr<PageFilter>> make_page_filter(PhysicalMemory&, const VmcoreInfo&, int level) {
  return Error(ErrorKind::kUnsupported,
               "dump level " + std::to_string(level) +
                   " needs mem_map filtering, which is not built into this vmcollect yet; "
                   "use -d 0 or -d 1");
}
#endif
#ifndef VMC_HAVE_VMCOREINFO_ADDRESS_SPACE
Result<std::unique_ptr<KernelAddressSpace>> make_x86_64_address_space(PhysicalMemory&, const VmcoreInfo&) {
  return not_built("kernel address translation");
}
Status KernelAddressSpace::read_virtual(uint64_t, std::span<std::byte>) const {
  return not_built("kernel address translation");
}
#endif
#ifndef VMC_HAVE_VMCOREINFO_DMESG
Result<DmesgResult> extract_dmesg(const KernelAddressSpace&, const VmcoreInfo&) {
  return not_built("kernel log extraction");
}
#endif

}  // namespace vmc

