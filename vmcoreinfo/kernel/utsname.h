// The dead kernel's uname (init_uts_ns.name), for the kdump header. makedumpfile
// fills the header's utsname from it, and readers rely on it: libkdumpfile
// takes a header utsname only when release, version and machine are all set,
// and otherwise knows no architecture (drgn then cannot open the dump).
#pragma once

#include <string>

#include "base/error.h"
#include "vmcoreinfo/arch/address_space.h"
#include "vmcoreinfo/table/vmcoreinfo.h"

namespace vmc {

struct KernelUtsname {
  std::string sysname, nodename, release, version, machine, domainname;
};

// Reads SYMBOL(init_uts_ns) + OFFSET(uts_namespace.name) (5.11+); kernels
// before 5.11 give no offset, and a struct kref precedes the name there.
// Fails unless what it read says "Linux" and matches VMCOREINFO's OSRELEASE,
// so a wrong offset or an unreadable page never reaches a header.
Result<KernelUtsname> read_kernel_utsname(const KernelAddressSpace& kernel, const VmcoreInfo& info);

}  // namespace vmc
