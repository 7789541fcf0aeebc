// The legacy printk buffer (before Linux 3.5): a character ring log_buf of
// log_buf_len bytes, written at log_end (a running count, not wrapped; an
// unsigned long before 2.6.25, unsigned int after). vmcore-dmesg prints the
// last min(log_end, log_buf_len) characters raw, oldest first.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "base/error.h"
#include "vmcoreinfo/arch/address_space.h"
#include "vmcoreinfo/printk/dmesg_result.h"
#include "vmcoreinfo/printk/printk_memory.h"
#include "vmcoreinfo/table/vmcoreinfo.h"

namespace vmc::dmesg {

// The text still held, oldest first: at most two pieces of the ring (the
// part before its end, then the part from its start). Only what was logged
// is read, so a small log in a huge buffer costs its own size.
struct LegacySnapshot {
  std::vector<MemoryImage> pieces;
  std::vector<std::string> warnings;
};

// More than any legacy kernel was booted with (CONFIG_LOG_BUF_SHIFT is at
// most 21, log_buf_len= rarely above 16 MiB); a corrupt log_buf_len up to the
// dump's size would otherwise cost gigabytes of reads. The newest bytes are kept.
inline constexpr uint64_t kMaxLegacyLogBytes = uint64_t{64} << 20;

Result<LegacySnapshot> read_legacy(const KernelAddressSpace& kernel, const VmcoreInfo& info);
DmesgResult decode_legacy(const LegacySnapshot& log);
// Printed whole and raw in every style: the buffer keeps no records and no
// mark of the last `dmesg -c`.
Result<DmesgResult> read_legacy_log(const KernelAddressSpace& kernel, const VmcoreInfo& info,
                                    const DmesgOptions& options = {});

}  // namespace vmc::dmesg
