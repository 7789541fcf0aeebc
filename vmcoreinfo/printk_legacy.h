// The legacy printk buffer (before Linux 3.5): a character ring log_buf of
// log_buf_len bytes, written at log_end (a running count, not wrapped; an
// unsigned long before 2.6.25, unsigned int after). vmcore-dmesg prints the
// last min(log_end, log_buf_len) characters raw, oldest first.
#pragma once

#include <cstdint>
#include <string>

#include "formats/error.h"
#include "vmcoreinfo/address_space.h"
#include "vmcoreinfo/dmesg.h"
#include "vmcoreinfo/printk_memory.h"
#include "vmcoreinfo/vmcoreinfo.h"

namespace vmc::dmesg {

struct LegacySnapshot {
  uint32_t log_end = 0;  // the low 32 bits, as vmcore-dmesg reads it
  MemoryImage buf;       // log_buf_len bytes at *log_buf
};

Result<LegacySnapshot> read_legacy(const KernelAddressSpace& kernel, const VmcoreInfo& info);
DmesgResult decode_legacy(const LegacySnapshot& log);
Result<DmesgResult> read_legacy_log(const KernelAddressSpace& kernel, const VmcoreInfo& info);

}  // namespace vmc::dmesg
