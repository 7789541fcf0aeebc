// The kernel's struct new_utsname (include/uapi/linux/utsname.h, unchanged
// since 2.6): what init_uts_ns.name holds in the dead kernel's memory, and
// what the kdump header embeds byte for byte. Shared by the kernel model,
// which reads it, and the kdump format, which stores it.
#pragma once

#include "base/fixed_string.h"

namespace vmc {

struct NewUtsname {
  char sysname[65];
  char nodename[65];
  char release[65];
  char version[65];
  char machine[65];
  char domainname[65];
};
static_assert(sizeof(NewUtsname) == 390);

}  // namespace vmc
